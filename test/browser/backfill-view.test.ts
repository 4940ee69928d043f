/**
 * Late (backfilled) data in the chip detail view, in headless Chromium: the notice counts
 * the backfilled samples in view, the charts shade their time ranges, and late samples
 * reach an open view both by the periodic HTTP re-read and by the fresh `chip-history`
 * after the live connection reopens (hub restarted on the same port and database).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import type { Sample } from '../../schema/sample.ts';
import { ensureClientBuilt } from '../../cli/client-build.ts';
import { startHub, type HubHandle } from '../../server/hub.ts';
import { silentLogger } from '../../common/logger.ts';
import { openSqliteStore } from '../../server/store/sqlite-store.ts';
import { launchChromium, signIn } from '../helpers/browser.ts';
import { batch, chipInfo, hello, sample } from '../helpers/frames.ts';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';
import type { TestSocket } from '../helpers/ws-client.ts';

const ARTIFACTS = 'test-artifacts';
const CHIP = 'GPU-backfill-0';
const AGENT = 'agent-backfill';
const STEP_MS = 2000;

/** Outage stretches, as [start, end) offsets before t0 in ms: no live sample falls in them. */
const OUTAGE_MAIN: [number, number] = [300_000, 240_000]; // 5–4 min ago: 30 samples, sent as backfill up front
const OUTAGE_POLLED: [number, number] = [480_000, 460_000]; // 8 min ago: 10 samples, backfilled while the view is open
const OUTAGE_RECONNECT: [number, number] = [180_000, 160_000]; // 3 min ago: 10 samples, backfilled during a hub restart

let hub: TestHub;
let restarted: HubHandle | null = null;
let agent: TestSocket;
let browser: BrowserContext;
let page: Page;
let seq = 0;
let liveTimer: ReturnType<typeof setInterval> | null = null;
const t0 = Math.floor(Date.now() / 1000) * 1000;

/** A plausible load curve, so the charts have some shape. */
function shaped(ts: number, over: Partial<Sample> = {}): Sample {
  const phase = ts / 60_000;
  const util = Math.round(60 + 30 * Math.sin(phase * 1.7));
  return sample(CHIP, ts, { utilPct: util, powerW: 180 + util * 5, tempC: 42 + util / 3, ...over });
}

/** Timestamps every STEP_MS inside the outage [start, end) before t0. */
function outage([start, end]: [number, number]): number[] {
  const out: number[] = [];
  for (let ts = t0 - start; ts < t0 - end; ts += STEP_MS) out.push(ts);
  return out;
}

function inAnyOutage(ts: number): boolean {
  return [OUTAGE_MAIN, OUTAGE_POLLED, OUTAGE_RECONNECT].some(([s, e]) => ts >= t0 - s && ts < t0 - e);
}

async function send(samples: Sample[], backfill = false): Promise<void> {
  const s = seq++;
  agent.send({ ...batch(s, samples), ...(backfill ? { backfill: true } : {}) });
  await agent.waitFor((f) => f.type === 'ack' && f.seq === s);
}

const notice = (): Locator => page.locator('[data-testid="backfill-notice"]');
const noticeCount = async (): Promise<number> =>
  (await notice().count()) ? Number(await notice().getAttribute('data-count')) : 0;

/** The x values (s) the power chart plots right now. */
const plottedXs = (): Promise<number[]> =>
  page.locator('[data-testid="chart-power"]').evaluate((el) => Array.from(((el as any).uplot?.data?.[0] ?? []) as number[]));

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  await ensureClientBuilt(silentLogger);
  hub = await startTestHub();
  agent = await hub.ws('/ws/agent');
  agent.send(hello(AGENT, [chipInfo(0, { chipId: CHIP })], { intervalMs: 1000 }));
  await agent.waitFor((f) => f.type === 'welcome');

  // ten minutes of live data with holes where the hub was "down"
  const live: Sample[] = [];
  for (let ts = t0 - 600_000; ts <= t0; ts += STEP_MS) if (!inAnyOutage(ts)) live.push(shaped(ts));
  await send(live);
  // what the agent spooled during the 5–4 min outage, resent late
  await send(outage(OUTAGE_MAIN).map((ts) => shaped(ts)), true);
  // keep the chip live while the page is open
  liveTimer = setInterval(() => {
    const s = seq++;
    agent.send(batch(s, [shaped(Date.now())]));
  }, 1000);

  browser = await launchChromium();
  await signIn(browser, hub.url.replace('localhost', '127.0.0.1'), hub.token.viewer);
  page = await browser.newPage();
}, 60_000);

