/**
 * The alerts UI in headless Chromium against a real hub (auth on): a REST rule that fires at once
 * (`powerW > 100`, `for: 0s`) on samples an agent socket sends; the alerts view lists the firing
 * alert and its history; the chip's tile and host row carry a badge; a silence created through
 * the form is listed and expiring it removes it; a viewer's attempt gets the hub's 403 message;
 * the dead letters list shows its empty state, then a notification a receiver refused, which
 * "Retry" delivers; the chip's charts shade the alert's span (two runs: one resolved, one firing).
 */
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import type { Sample } from '../../schema/sample.ts';
import { ensureClientBuilt } from '../../cli/client-build.ts';
import { silentLogger } from '../../common/logger.ts';
import { launchChromium, signIn } from '../helpers/browser.ts';
import { batch, chipInfo, hello, sample } from '../helpers/frames.ts';
import { startHttpReceiver, type HttpReceiver } from '../helpers/http-receiver.ts';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';
import type { TestSocket } from '../helpers/ws-client.ts';

const ARTIFACTS = 'test-artifacts';
const CHIP = 'GPU-alert-0';
const QUIET = 'GPU-alert-1';
const AGENT = 'agent-alerts';
const HOST = `${AGENT}-host`;
const RULE = { id: 'hot-power', name: 'HotPower', field: 'powerW', op: '>', threshold: 100, for: '0s', severity: 'critical', selector: { chip: [CHIP, QUIET] }, summary: '{{chip}} on {{host}} at {{value}} W' };
const STEP_MS = 2000;
const FORBIDDEN = 'a viewer token cannot do this; it needs an admin token';

let hub: TestHub;
let rcv: HttpReceiver;
let agent: TestSocket;
let browser: BrowserContext;
let seq = 0;
let quietPower = 50;
let liveTimer: ReturnType<typeof setInterval> | null = null;
const t0 = Math.floor(Date.now() / 1000) * 1000;
/** The first run: fired 7 minutes ago, resolved 5 minutes ago; the second fires from 2 minutes ago on. */
const RUN1: [number, number] = [t0 - 420_000, t0 - 300_000];
const RUN2_START = t0 - 120_000;

const base = () => hub.url.replace('localhost', '127.0.0.1');
const powerAt = (ts: number) => ((ts >= RUN1[0] && ts < RUN1[1]) || ts >= RUN2_START ? 300 : 50);

