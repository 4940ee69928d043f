/**
 * The chip view's typed range, in headless Chromium against a real hub holding 3 hours of one
 * chip: From/To (`datetime-local`, local time) and "Show" read that span from /api/v1/series
 * (`from`/`to` the typed instants, `maxPoints` so the hub fits the step: 10 s for an hour), put it
 * in the URL (`range=<shortest past range reaching From>&from=…&to=…`, one history entry: Back
 * returns), and a reversed span is refused in words. Screenshot: test-artifacts/chip-range.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import type { Sample } from '../../schema/sample.ts';
import { evalDeep } from '../helpers/browser.ts';
import { ARTIFACTS, openChipPage, watchSeries, type ChipPage } from '../helpers/chip-page.ts';
import { sample } from '../helpers/frames.ts';
import type { TestHub } from '../helpers/test-hub.ts';

const CHIP = 'GPU-range';
let cp: ChipPage;
let hub: TestHub;
let browser: BrowserContext;
const base = () => cp.base;

beforeAll(async () => {
  // three hours of history, a sample every 10 s (a slow sine, so the charts have a shape)
  const now = Date.now();
  const history: Sample[] = [];
  for (let ts = now - 3 * 3_600_000; ts <= now; ts += 10_000) history.push(sample(CHIP, ts, { utilPct: 50 + 40 * Math.sin(ts / 600_000) }));
  cp = await openChipPage({ agentId: 'range-agent', chipId: CHIP, hostname: 'p5-range-1', intervalMs: 1000, history, live: () => ({ utilPct: 60 }) });
  ({ hub, browser } = cp);
}, 60_000);

afterAll(async () => {
  await cp?.stop();
});


/** A `datetime-local` value of `ms` in the page's time zone, and the instant the page reads back from it. */
async function localInput(page: Page, ms: number): Promise<{ value: string; ms: number }> {
  return page.evaluate((t) => {
    const d = new Date(t);
    const p = (n: number) => String(n).padStart(2, '0');
    const value = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
    return { value, ms: new Date(value).getTime() };
  }, ms);
}

const hash = (page: Page) => page.evaluate(() => location.hash);

describe('chip view: a typed range', () => {
  it('From/To read that span from /api/v1/series at a step fitted to it, and put it in the URL', async () => {
    const page = await browser.newPage();
    await page.setViewportSize({ width: 1400, height: 900 });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const series = watchSeries(page);
    await page.goto(`${base()}/#/chip/${CHIP}`);
    await page.locator('[data-testid="chip-detail"]').waitFor({ timeout: 10_000 });
    // the live view's inputs show its window
    expect(await page.locator('[data-testid="custom-from"]').inputValue()).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d$/);

    // a reversed span: refused in words, nothing read
    const now = Date.now();
    const from = await localInput(page, now - 2 * 3_600_000);
    const to = await localInput(page, now - 3_600_000);
    await page.locator('[data-testid="custom-from"]').fill(to.value);
    await page.locator('[data-testid="custom-to"]').fill(from.value);
    await page.locator('[data-testid="custom-apply"]').click();
    expect(await page.locator('[data-testid="custom-error"]').innerText()).toBe('From must be before To.');
    expect(await hash(page)).toBe(`#/chip/${CHIP}`);
    expect(series).toEqual([]);

    // from 2 h ago to 1 h ago: range 6 h (the shortest reaching back 2 h), zoomed to the span
    await page.locator('[data-testid="custom-from"]').fill(from.value);
    await page.locator('[data-testid="custom-to"]').fill(to.value);
    await page.locator('[data-testid="custom-apply"]').click();
    await expect.poll(() => hash(page), { timeout: 10_000 }).toBe(`#/chip/${CHIP}?range=6h&from=${from.ms}&to=${to.ms}`);
    expect(await page.locator('[data-testid="custom-error"]').count()).toBe(0);
    const caption = page.locator('[data-testid="history-caption"]');
    await expect.poll(() => caption.getAttribute('data-state'), { timeout: 10_000 }).toBe('ok');
    expect(await caption.getAttribute('data-zoomed')).toBe('true');
    // the request: the typed instants, points for the chart's width (the hub picks the step)
    const asked = series.filter((u) => u.includes(`from=${from.ms}&to=${to.ms}`));
    expect(asked.length).toBeGreaterThan(0);
    expect(asked[0]).toContain(`chip=${CHIP}`);
    expect(asked[0]).toContain('maxPoints=800');
    expect(series.some((u) => u.includes('from=now-6h'))).toBe(false);
    // an hour in at most 800 points from the raw tier: 10-second steps, 361 buckets, all filled
    expect(await caption.getAttribute('data-step')).toBe('10s');
    expect(await caption.getAttribute('data-tier')).toBe('raw');
    expect(Number(await caption.getAttribute('data-points'))).toBeGreaterThanOrEqual(360);
    expect(Number(await caption.getAttribute('data-filled'))).toBeGreaterThanOrEqual(355);
    // the charts' x scale is the span (s)
    const x = await evalDeep(page, '[data-testid="chart-util"]', (el: any) => [el.uplot.scales.x.min, el.uplot.scales.x.max], null);
    expect(Math.abs(x![0]! - from.ms / 1000)).toBeLessThanOrEqual(10);
    expect(Math.abs(x![1]! - to.ms / 1000)).toBeLessThanOrEqual(10);
    // the inputs keep the span
    expect(await page.locator('[data-testid="custom-from"]').inputValue()).toBe(from.value);
    expect(await page.locator('[data-testid="custom-to"]').inputValue()).toBe(to.value);
    await page.waitForTimeout(500);
    await page.screenshot({ path: `${ARTIFACTS}/chip-range.png` });

    // a reload of the URL reads the same span
    const again = await browser.newPage();
    const seriesAgain = watchSeries(again);
    await again.goto(`${base()}/#/chip/${CHIP}?range=6h&from=${from.ms}&to=${to.ms}`);
    await expect.poll(() => again.locator('[data-testid="history-caption"]').getAttribute('data-state').catch(() => null), { timeout: 10_000 }).toBe('ok');
    expect(seriesAgain.every((u) => u.includes(`from=${from.ms}&to=${to.ms}&maxPoints=800`))).toBe(true);
    expect(await again.locator('[data-testid="custom-from"]').inputValue()).toBe(from.value);
    await again.close();

    // Back: the live view again
    await page.goBack();
    await expect.poll(() => hash(page), { timeout: 10_000 }).toBe(`#/chip/${CHIP}`);
    await expect.poll(() => page.locator('chip-detail').getAttribute('range')).toBe('live');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
