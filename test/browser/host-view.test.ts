/**
 * The host view on a young hub, in headless Chromium against a real hub holding 3 minutes of two
 * hosts: opened from a filtered fleet view, its "← fleet" link returns to that view, filters kept;
 * the default 1 h range starts its charts at the host's first sample ("since the first sample")
 * instead of squeezing 3 minutes against the right edge; the chip view's host and the alerts
 * list's host are links to the host view. Screenshot: test-artifacts/host-view-young.png.
 */
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import type { Sample } from '../../schema/sample.ts';
import { ensureClientBuilt } from '../../cli/client-build.ts';
import { silentLogger } from '../../common/logger.ts';
import { evalDeep, launchChromium, signIn } from '../helpers/browser.ts';
import { batch, chipInfo, hello, sample } from '../helpers/frames.ts';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';
import type { TestSocket } from '../helpers/ws-client.ts';

const ARTIFACTS = 'test-artifacts';
const HOSTS = ['p5-hv-1', 'p5-hv-2'];
const chips = (h: string) => [0, 1, 2, 3].map((i) => `GPU-${h}-${i}`);
const YOUNG_MS = 180_000;
let hub: TestHub;
let browser: BrowserContext;
const agents: TestSocket[] = [];
let timer: ReturnType<typeof setInterval> | null = null;
let seq = 0;
let t0 = 0;
const base = () => hub.url.replace('localhost', '127.0.0.1');
const hash = (page: Page) => page.evaluate(() => location.hash);

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  await ensureClientBuilt(silentLogger);
  hub = await startTestHub();
  // one REST rule firing on the first host's chips (for the alerts list's host link)
  const rule = { id: 'hv-hot', name: 'HvHot', field: 'powerW', op: '>', threshold: 600, for: '0s', severity: 'warning', selector: { host: [HOSTS[0]!] } };
  const res = await fetch(`${base()}/api/v1/alerts/rules`, { method: 'POST', headers: { ...hub.auth('admin'), 'content-type': 'application/json' }, body: JSON.stringify(rule) });
  expect(res.status, await res.text()).toBe(201);
  t0 = Date.now();
  for (const h of HOSTS) {
    const ws = await hub.ws('/ws/agent');
    ws.send(hello(`agent-${h}`, chips(h).map((chipId, i) => chipInfo(i, { chipId })), { host: { hostname: h, instanceId: null, instanceType: 'p5.48xlarge' } }));
    await ws.waitFor((f) => f.type === 'welcome');
    // three minutes of history, then live samples
    const past: Sample[] = [];
    for (let ts = t0 - YOUNG_MS; ts <= t0; ts += 5000) for (const c of chips(h)) past.push(sample(c, ts, { powerW: h === HOSTS[0] ? 650 : 300, utilPct: 30 + (ts / 5000) % 40 }));
    const s = seq++;
    ws.send(batch(s, past));
    await ws.waitFor((f) => (f.type === 'ack' || f.type === 'error') && f.seq === s);
    agents.push(ws);
  }
  timer = setInterval(() => {
    const now = Date.now();
    HOSTS.forEach((h, k) => agents[k]!.send(batch(seq++, chips(h).map((c) => sample(c, now, { powerW: h === HOSTS[0] ? 650 : 300 })))));
  }, 1000);
  browser = await launchChromium();
  await signIn(browser, base(), hub.token.admin);
}, 60_000);

afterAll(async () => {
  if (timer) clearInterval(timer);
  for (const a of agents) a.close();
  await browser?.close();
  await hub?.stop();
});

describe('host view', () => {
  it('back to the filtered fleet; on a young hub the charts start at the first sample', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const fleetHash = `#/?density=tiles&q=${HOSTS[0]}`;
    await page.goto(`${base()}/${fleetHash}`);
    await page.locator('[data-testid="host-link"]').first().click();
    await expect.poll(() => hash(page), { timeout: 10_000 }).toBe(`#/host/${HOSTS[0]}`);
    const back = page.locator('host-view [data-testid="back-link"]');
    expect(await back.getAttribute('href')).toBe(fleetHash);

    // 3 minutes of data in the default hour: the charts start at the first sample
    const since = page.locator('[data-testid="host-since"]');
    await since.waitFor({ timeout: 15_000 });
    const sinceMs = Number(await since.getAttribute('data-since'));
    expect(Math.abs(sinceMs - (t0 - YOUNG_MS))).toBeLessThanOrEqual(30_000);
    const util = page.locator('[data-testid="host-chart-utilPct"]');
    await expect.poll(async () => Number(await util.getAttribute('data-points')), { timeout: 10_000 }).toBeGreaterThan(5);
    const x = (await evalDeep(page, '[data-testid="host-chart-utilPct"]', (el: any) => [el.uplot.scales.x.min, el.uplot.scales.x.max], null))!;
    expect(x[0]! * 1000).toBeGreaterThanOrEqual(t0 - YOUNG_MS - 30_000);
    expect((x[1]! - x[0]!) * 1000).toBeLessThan(15 * 60_000);
    await page.waitForTimeout(500);
    await page.screenshot({ path: `${ARTIFACTS}/host-view-young.png` });

    await back.click();
    await expect.poll(() => hash(page), { timeout: 10_000 }).toBe(fleetHash);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('the chip view and the alerts list link their hosts to the host view', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const chip = chips(HOSTS[1]!)[2]!;
    await page.goto(`${base()}/#/chip/${chip}`);
    const link = page.locator('[data-testid="detail-host-link"]');
    await link.waitFor({ timeout: 10_000 });
    expect(await link.getAttribute('href')).toBe(`#/host/${HOSTS[1]}`);
    await link.click();
    await expect.poll(() => hash(page), { timeout: 10_000 }).toBe(`#/host/${HOSTS[1]}`);
    await page.locator('[data-testid="host-view"]').waitFor({ timeout: 10_000 });

    await page.goto(`${base()}/#/alerts?open=hv-hot`);
    const rows = page.locator('[data-testid="active-alert"][data-rule="hv-hot"]');
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(4);
    const hosts = await rows.locator('[data-testid="alert-host-link"]').evaluateAll((els) => els.map((e) => e.getAttribute('href')));
    expect(hosts).toEqual(Array(4).fill(`#/host/${HOSTS[0]}`));
    await rows.first().locator('[data-testid="alert-host-link"]').click();
    await expect.poll(() => hash(page), { timeout: 10_000 }).toBe(`#/host/${HOSTS[0]}`);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