async function send(samples: Sample[]): Promise<void> {
  const s = seq++;
  agent.send(batch(s, samples));
  await agent.waitFor((f) => (f.type === 'ack' || f.type === 'error') && f.seq === s);
}

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${base()}${path}`, {
    method,
    headers: { ...hub.auth('admin'), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function newPage(errors: string[]): Promise<Page> {
  const page = await browser.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  return page;
}

/** The RGBA of the power chart's canvas at time `tsMs`, near the top of the plot (above the series). */
async function chartPixel(page: Page, tsMs: number): Promise<number[]> {
  return page.locator('[data-testid="chart-power"]').evaluate((el, t) => {
    const u = (el as any).uplot;
    const x = Math.round(u.valToPos(t / 1000, 'x', true));
    const y = Math.round(u.bbox.top + 6 * (globalThis.devicePixelRatio || 1));
    return Array.from(u.ctx.getImageData(x, y, 1, 1).data as Uint8ClampedArray);
  }, tsMs);
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  await ensureClientBuilt(silentLogger);
  hub = await startTestHub();
  rcv = await startHttpReceiver(() => ({ status: 400, body: 'bad payload' }));
  const created = await api('POST', '/api/v1/alerts/rules', RULE);
  expect(created.status, JSON.stringify(created.body)).toBe(201);

  agent = await hub.ws('/ws/agent');
  agent.send(hello(AGENT, [chipInfo(0, { chipId: CHIP }), chipInfo(1, { chipId: QUIET })], { intervalMs: 1000 }));
  await agent.waitFor((f) => f.type === 'welcome');
  // nine minutes of history: 300 W (firing) 7–5 min ago and from 2 min ago on, 50 W otherwise
  const past: Sample[] = [];
  for (let ts = t0 - 540_000; ts <= t0; ts += STEP_MS) {
    past.push(sample(CHIP, ts, { powerW: powerAt(ts) }), sample(QUIET, ts, { powerW: 50 }));
  }
  await send(past);
  liveTimer = setInterval(() => {
    const now = Date.now();
    const s = seq++;
    agent.send(batch(s, [sample(CHIP, now, { powerW: 300 }), sample(QUIET, now, { powerW: quietPower })]));
  }, 1000);

  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  if (liveTimer) clearInterval(liveTimer);
  await browser?.close();
  await hub?.stop();
  await rcv?.close();
});

describe('alerts UI', () => {
  it('the alerts view lists the firing alert and its history; the tile and the host row carry a badge', async () => {
    await signIn(browser, base(), hub.token.admin);
    const errors: string[] = [];
    const page = await newPage(errors);
    await page.goto(`${base()}/#/`);

    const tile = page.locator(`[data-testid="chip-tile"][data-chip-id="${CHIP}"]`);
    await expect.poll(() => tile.locator('[data-testid="alert-badge"]').count(), { timeout: 15_000 }).toBe(1);
    const badge = tile.locator('[data-testid="alert-badge"]');
    expect(await badge.getAttribute('data-severity')).toBe('critical');
    expect(await tile.getAttribute('data-alert')).toBe('critical');
    expect(await page.locator(`[data-testid="chip-tile"][data-chip-id="${QUIET}"] [data-testid="alert-badge"]`).count()).toBe(0);
    const hostBadge = page.locator(`[data-testid="host-group"][data-host="${HOST}"] [data-testid="host-alert-badge"]`);
    expect(await hostBadge.getAttribute('data-count')).toBe('1');
    expect(await hostBadge.innerText()).toMatch(/1 firing/);
    expect(await page.locator('[data-testid="alerts-firing"]').innerText()).toBe('1');
    await page.waitForTimeout(300);
    await page.screenshot({ path: `${ARTIFACTS}/alerts-tile-badge.png` });

    await page.locator('[data-testid="nav-alerts"]').click();
    await page.locator('[data-testid="alerts-view"]').waitFor({ timeout: 10_000 });
    expect(page.url()).toMatch(/#\/alerts$/);
    const row = page.locator(`[data-testid="active-alert"][data-rule="hot-power"][data-chip="${CHIP}"]`);
    await row.waitFor({ timeout: 10_000 });
    expect(await row.getAttribute('data-phase')).toBe('firing');
    expect(await row.getAttribute('data-severity')).toBe('critical');
    const text = (await row.innerText()).replace(/\s+/g, ' ');
    expect(text).toContain('HotPower');
    expect(text).toContain(HOST);
    expect(text).toMatch(/300 W/);
    expect(await page.locator('[data-testid="active-alert"]').count()).toBe(1);
    expect(await row.locator('[data-testid="alert-chip-link"]').getAttribute('href')).toBe(`#/chip/${CHIP}`);

    // history: the first run fired and resolved, the second fired
    const hist = (to: string) => page.locator(`[data-testid="history-event"][data-rule="hot-power"][data-chip="${CHIP}"][data-to="${to}"]`);
    await expect.poll(() => hist('firing').count(), { timeout: 10_000 }).toBe(2);
    expect(await hist('resolved').count()).toBe(1);

    // dead letters: none yet, and no receiver
    await page.locator('[data-testid="dead-letters-empty"]').waitFor({ timeout: 10_000 });
    expect(await page.locator('[data-testid="dead-letters-empty"]').innerText()).toBe('No dead letters: every notification was delivered or is still being retried.');
    expect(await page.locator('[data-testid="receivers"]').innerText()).toMatch(/No receivers are configured/);
    await page.waitForTimeout(300);
    await page.screenshot({ path: `${ARTIFACTS}/alerts-view.png`, fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('a silence created through the form is listed; expiring it removes it', async () => {
    const errors: string[] = [];
    const page = await newPage(errors);
    await page.goto(`${base()}/#/alerts`);
    const row = page.locator(`[data-testid="active-alert"][data-chip="${CHIP}"]`);
    await row.waitFor({ timeout: 10_000 });
    await row.locator('[data-testid="silence-alert"]').click();
    const matchers = page.locator('[data-testid="silence-matchers"]');
    await expect.poll(() => matchers.inputValue()).toBe(`alertname="HotPower"\nchip="${CHIP}"`);
    await page.locator('[data-testid="silence-duration"]').fill('1h');
    await page.locator('[data-testid="silence-comment"]').fill('PSU swap on this chip (test)');
    await page.locator('[data-testid="silence-submit"]').click();

    const created = page.locator('[data-testid="silence-created"]');
    await created.waitFor({ timeout: 10_000 });
    const id = (await created.getAttribute('data-id'))!;
    const listed = page.locator(`[data-testid="silence"][data-id="${id}"]`);
    await listed.waitFor({ timeout: 10_000 });
    expect(await listed.getAttribute('data-state')).toBe('active');
    const text = (await listed.innerText()).replace(/\s+/g, ' ');
    expect(text).toContain('PSU swap on this chip (test)');
    expect(text).toContain('alertname="HotPower"');
    expect(text).toContain('test admin');
    expect((await api('GET', '/api/v1/alerts/silences')).body.silences.map((s: { id: string }) => s.id)).toContain(id);
    // the firing alert it covers is marked silenced (and stays listed)
    await expect.poll(() => row.getAttribute('data-silenced'), { timeout: 5000 }).toBe('true');
    await listed.scrollIntoViewIfNeeded();
    await page.waitForTimeout(300);
    await page.screenshot({ path: `${ARTIFACTS}/alerts-silence.png`, fullPage: true });

    await listed.locator('[data-testid="silence-expire"]').click();
    await expect.poll(() => listed.count(), { timeout: 10_000 }).toBe(0);
    await page.locator('[data-testid="silences-empty"]').waitFor({ timeout: 5000 });
    expect(await page.locator('[data-testid="silences-expired"]').getAttribute('data-count')).toBe('1');
    await expect.poll(() => row.getAttribute('data-silenced'), { timeout: 5000 }).toBeNull();
    const after = (await api('GET', '/api/v1/alerts/silences')).body.silences.find((s: { id: string }) => s.id === id);
    expect(after.state).toBe('expired');
    expect(errors).toEqual([]);
    await page.close();
  }, 40_000);

  it('a viewer token’s attempt to create a silence shows the hub’s 403 message', async () => {
    await browser.clearCookies();
    await signIn(browser, base(), hub.token.viewer);
    const errors: string[] = [];
    const page = await newPage(errors);
    await page.goto(`${base()}/#/alerts`);
    await page.locator('[data-testid="alerts-view"]').waitFor({ timeout: 10_000 });
    await page.locator('[data-testid="silence-matchers"]').fill('alertname="HotPower"');
    await page.locator('[data-testid="silence-comment"]').fill('viewer tries');
    await page.locator('[data-testid="silence-submit"]').click();
    const err = page.locator('[data-testid="silence-error"]');
    await err.waitFor({ timeout: 10_000 });
    expect(await err.getAttribute('data-status')).toBe('403');
    expect(await err.getAttribute('data-code')).toBe('forbidden');
    expect((await err.innerText()).replace(/\s+/g, ' ')).toContain(FORBIDDEN);
    expect(await page.locator('[data-testid="silence-created"]').count()).toBe(0);
    expect((await api('GET', '/api/v1/alerts/silences')).body.silences.filter((s: { comment: string }) => s.comment === 'viewer tries')).toEqual([]);
    await err.scrollIntoViewIfNeeded();
    await page.waitForTimeout(300);
    await page.screenshot({ path: `${ARTIFACTS}/alerts-viewer-403.png` });
    expect(errors).toEqual([]);
    await page.close();
    await browser.clearCookies();
    await signIn(browser, base(), hub.token.admin);
  }, 30_000);

  it('dead letters: a notification the receiver refused is listed, and Retry delivers it', async () => {
    const made = await api('POST', '/api/v1/alerts/receivers', { name: 'ops-hook', kind: 'webhook', url: `${rcv.url}/hook`, groupWait: '0s' });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    quietPower = 250; // the quiet chip fires now: a notification, refused with 400 (never retried)
    await rcv.waitFor((reqs) => reqs.length > 0, 10_000, 'the notification');

    const errors: string[] = [];
    const page = await newPage(errors);
    await page.goto(`${base()}/#/alerts`);
    const dead = page.locator('[data-testid="dead-letter"][data-receiver="ops-hook"]');
    await expect.poll(() => dead.count(), { timeout: 20_000 }).toBeGreaterThan(0);
    const first = dead.first();
    const text = (await first.innerText()).replace(/\s+/g, ' ');
    expect(text).toMatch(/HTTP 400: bad payload/);
    expect(text).toContain('HotPower');
    expect(await page.locator('[data-testid="receivers"]').innerText()).toMatch(/ops-hook \(webhook\)/);
    await page.locator('dead-letters').scrollIntoViewIfNeeded();
    await page.waitForTimeout(300);
    await page.screenshot({ path: `${ARTIFACTS}/alerts-dead-letters.png`, fullPage: true });

    rcv.respond(() => ({ status: 200 }));
    const count = await dead.count();
    const id = await first.getAttribute('data-id');
    await first.locator('[data-testid="dead-letter-retry"]').click();
    const msg = page.locator('[data-testid="dead-letters-message"]');
    await msg.waitFor({ timeout: 10_000 });
    expect(await msg.getAttribute('data-state')).toBe('ok');
    expect(await msg.innerText()).toContain(`#${id} is queued again`);
    await rcv.waitFor((reqs) => reqs.some((r) => r.status === 200), 10_000, 'the retried notification');
    await page.locator('dead-letters').evaluate((el) => ((el as any).refreshMs = 300));
    await expect.poll(() => dead.count(), { timeout: 10_000 }).toBe(count - 1);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('the chip’s charts shade the alert: one band resolved, one still firing', async () => {
    const errors: string[] = [];
    const page = await newPage(errors);
    await page.goto(`${base()}/#/chip/${CHIP}`);
    await page.locator('[data-testid="chip-detail"]').waitFor({ timeout: 10_000 });
    const notice = page.locator('[data-testid="alert-band-notice"]');
    await expect.poll(async () => ((await notice.count()) ? notice.getAttribute('data-count') : null), { timeout: 10_000 }).toBe('2');
    expect(await page.locator('[data-testid="chip-alert"][data-rule="hot-power"]').getAttribute('data-severity')).toBe('critical');
    const points = page.locator('[data-testid="chart-power"]');
    await expect.poll(async () => Number(await points.getAttribute('data-points')), { timeout: 10_000 }).toBeGreaterThan(200);
    await page.waitForTimeout(500); // the resize observer settles

    // inside the resolved run and the firing one: tinted red; between them: not
    const reddish = ([r, g, b, a]: number[]) => a! > 0 && r! > g! + 20 && r! > b! + 20;
    expect(reddish(await chartPixel(page, (RUN1[0] + RUN1[1]) / 2)), 'inside the resolved band').toBe(true);
    expect(reddish(await chartPixel(page, (RUN2_START + Date.now()) / 2)), 'inside the firing band').toBe(true);
    expect(reddish(await chartPixel(page, RUN1[1] + 45_000)), 'between the bands').toBe(false);
    await page.screenshot({ path: `${ARTIFACTS}/alerts-chip-band.png` });

    // a past range shades them too
    await page.locator('[data-testid="range-1h"]').click();
    await expect.poll(async () => Number(await page.locator('[data-testid="history-caption"]').getAttribute('data-filled')), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await notice.getAttribute('data-count')).toBe('2');
    await page.waitForTimeout(500);
    await page.screenshot({ path: `${ARTIFACTS}/alerts-chip-band-1h.png` });
    expect(errors).toEqual([]);
    await page.close();
  }, 40_000);
});
