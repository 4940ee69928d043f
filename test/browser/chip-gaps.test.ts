/**
 * Gaps on a chip's time axis, in headless Chromium against a real hub: a chip whose samples stop
 * for 20 s (1 s apart before and after) shows one gap in the legend of the live view and a gap
 * marker on its chart, beside the alert and late-sample keys. Screenshot: test-artifacts/chip-gap.png.
 */
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { ensureClientBuilt } from '../../cli/client-build.ts';
import { silentLogger } from '../../common/logger.ts';
import { launchChromium, signIn } from '../helpers/browser.ts';
import { batch, chipInfo, hello, sample } from '../helpers/frames.ts';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';
import type { TestSocket } from '../helpers/ws-client.ts';

const ARTIFACTS = 'test-artifacts';
let hub: TestHub;
let hand: TestSocket;
let handTimer: ReturnType<typeof setInterval>;
let browser: BrowserContext;
const base = () => hub.url.replace('localhost', '127.0.0.1');
const t0 = Date.now();
/** The samples' gap (ms since epoch): none from GAP_FROM to GAP_TO. */
const GAP_FROM = t0 - 40_000;
const GAP_TO = t0 - 20_000;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  await ensureClientBuilt(silentLogger);
  hub = await startTestHub();
  hand = await hub.ws('/ws/agent');
  hand.send(hello('gap-agent', [chipInfo(0, { chipId: 'GPU-gap' })], { intervalMs: 1000, host: { hostname: 'p5-gap-1', instanceId: null, instanceType: 'p5.48xlarge' } }));
  await hand.waitFor((f) => f.type === 'welcome');
  let seq = 0;
  // One sample a second for the last minute, but for 20 s without any.
  const past = [];
  for (let ts = t0 - 60_000; ts <= t0; ts += 1000) if (ts <= GAP_FROM || ts >= GAP_TO) past.push(sample('GPU-gap', ts, { utilPct: 40 }));
  hand.send(batch(seq++, past));
  handTimer = setInterval(() => hand.send(batch(seq++, [sample('GPU-gap', Date.now(), { utilPct: 40 })])), 1000);
  browser = await launchChromium();
  await signIn(browser, base(), hub.token.viewer);
}, 60_000);

afterAll(async () => {
  clearInterval(handTimer);
  hand?.close();
  await browser?.close();
  await hub?.stop();
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
