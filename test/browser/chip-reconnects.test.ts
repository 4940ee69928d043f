/**
 * Agent reconnects on a chip's time axis, in headless Chromium against a real hub: with the chip
 * view open, its agent (a ws test client sending a sample a second) disconnects for 5 s and
 * reconnects; the live view's legend then counts two connects and one disconnect, and the
 * reconnect's teal line is painted on the chart where it happened; the 1 h range (chip-history)
 * marks them too, and zoomed to the minute around the reconnect its line is on the chart.
 * Screenshots: test-artifacts/chip-reconnect.png (live), chip-reconnect-1h.png, chip-reconnect-zoomed.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import type { Sample } from '../../schema/sample.ts';
import { ARTIFACTS, openChipPage, type ChipPage } from '../helpers/chip-page.ts';
import { sample } from '../helpers/frames.ts';
import type { TestHub } from '../helpers/test-hub.ts';
import { eventually } from '../helpers/ws-client.ts';

const CHIP = 'GPU-rc';
let cp: ChipPage;
let hub: TestHub;
let browser: BrowserContext;
const base = () => cp.base;

beforeAll(async () => {
  const t0 = Date.now();
  const history: Sample[] = [];
  for (let ts = t0 - 60_000; ts <= t0; ts += 1000) history.push(sample(CHIP, ts, { utilPct: 40 }));
  cp = await openChipPage({ agentId: 'rc-agent', chipId: CHIP, hostname: 'p5-rc-1', intervalMs: 1000, history });
  ({ hub, browser } = cp);
}, 60_000);

afterAll(async () => {
  await cp?.stop();
});

/** The colour painted on a chart at time `ms`, near the top of the plot (where the 40 % line is not). */
function pixelAt(page: Page, host: 'chip-detail' | 'chip-history', ms: number): Promise<number[]> {
  return page.evaluate(
    ({ host, ms }) => {
      const detail = document.querySelector('fleet-app')!.shadowRoot!.querySelector('chip-detail')!;
      const root = host === 'chip-detail' ? detail.shadowRoot! : detail.shadowRoot!.querySelector('chip-history')!.shadowRoot!;
      const u = (root.querySelector('[data-testid="chart-util"]') as any).uplot;
      const ctx = u.ctx as CanvasRenderingContext2D;
      const x = Math.round(u.valToPos(ms / 1000, 'x', true));
      const y = Math.round(u.bbox.top + u.bbox.height * 0.1);
      // the brightest-green pixel of three columns around the line (anti-aliasing)
      let best = [0, 0, 0];
      for (const dx of [-1, 0, 1]) {
        const d = Array.from(ctx.getImageData(x + dx, y, 1, 1).data.slice(0, 3));
        if (d[1] - d[0] > best[1] - best[0]) best = d;
      }
      return best;
    },
    { host, ms },
  );
}

const teal = (p: number[]) => p[1] > 100 && p[1] - p[0] > 60 && p[1] - p[2] > 5;

describe('agent reconnects on the chip time axis', () => {
  it('draws a reconnect mark after the agent reconnects, keyed in the legend beside gaps, late samples and alerts', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base()}/#/chip/${CHIP}`);
    const reconnect = page.locator('[data-testid="legend-reconnect"]');
    const disconnect = page.locator('[data-testid="legend-disconnect"]');
    await expect.poll(() => reconnect.getAttribute('data-count'), { timeout: 15_000 }).toBe('1');
    expect(await disconnect.getAttribute('data-count')).toBe('0');
    await page.waitForTimeout(3000);

    // The agent goes for 5 s and comes back while the view is open.
    await cp.disconnect();
    await page.waitForTimeout(5000);
    await cp.connect();
    let events: any[] = [];
    await eventually(async () => {
      events = (await hub.get(`/api/v1/chips/${CHIP}/events?from=0`)).body.events;
      return events.length === 3;
    }, 5000, 'three events');
    expect(events.map((e) => e.kind)).toEqual(['connected', 'disconnected', 'connected']);
    const back = events[2].ts;

    await expect.poll(() => reconnect.getAttribute('data-count'), { timeout: 15_000 }).toBe('2');
    expect(await disconnect.getAttribute('data-count')).toBe('1');
    // A couple of samples after the reconnect, so the line is inside the plotted span.
    await page.waitForTimeout(2500);
    const onLine = await pixelAt(page, 'chip-detail', back);
    const before = await pixelAt(page, 'chip-detail', back - 7_500);
    expect(teal(onLine), `reconnect line ${onLine}`).toBe(true);
    expect(teal(before), `no line at ${before}`).toBe(false);
    expect(await page.locator('[data-testid="legend-gap"]').count()).toBe(1);
    await page.screenshot({ path: `${ARTIFACTS}/chip-reconnect.png` });

    // A past range reads the events with its history.
    await page.goto(`${base()}/#/chip/${CHIP}?range=1h`);
    await expect.poll(() => reconnect.getAttribute('data-count'), { timeout: 15_000 }).toBe('2');
    expect(await disconnect.getAttribute('data-count')).toBe('1');
    await page.screenshot({ path: `${ARTIFACTS}/chip-reconnect-1h.png` });
    // Zoomed to the minute around it (from/to in the URL, as a drag-zoom): the reconnect's line is on the chart.
    // (The x axis ends at the newest bucket's start, 10 s steps here: wait for a bucket after the reconnect.)
    await page.waitForTimeout(Math.max(0, Math.ceil((back + 1) / 10_000) * 10_000 + 2_000 - Date.now()));
    await page.goto(`${base()}/#/chip/${CHIP}?range=1h&from=${back - 60_000}&to=${Date.now()}`);
    await expect.poll(() => page.locator('chip-detail').evaluate((d) => d.shadowRoot!.querySelector('chip-history')?.shadowRoot?.querySelector('[data-testid="history-caption"]')?.getAttribute('data-zoomed')), { timeout: 15_000 }).toBe('true');
    await expect.poll(() => reconnect.getAttribute('data-count'), { timeout: 15_000 }).toBe('2');
    expect(await disconnect.getAttribute('data-count')).toBe('1');
    await expect.poll(async () => teal(await pixelAt(page, 'chip-history', back)), { timeout: 10_000 }).toBe(true);
    // between the disconnect and the reconnect: the gap's grey, no line
    expect(teal(await pixelAt(page, 'chip-history', back - 2_500))).toBe(false);
    await page.screenshot({ path: `${ARTIFACTS}/chip-reconnect-zoomed.png` });
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
