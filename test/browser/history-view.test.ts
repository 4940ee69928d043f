/**
 * The chip detail's past ranges and the fleet energy line, in headless Chromium against a
 * real hub: two hours of known samples written over the Influx line protocol, then the
 * `6 h` range plotted from /api/v1/series (step and tier in the caption, averages and the
 * min–max band in the charts), re-read while shown, the hub's own error answer shown,
 * "no data in this range", an unreachable hub, and the way back to Live.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { ensureClientBuilt } from '../../cli/client-build.ts';
import { silentLogger } from '../../common/logger.ts';
import { launchChromium, signIn } from '../helpers/browser.ts';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';

const ARTIFACTS = 'test-artifacts';
const CHIP = 'GPU-history-0';
const OLD_CHIP = 'GPU-history-old';
const GiB = 1024 ** 3;
const BUCKET_MS = 30_000; // the step the hub picks for 6 h (at most 2000 points)
const BUCKETS = 240; // 2 h of 30 s buckets, three samples (10 s apart) in each
const JOULES_PER_SAMPLE = 3000; // 300 W for 10 s

let hub: TestHub;
let hubClosed = false;
let browser: BrowserContext;
let page: Page;
const errors: string[] = [];
const now = Date.now();
/** First bucket of the written data: 30 s aligned, about 2 h ago; the last sample is ≥ 10 s ago. */
const start = Math.floor((now - 2 * 3_600_000) / BUCKET_MS) * BUCKET_MS;

/** The utilization average of bucket k; its three samples are v-5, v, v+5. */
const utilAvg = (k: number) => 20 + (k % 60);

function line(chip: string, ts: number, fields: Record<string, number | string>): string {
  const f = Object.entries(fields).map(([k, v]) => `${k}=${v}`).join(',');
  return `chip,host=history-node-1,chip=${chip},vendor=nvidia,model=H100 ${f} ${BigInt(ts) * 1_000_000n}`;
}

function knownData(): string[] {
  const lines: string[] = [];
  let energy = 1_000_000;
  for (let k = 0; k < BUCKETS; k++) {
    for (let j = 0; j < 3; j++) {
      const u = utilAvg(k) + (j - 1) * 5;
      const ts = start + k * BUCKET_MS + j * 10_000;
      if (lines.length > 0) energy += JOULES_PER_SAMPLE;
      lines.push(
        line(CHIP, ts, {
          util_pct: u,
          power_w: 200 + 4 * u,
          temp_c: 40 + u / 4,
          mem_used_bytes: `${(10 + (k % 20)) * GiB}i`,
          mem_total_bytes: `${80 * GiB}i`,
          power_limit_w: 700,
          energy_j: `${energy}i`,
        }),
      );
    }
  }
  // a second chip whose only samples are three days old
  for (let ts = now - 3 * 86_400_000; ts < now - 3 * 86_400_000 + 3_600_000; ts += 60_000) {
    lines.push(line(OLD_CHIP, ts, { util_pct: 55, power_w: 420, temp_c: 50 }));
  }
  return lines;
}

