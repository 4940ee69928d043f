/**
 * Gaps on a chip's time axis, in headless Chromium against a real hub: a chip whose samples stop
 * for 20 s (1 s apart before and after) shows one gap in the legend of the live view and a gap
 * marker on its chart, beside the alert and late-sample keys. Screenshot: test-artifacts/chip-gap.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import type { Sample } from '../../schema/sample.ts';
import { ARTIFACTS, openChipPage, type ChipPage } from '../helpers/chip-page.ts';
import { sample } from '../helpers/frames.ts';
import type { TestHub } from '../helpers/test-hub.ts';

let cp: ChipPage;
let hub: TestHub;
let browser: BrowserContext;
const base = () => cp.base;
const t0 = Date.now();
/** The samples' gap (ms since epoch): none from GAP_FROM to GAP_TO. */
const GAP_FROM = t0 - 40_000;
const GAP_TO = t0 - 20_000;

beforeAll(async () => {
  // One sample a second for the last minute, but for 20 s without any.
  const history: Sample[] = [];
  for (let ts = t0 - 60_000; ts <= t0; ts += 1000) if (ts <= GAP_FROM || ts >= GAP_TO) history.push(sample('GPU-gap', ts, { utilPct: 40 }));
  cp = await openChipPage({ agentId: 'gap-agent', chipId: 'GPU-gap', hostname: 'p5-gap-1', intervalMs: 1000, history });
  ({ hub, browser } = cp);
}, 60_000);

afterAll(async () => {
  await cp?.stop();
});

describe('gaps on the chip time axis', () => {
  it('marks a stretch without samples as a gap, keyed in the legend with alerts and late samples', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base()}/#/chip/GPU-gap`);
    const gap = page.locator('[data-testid="legend-gap"]');
    await expect.poll(() => gap.getAttribute('data-count'), { timeout: 15_000 }).toBe('1');
    expect(await page.locator('[data-testid="legend-alert"]').count()).toBe(1);
    expect(await page.locator('[data-testid="legend-backfill"]').count()).toBe(1);

    // The marker: the gap's start line is painted over the plot's empty top, where no gap is not.
    const px = await page.evaluate(({ from, to }) => {
      const detail = document.querySelector('fleet-app')!.shadowRoot!.querySelector('chip-detail')!;
      const u = (detail.shadowRoot!.querySelector('[data-testid="chart-util"]') as any).uplot;
      const ctx = u.ctx as CanvasRenderingContext2D;
      const y = Math.round(u.bbox.top + u.bbox.height * 0.15);
      const at = (s: number) => Array.from(ctx.getImageData(Math.round(u.valToPos(s, 'x', true)), y, 1, 1).data.slice(0, 3)).join(',');
      const inside = (from + to) / 2000;
      return { start: at(from / 1000), inside: at(inside), outside: at(from / 1000 - 10.5) };
    }, { from: GAP_FROM, to: GAP_TO });
    expect(px.start).not.toBe(px.outside);
    expect(px.inside).not.toBe(px.outside);
    await page.screenshot({ path: `${ARTIFACTS}/chip-gap.png` });
    expect(errors).toEqual([]);
    await page.close();
  }, 40_000);
});
