/**
 * Light and dark themes in headless Chromium, against a real hub: a context with
 * `colorScheme: 'light'` gets a light page (app background, heatmap canvas in the light palette,
 * chart axes from the light variables) and one with `'dark'` a dark page; a switch of the system's
 * scheme while the page is open redraws the heatmap. Screenshots: test-artifacts/theme-light.png,
 * theme-dark.png (and -tiles, -chip for the tiles and a chip's charts).
 */
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { ensureClientBuilt } from '../../cli/client-build.ts';
import { silentLogger } from '../../common/logger.ts';
import { evalDeep, launchChromiumBrowser } from '../helpers/browser.ts';
import { batch, chipInfo, hello, sample } from '../helpers/frames.ts';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';
import type { TestSocket } from '../helpers/ws-client.ts';

const ARTIFACTS = 'test-artifacts';
let hub: TestHub;
let hand: TestSocket;
let handTimer: ReturnType<typeof setInterval>;
let browser: Browser;
const base = () => hub.url.replace('localhost', '127.0.0.1');

/** The "no reading" colour of heatmap-draw.ts's themes (RGB), drawn for a live chip without temperature. */
const NO_READING = { light: '201,206,214', dark: '58,65,77' };

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  await ensureClientBuilt(silentLogger);
  hub = await startTestHub();
  hand = await hub.ws('/ws/agent');
  const ids = ['GPU-t0', 'GPU-t1', 'GPU-t2', 'GPU-t3', 'GPU-cold'];
  hand.send(hello('theme-agent', ids.map((chipId, i) => chipInfo(i, { chipId })), { intervalMs: 200, host: { hostname: 'p5-theme-1', instanceId: null, instanceType: 'p5.48xlarge' } }));
  await hand.waitFor((f) => f.type === 'welcome');
  let seq = 0;
  const send = () => {
    const now = Date.now();
    hand.send(batch(seq++, ids.map((id, i) => sample(id, now, id === 'GPU-cold' ? { tempC: null } : { utilPct: 20 * i + 5, tempC: 40 + 10 * i }))));
  };
  send();
  handTimer = setInterval(send, 200);
  browser = await launchChromiumBrowser();
}, 60_000);

afterAll(async () => {
  clearInterval(handTimer);
  hand?.close();
  await browser?.close();
  await hub?.stop();
});

async function themedPage(colorScheme: 'light' | 'dark'): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ colorScheme, viewport: { width: 1400, height: 900 } });
  const res = await context.request.post(`${base()}/api/v1/session`, { data: { token: hub.token.viewer } });
  expect(res.ok()).toBe(true);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { page, errors };
}

/** Relative luminance (0 dark … 1 light) of a CSS `rgb(…)` colour. */
function luminance(css: string): number {
  const [r, g, b] = (css.match(/[\d.]+/g) ?? []).slice(0, 3).map((v) => Number(v) / 255);
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

const appBackground = (page: Page) => page.evaluate(() => getComputedStyle(document.querySelector('fleet-app')!).backgroundColor);

/** The heatmap (inside the app's shadow roots), with its theme, redraw count and a chip's cell colours. */
function heatmapState(page: Page, chipId: string) {
  return evalDeep(page, 'fleet-heatmap', (hm: any, id: string) => {
    const info = hm.cellInfo(id);
    if (!info) return null;
    const canvas = hm.shadowRoot.querySelector('canvas') as HTMLCanvasElement;
    const dpr = canvas.width / canvas.clientWidth;
    const d = canvas.getContext('2d')!.getImageData(Math.floor((info.x + info.size / 2) * dpr), Math.floor((info.y + info.size / 2) * dpr), 1, 1).data;
    return { theme: hm.getAttribute('theme') as string, draws: Number(hm.dataset.draws), kind: info.kind as string, pixel: `${d[0]},${d[1]},${d[2]}` };
  }, chipId);
}

/** The stroke colour uPlot was given for the x axis of the first chart in the chip view. */
function chartAxisStroke(page: Page) {
  return page.evaluate(() => {
    const detail = document.querySelector('fleet-app')!.shadowRoot!.querySelector('chip-detail')!;
    const chart = detail.shadowRoot!.querySelector('uplot-chart') as any;
    const axis = chart?.uplot?.axes?.[0];
    return axis ? String(typeof axis.stroke === 'function' ? axis.stroke(chart.uplot, 0) : axis.stroke) : null;
  });
}

describe('themes follow the system', () => {
  for (const scheme of ['light', 'dark'] as const) {
    it(`${scheme}: the app, the heatmap and the charts are ${scheme}`, async () => {
      const { page, errors } = await themedPage(scheme);
      await page.goto(`${base()}/#/?metric=temp&density=heatmap`);
      await expect.poll(async () => (await heatmapState(page, 'GPU-cold'))?.kind, { timeout: 15_000 }).toBe('no-reading');
      const bg = luminance(await appBackground(page));
      if (scheme === 'light') expect(bg).toBeGreaterThan(0.8);
      else expect(bg).toBeLessThan(0.1);
      const hm = (await heatmapState(page, 'GPU-cold'))!;
      expect(hm.theme).toBe(scheme);
      expect(hm.pixel).toBe(NO_READING[scheme]);
      await page.screenshot({ path: `${ARTIFACTS}/theme-${scheme}.png` });
      await page.goto(`${base()}/#/?density=tiles`);
      await page.locator('chip-tile').first().waitFor({ timeout: 10_000 });
      await page.screenshot({ path: `${ARTIFACTS}/theme-${scheme}-tiles.png` });

      await page.goto(`${base()}/#/chip/GPU-t2`);
      await expect.poll(() => chartAxisStroke(page), { timeout: 10_000 }).not.toBeNull();
      const axis = luminance((await chartAxisStroke(page))!.replace(/^#(..)(..)(..)$/, (_m, r, g, b) => `rgb(${parseInt(r, 16)},${parseInt(g, 16)},${parseInt(b, 16)})`));
      // axis labels contrast with the background: dark on light, light on dark
      if (scheme === 'light') expect(axis).toBeLessThan(0.5);
      else expect(axis).toBeGreaterThan(0.5);
      await page.waitForTimeout(1500);
      await page.screenshot({ path: `${ARTIFACTS}/theme-${scheme}-chip.png` });
      expect(errors).toEqual([]);
      await page.context().close();
    }, 40_000);
  }

  it('redraws the heatmap in the other palette when the system switches', async () => {
    const { page, errors } = await themedPage('dark');
    await page.goto(`${base()}/#/?metric=temp&density=heatmap`);
    await expect.poll(async () => (await heatmapState(page, 'GPU-cold'))?.pixel, { timeout: 15_000 }).toBe(NO_READING.dark);
    const darkBg = await appBackground(page);
    await page.emulateMedia({ colorScheme: 'light' });
    await expect.poll(async () => (await heatmapState(page, 'GPU-cold'))?.pixel, { timeout: 10_000 }).toBe(NO_READING.light);
    expect((await heatmapState(page, 'GPU-cold'))!.theme).toBe('light');
    const lightBg = await appBackground(page);
    expect(lightBg).not.toBe(darkBg);
    expect(luminance(lightBg)).toBeGreaterThan(0.8);
    expect(errors).toEqual([]);
    await page.context().close();
  }, 40_000);
});