async function write(lines: string[]): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${hub.port}/api/v1/write?precision=ns`, { method: 'POST', body: lines.join('\n'), headers: hub.auth('agent') });
  expect(res.status, await res.text()).toBe(204);
  await hub.store.flush();
}

const base = () => hub.url.replace('localhost', '127.0.0.1');
const caption = (): Locator => page.locator('[data-testid="history-caption"]');
const attr = (l: Locator, name: string) => l.getAttribute(name);
/** What the utilization chart plots: [xs (s), avg, min, max]. */
const plotted = (id = 'chart-util'): Promise<(number | null)[][]> =>
  page.locator(`[data-testid="${id}"]`).evaluate((el) => ((el as any).uplot?.data ?? []).map((c: ArrayLike<number | null>) => Array.from(c)));

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  await ensureClientBuilt(silentLogger);
  // Raw samples kept a week: the hub refuses samples older than the raw retention, and one chip's are three days old.
  hub = await startTestHub({ retention: { rawMs: 7 * 86_400_000 } });
  await write(knownData());
  browser = await launchChromium();
  await signIn(browser, base(), hub.token.viewer);
  page = await browser.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (hubClosed) rmSync(dirname(hub.dbPath), { recursive: true, force: true });
  else await hub?.stop();
});

describe('history in the dashboard', () => {
  it('shows the last 24 h energy and average power of the fleet over the grid', async () => {
    await page.goto(`${base()}/#/`);
    const kwh = page.locator('[data-testid="energy-kwh"]');
    await kwh.waitFor({ timeout: 10_000 });
    const expected = ((3 * BUCKETS - 1) * JOULES_PER_SAMPLE) / 3.6e6; // 0.599 kWh
    expect(Number(await attr(kwh, 'data-kwh'))).toBeCloseTo(expected, 3);
    await expect(kwh.textContent()).resolves.toBe('0.60 kWh');
    await expect(page.locator('[data-testid="energy-avg-power"]').textContent()).resolves.toMatch(/^\d+ W$/);
    await page.screenshot({ path: `${ARTIFACTS}/fleet-energy.png` });
  }, 30_000);

  it('plots 6 h of a chip from /api/v1/series: step and tier in the caption, averages with a min–max band', async () => {
    await page.goto(`${base()}/#/chip/${CHIP}`);
    const detail = page.locator('[data-testid="chip-detail"]');
    await detail.waitFor({ timeout: 10_000 });
    // Live is the default and shows the last 10 minutes
    expect(await attr(detail, 'range')).toBe('live');
    await expect.poll(async () => Number(await attr(page.locator('[data-testid="chart-power"]'), 'data-points')), { timeout: 10_000 }).toBeGreaterThan(40);

    await page.locator('[data-testid="range-6h"]').click();
    expect(await attr(detail, 'range')).toBe('6h');
    await expect.poll(() => attr(caption(), 'data-state'), { timeout: 10_000 }).toBe('ok');
    expect(await attr(caption(), 'data-step')).toBe('30s');
    expect(await attr(caption(), 'data-tier')).toBe('raw');
    expect(await attr(caption(), 'data-points')).toBe('721'); // 6 h / 30 s, both ends' buckets
    expect(await attr(caption(), 'data-filled')).toBe(String(BUCKETS));
    await expect(caption().textContent()).resolves.toMatch(/30-second averages · raw tier · shaded: min–max/);
    for (const id of ['chart-util', 'chart-power', 'chart-temp', 'chart-mem']) {
      await expect.poll(() => attr(page.locator(`[data-testid="${id}"]`), 'data-points')).toBe('721');
    }

    const [xs, avg, min, max] = await plotted();
    expect(avg.filter((v) => v != null)).toHaveLength(BUCKETS);
    for (const k of [0, 7, 100, BUCKETS - 1]) {
      const i = xs.indexOf((start + k * BUCKET_MS) / 1000);
      expect(i, `bucket ${k}`).toBeGreaterThanOrEqual(0);
      expect(avg[i]).toBeCloseTo(utilAvg(k), 6);
      expect(min[i]).toBeCloseTo(utilAvg(k) - 5, 6);
      expect(max[i]).toBeCloseTo(utilAvg(k) + 5, 6);
    }
    // memory is plotted in GiB
    const mem = await plotted('chart-mem');
    expect(mem[1][mem[0].indexOf(start / 1000)]).toBeCloseTo(10, 6);
    expect(await page.locator('[data-testid="history-error"]').count()).toBe(0);
    expect(await page.locator('[data-testid="history-empty"]').count()).toBe(0);
    await page.waitForTimeout(300); // let the resize observer settle before the picture
    await page.screenshot({ path: `${ARTIFACTS}/chip-history-6h.png`, fullPage: true });
  }, 30_000);

  it('re-reads a shown past range, bringing in samples written meanwhile', async () => {
    await page.locator('chip-history').evaluate((el) => ((el as any).refreshMs = 400));
    const ts = Math.floor((now - 4 * 3_600_000) / BUCKET_MS) * BUCKET_MS; // an empty bucket 4 h ago
    await write([line(CHIP, ts, { util_pct: 33, power_w: 300 })]);
    await expect.poll(() => attr(caption(), 'data-filled'), { timeout: 10_000 }).toBe(String(BUCKETS + 1));
    const [xs, avg] = await plotted();
    expect(avg[xs.indexOf(ts / 1000)]).toBe(33);
  }, 30_000);

  it("shows the hub's error answer, then recovers on the next re-read", async () => {
    // the request reaches the real hub, for a chip it does not know: 400 {code, message}
    await page.route('**/api/v1/series?*', (route) =>
      route.continue({ url: route.request().url().replace(`chip=${CHIP}`, 'chip=GPU-not-in-this-fleet') }),
    );
    await page.locator('[data-testid="range-24h"]').click();
    const error = page.locator('[data-testid="history-error"]');
    await error.waitFor({ timeout: 10_000 });
    expect(await attr(error, 'data-code')).toBe('bad_request');
    await expect(error.textContent()).resolves.toMatch(/Could not load the 24 h history: chip: unknown chip "GPU-not-in-this-fleet"/);
    await page.screenshot({ path: `${ARTIFACTS}/chip-history-error.png` });

    await page.unroute('**/api/v1/series?*');
    await expect.poll(() => attr(caption(), 'data-state'), { timeout: 10_000 }).toBe('ok');
    expect(await error.count()).toBe(0);
    expect(await attr(caption(), 'data-step')).toBe('1m');
    expect(await attr(caption(), 'data-points')).toBe('1441');
  }, 30_000);

  it('says "no data in this range" when every value is null, and shows older data in a longer range', async () => {
    await page.goto(`${base()}/#/chip/${OLD_CHIP}?range=24h`);
    const empty = page.locator('[data-testid="history-empty"]');
    await empty.waitFor({ timeout: 10_000 }); // the range is in the URL
    await expect(empty.textContent()).resolves.toMatch(/No data in this range/);
    expect(await attr(caption(), 'data-filled')).toBe('0');

    await page.locator('[data-testid="range-7d"]').click();
    await expect.poll(() => attr(caption(), 'data-state'), { timeout: 10_000 }).toBe('ok');
    await expect.poll(async () => Number(await attr(caption(), 'data-filled'))).toBeGreaterThan(0);
    expect(await attr(caption(), 'data-tier')).toBe('1m');
    expect(await empty.count()).toBe(0);
    await page.screenshot({ path: `${ARTIFACTS}/chip-history-7d.png` });
  }, 30_000);

  it('says the hub cannot be reached when it is gone, and Live still shows the last samples', async () => {
    await page.goto(`${base()}/#/chip/${CHIP}`);
    await page.locator('[data-testid="range-1h"]').click();
    await expect.poll(() => attr(caption(), 'data-state'), { timeout: 10_000 }).toBe('ok');
    await hub.close();
    hubClosed = true;
    await page.locator('[data-testid="range-6h"]').click();
    const error = page.locator('[data-testid="history-error"]');
    await error.waitFor({ timeout: 10_000 });
    expect(await attr(error, 'data-code')).toBe('unreachable');
    await expect(error.textContent()).resolves.toMatch(/Could not reach the hub/);

    await page.locator('[data-testid="range-live"]').click();
    expect(await error.count()).toBe(0);
    await expect.poll(async () => Number(await attr(page.locator('[data-testid="chart-power"]'), 'data-points'))).toBeGreaterThan(40);
    expect(errors).toEqual([]);
  }, 30_000);
});