afterAll(async () => {
  if (liveTimer) clearInterval(liveTimer);
  await browser?.close();
  if (restarted) {
    await restarted.close();
    rmSync(dirname(hub.dbPath), { recursive: true, force: true });
  } else {
    await hub?.stop();
  }
});

describe('late (backfilled) samples in the chip detail view', () => {
  it('counts the backfilled samples in a notice and shades their time range on the charts', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${hub.url.replace('localhost', '127.0.0.1')}/#/chip/${CHIP}`);
    await page.locator('[data-testid="chip-detail"]').waitFor({ timeout: 10_000 });

    await expect.poll(noticeCount, { timeout: 10_000 }).toBe(30);
    await expect(notice().textContent()).resolves.toMatch(/30 samples in view arrived late/);
    // the charts hold the history (live + backfill), one point per ts
    await expect.poll(async () => (await plottedXs()).length, { timeout: 10_000 }).toBeGreaterThan(250);
    const xs = await plottedXs();
    expect(xs.every((x, i) => i === 0 || x > xs[i - 1])).toBe(true);
    await page.waitForTimeout(300); // let the resize observer settle before the picture
    await page.screenshot({ path: `${ARTIFACTS}/chip-backfill.png` });
    expect(errors).toEqual([]);
  }, 30_000);

  it('picks up backfill that lands while the view is open (periodic re-read, merged by ts)', async () => {
    const detail = page.locator('[data-testid="chip-detail"]');
    await detail.evaluate((el) => ((el as any).pollMs = 400));
    await send(outage(OUTAGE_POLLED).map((ts) => shaped(ts)), true);
    await expect.poll(noticeCount, { timeout: 10_000 }).toBe(40);
    // several more re-reads of the same window: nothing is duplicated
    await page.waitForTimeout(1500);
    expect(await noticeCount()).toBe(40);
    const xs = await plottedXs();
    expect(new Set(xs).size).toBe(xs.length);
    expect(xs.every((x, i) => i === 0 || x > xs[i - 1])).toBe(true);
  }, 30_000);

  it('reloads the chip history when the live connection reopens, bringing in backfill committed meanwhile', async () => {
    const detail = page.locator('[data-testid="chip-detail"]');
    await detail.evaluate((el) => ((el as any).pollMs = 0)); // only the reopen path may bring it in
    if (liveTimer) clearInterval(liveTimer);
    liveTimer = null;
    const connection = page.locator('[data-testid="connection"]');
    await expect.poll(() => connection.getAttribute('data-state')).toBe('open');
    // chip-history frames the page receives on the sockets it opens from now on
    const histories: Sample[][] = [];
    page.on('websocket', (ws) =>
      ws.on('framereceived', ({ payload }) => {
        const f = JSON.parse(String(payload));
        if (f.type === 'chip-history' && f.chipId === CHIP) histories.push(f.samples);
      }),
    );

    await hub.close(); // the hub goes away (database kept)
    await expect.poll(() => connection.getAttribute('data-state'), { timeout: 10_000 }).not.toBe('open');
    // the agent's spool is resent to the hub as it comes back: stored flagged, never pushed live
    const store = await openSqliteStore(hub.dbPath);
    await store.insertBatch(AGENT, 1_000, outage(OUTAGE_RECONNECT).map((ts) => shaped(ts, { flags: { backfill: true } })));
    await store.close();
    expect(await noticeCount()).toBe(40);

    restarted = await startHub({ port: hub.port, host: '127.0.0.1', db: hub.dbPath });
    await expect.poll(() => connection.getAttribute('data-state'), { timeout: 15_000 }).toBe('open');
    await expect.poll(noticeCount, { timeout: 10_000 }).toBe(50);
    // it came with the chip-history the hub sent for the re-sent subscription
    const late = new Set(outage(OUTAGE_RECONNECT));
    expect(histories.some((h) => h.filter((s) => late.has(s.ts) && s.flags?.backfill).length === late.size)).toBe(true);
    const xs = await plottedXs();
    expect(new Set(xs).size).toBe(xs.length);
  }, 40_000);
});
