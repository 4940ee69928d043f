/**
 * The chip view's range and zoomed span in the URL, in headless Chromium against a real hub: a
 * range pick and a drag-zoom each push a history entry (`#/chip/<id>?range=1h&from=…&to=…`), a
 * reload of that URL reads the same span from /api/v1/series (same from/to), and Back returns to
 * the whole range.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { openChipPage, watchSeries, type ChipPage } from '../helpers/chip-page.ts';
import type { TestHub } from '../helpers/test-hub.ts';

let cp: ChipPage;
let hub: TestHub;
let browser: BrowserContext;
const base = () => cp.base;

beforeAll(async () => {
  cp = await openChipPage({ agentId: 'url-agent', chipId: 'GPU-url', hostname: 'p5-url-1', intervalMs: 200, live: (n) => ({ utilPct: 10 + (n % 50) }) });
  ({ hub, browser } = cp);
}, 60_000);

afterAll(async () => {
  await cp?.stop();
});


const span = (u: string) => /from=([^&]+)&to=([^&]+)/.exec(u)!.slice(1).join(' – ');

describe('chip view state in the URL', () => {
  it('puts the range and a zoom in the hash; a reload shows the same span; Back unzooms', async () => {
    const page = await browser.newPage();
    await page.setViewportSize({ width: 1400, height: 900 });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const hash = () => page.evaluate(() => location.hash);
    const caption = page.locator('[data-testid="history-caption"]');

    await page.goto(`${base()}/#/chip/GPU-url`);
    await page.locator('[data-testid="range-1h"]').click();
    await expect.poll(hash, { timeout: 10_000 }).toBe('#/chip/GPU-url?range=1h');
    await expect.poll(() => caption.getAttribute('data-state'), { timeout: 15_000 }).toBe('ok');

    const over = (await page.locator('[data-testid="chart-util"] .u-over').boundingBox())!;
    const y = over.y + over.height / 2;
    await page.mouse.move(over.x + over.width * 0.3, y);
    await page.mouse.down();
    await page.mouse.move(over.x + over.width * 0.55, y, { steps: 4 });
    await page.mouse.move(over.x + over.width * 0.8, y, { steps: 4 });
    await page.mouse.up();
    await expect.poll(hash, { timeout: 10_000 }).toMatch(/^#\/chip\/GPU-url\?range=1h&from=\d+&to=\d+$/);
    const zoomedHash = await hash();
    const [, from, to] = /from=(\d+)&to=(\d+)/.exec(zoomedHash)!.map(Number);
    expect((to - from) / 3_600_000).toBeGreaterThan(0.4);
    expect((to - from) / 3_600_000).toBeLessThan(0.6);
    await expect.poll(() => caption.getAttribute('data-zoomed'), { timeout: 10_000 }).toBe('true');

    // A fresh page from that URL: the same span is read and shown.
    const again = await browser.newPage();
    const series = watchSeries(again);
    await again.goto(`${base()}/${zoomedHash}`);
    const captionAgain = again.locator('[data-testid="history-caption"]');
    await expect.poll(() => captionAgain.getAttribute('data-state'), { timeout: 15_000 }).toBe('ok');
    expect(await captionAgain.getAttribute('data-zoomed')).toBe('true');
    expect(await again.locator('chip-detail').getAttribute('range')).toBe('1h');
    expect(series.length).toBeGreaterThan(0);
    expect(series.every((u) => span(u) === `${from} – ${to}`)).toBe(true);
    expect(series[0]).toContain('maxPoints=800');
    // uPlot's x scale is on the zoomed span (s)
    const xScale = await again.evaluate(() => {
      const detail = document.querySelector('fleet-app')!.shadowRoot!.querySelector('chip-detail')!;
      const chart = detail.shadowRoot!.querySelector('chip-history')!.shadowRoot!.querySelector('[data-testid="chart-util"]') as any;
      return [chart.uplot.scales.x.min, chart.uplot.scales.x.max];
    });
    expect(xScale[0]).toBeGreaterThanOrEqual(from / 1000 - 60);
    expect(xScale[1]).toBeLessThanOrEqual(to / 1000 + 60);
    await again.close();

    // Back: the whole hour again, read as now-1h.
    const back = watchSeries(page);
    await page.goBack();
    await expect.poll(hash, { timeout: 10_000 }).toBe('#/chip/GPU-url?range=1h');
    await expect.poll(() => caption.getAttribute('data-zoomed'), { timeout: 10_000 }).toBe('false');
    await expect.poll(() => back.some((u) => u.includes('from=now-1h&to=now')), { timeout: 10_000 }).toBe(true);
    // Back again: Live.
    await page.goBack();
    await expect.poll(hash, { timeout: 10_000 }).toBe('#/chip/GPU-url');
    await expect.poll(() => page.locator('[data-testid="range-live"]').getAttribute('aria-pressed'), { timeout: 10_000 }).toBe('true');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
