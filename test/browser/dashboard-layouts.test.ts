/**
 * Audit (issue 20, "layouts laptop to 4K"): the fleet view with a made-up fleet of 1,000 and
 * 10,000 chips at a laptop, Full HD, QHD and 4K window. At every size the page has no horizontal
 * scroll and the heatmap canvas stays inside the window's width; at Full HD and above every one of
 * the 10,000 chips is drawn inside the window (no vertical scroll needed). Screenshots go to
 * test-artifacts/layout-<w>x<h>-<n>.png.
 */
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import type { ChipView } from '../../schema/protocol.ts';
import { ensureClientBuilt } from '../../cli/client-build.ts';
import { silentLogger } from '../../common/logger.ts';
import { launchChromium, signIn } from '../helpers/browser.ts';
import { syntheticFleet } from '../helpers/synthetic-fleet.ts';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';

const ARTIFACTS = 'test-artifacts';
let hub: TestHub;
let browser: BrowserContext;
const base = () => hub.url.replace('localhost', '127.0.0.1');

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  await ensureClientBuilt(silentLogger);
  hub = await startTestHub();
  browser = await launchChromium();
  await signIn(browser, base(), hub.token.viewer);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await hub?.stop();
});

/** Replaces the app's fleet view by a standalone `<fleet-view>` with `chips` (as fleet-heatmap.test.ts does). */
async function mountView(page: Page, chips: ChipView[]): Promise<void> {
  await page.evaluate((chips) => {
    document.querySelector('fleet-app')?.remove();
    let v = document.querySelector('fleet-view') as any;
    if (!v) {
      v = document.createElement('fleet-view');
      v.style.fontFamily = 'system-ui, sans-serif';
      v.addEventListener('view-change', (e: CustomEvent) => (v.state = e.detail));
      document.body.append(v);
    }
    v.loaded = true;
    v.chips = chips;
  }, chips);
}

const SIZES: [string, number, number][] = [
  ['laptop', 1366, 768],
  ['full HD', 1920, 1080],
  ['QHD', 2560, 1440],
  ['4K', 3840, 2160],
];

describe('fleet heatmap layouts from laptop to 4K', () => {
  it.each(SIZES)('%s (%ix%i): no horizontal scroll; 10,000 chips fit the window from Full HD up', async (_name, width, height) => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.setViewportSize({ width, height });
    await page.goto(`${base()}/#/`);
    await page.locator('fleet-app').waitFor();
    for (const n of [1_000, 10_000]) {
      const fleet = syntheticFleet(n, { seed: 11 });
      await mountView(page, fleet);
      const hm = page.locator('fleet-heatmap');
      await expect.poll(async () => Number(await hm.getAttribute('data-chips')), { timeout: 15_000 }).toBe(fleet.length);
      await expect.poll(async () => Number((await hm.getAttribute('data-draws')) ?? 0), { timeout: 15_000 }).toBeGreaterThan(0);
      const box = (await page.locator('fleet-heatmap canvas').boundingBox())!;
      const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(scrollWidth, 'page scrolls sideways').toBeLessThanOrEqual(width);
      expect(box.x + box.width).toBeLessThanOrEqual(width);
      const cell = Number(await hm.getAttribute('data-cell'));
      expect(cell).toBeGreaterThanOrEqual(n === 1_000 ? 8 : 3);
      if (width >= 1920) expect(box.y + box.height, `${n} chips fit ${width}x${height}`).toBeLessThanOrEqual(height);
      await page.screenshot({ path: `${ARTIFACTS}/layout-${width}x${height}-${n}.png` });
    }
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
