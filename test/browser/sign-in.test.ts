/**
 * Signing the dashboard in, in headless Chromium against a real hub (auth on) fed by a simulated
 * agent: without a token the sign-in form shows and no fleet data does (no live socket is even
 * tried); a wrong token and an agent token are refused with the hub's message; a viewer token
 * signs in (HttpOnly SameSite=Strict cookie), the tiles appear and live updates arrive; sign-out
 * brings the form back; a `#token=` link signs in by itself and leaves the address bar; an open
 * hub shows the dashboard with no sign-in and no sign-out.
 */
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { runAgent, type RunningAgent } from '../../agents/agent-runtime.ts';
import { createSource } from '../../agents/sources/source-registry.ts';
import { ensureClientBuilt } from '../../cli/client-build.ts';
import { silentLogger } from '../../common/logger.ts';
import { launchChromium } from '../helpers/browser.ts';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';

const ARTIFACTS = 'test-artifacts';
const TEXT = 'This hub needs a viewer token. Create one with fleetscope token create --role viewer.';
let hub: TestHub;
let agent: RunningAgent;
let browser: BrowserContext;

const base = () => hub.url.replace('localhost', '127.0.0.1');
const tiles = (page: Page) => page.locator('[data-testid="chip-tile"]');
const form = (page: Page) => page.locator('[data-testid="sign-in-form"]');
const formError = (page: Page) => page.locator('[data-testid="sign-in-error"]');

/** A fresh page with no session cookie; counts the WebSockets it opens and the live frames they receive. */
async function freshPage(): Promise<{ page: Page; sockets: string[]; frames: string[]; errors: string[] }> {
  await browser.clearCookies();
  const page = await browser.newPage();
  const sockets: string[] = [];
  const frames: string[] = [];
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('websocket', (ws) => {
    sockets.push(ws.url());
    ws.on('framereceived', (f) => {
      try {
        frames.push(JSON.parse(String(f.payload)).type);
      } catch {
        /* binary or not JSON */
      }
    });
  });
  return { page, sockets, frames, errors };
}

async function submitToken(page: Page, token: string): Promise<void> {
  await page.locator('[data-testid="token-input"]').fill(token);
  await page.locator('[data-testid="sign-in-button"]').click();
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  await ensureClientBuilt(silentLogger);
  hub = await startTestHub();
  agent = await runAgent({
    hubs: [`ws://127.0.0.1:${hub.port}`],
    token: hub.token.agent,
    sources: [createSource('sim-nvml', { seed: 2, intervalMs: 500, hostname: 'p5-signin-1', log: silentLogger })],
    intervalMs: 500,
    log: silentLogger,
  });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await agent?.stop(500);
  await hub?.stop();
});

describe('dashboard sign-in', () => {
  it('without a token: the form with its hint, no fleet data and no live socket', async () => {
    const { page, sockets, errors } = await freshPage();
    await page.goto(base());
    await form(page).waitFor({ timeout: 10_000 });
    expect((await form(page).innerText()).replace(/\s+/g, ' ')).toContain(TEXT);
    await page.waitForTimeout(1500);
    expect(await tiles(page).count()).toBe(0);
    expect(await page.locator('[data-testid="count-total"]').count()).toBe(0);
    expect(await page.locator('[data-testid="sign-out"]').count()).toBe(0);
    expect(await page.locator('fleet-app').getAttribute('data-session')).toBe('signed-out');
    expect(sockets).toEqual([]);
    await page.screenshot({ path: `${ARTIFACTS}/sign-in-form.png` });
    expect(errors).toEqual([]);
    await page.close();
  });

  it.each([
    ['a wrong token', () => 'fst_' + 'n'.repeat(43), 'the token is not valid (unknown or revoked)'],
    ['an agent token', () => hub.token.agent, 'an agent token cannot sign in to the dashboard; use a viewer or admin token'],
  ])('%s is refused with the hub message; nothing is shown and no cookie set', async (name, token, message) => {
    const { page } = await freshPage();
    await page.goto(base());
    await form(page).waitFor({ timeout: 10_000 });
    await submitToken(page, token());
    await expect.poll(() => formError(page).count(), { timeout: 10_000 }).toBe(1);
    expect(await formError(page).innerText()).toBe(message);
    expect(await tiles(page).count()).toBe(0);
    expect((await browser.cookies()).filter((c) => c.name === 'fleetscope_session')).toEqual([]);
    if (name === 'a wrong token') await page.screenshot({ path: `${ARTIFACTS}/sign-in-wrong-token.png` });
    await page.close();
  });

  it('a viewer token signs in: HttpOnly cookie, tiles and live updates; sign-out brings the form back', async () => {
    const { page, sockets, frames, errors } = await freshPage();
    await page.goto(base());
    await form(page).waitFor({ timeout: 10_000 });
    await submitToken(page, hub.token.viewer);

    await expect.poll(() => tiles(page).count(), { timeout: 15_000 }).toBe(8);
    await expect.poll(() => page.locator('[data-testid="chip-tile"][data-status="live"]').count(), { timeout: 10_000 }).toBe(8);
    expect(await form(page).count()).toBe(0);
    await expect.poll(() => page.locator('[data-testid="connection"]').getAttribute('data-state'), { timeout: 10_000 }).toBe('open');
    // Live updates keep arriving over /ws/live.
    const updates = () => frames.filter((t) => t === 'fleet-columns' || t === 'fleet-update').length;
    await expect.poll(updates, { timeout: 10_000 }).toBeGreaterThan(0);
    const before = updates();
    await expect.poll(updates, { timeout: 10_000 }).toBeGreaterThan(before);
    expect(sockets.every((u) => u.endsWith('/ws/live'))).toBe(true);

    const cookie = (await browser.cookies()).find((c) => c.name === 'fleetscope_session');
    expect(cookie).toMatchObject({ value: hub.token.viewer, httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(await page.evaluate(() => document.cookie)).toBe(''); // not readable by scripts
    await expect.poll(() => page.locator('[data-testid="sign-out"]').count()).toBe(1);
    await page.screenshot({ path: `${ARTIFACTS}/sign-in-signed-in.png` });

    // A reload keeps the session (the cookie).
    await page.reload();
    await expect.poll(() => tiles(page).count(), { timeout: 15_000 }).toBe(8);

    await page.locator('[data-testid="sign-out"]').click();
    await form(page).waitFor({ timeout: 10_000 });
    expect(await tiles(page).count()).toBe(0);
    expect(await formError(page).count()).toBe(0);
    expect((await browser.cookies()).filter((c) => c.name === 'fleetscope_session')).toEqual([]);
    await expect.poll(() => page.locator('[data-testid="connection"]').count()).toBe(0);
    await page.reload();
    await form(page).waitFor({ timeout: 10_000 });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a #token= link signs in by itself and the token leaves the address bar', async () => {
    const { page, errors } = await freshPage();
    await page.goto(`${base()}/#token=${encodeURIComponent(hub.token.viewer)}`);
    await expect.poll(() => tiles(page).count(), { timeout: 15_000 }).toBe(8);
    expect(page.url()).toBe(`${base()}/`);
    expect(await page.evaluate(() => location.hash)).toBe('');
    expect(await form(page).count()).toBe(0);
    await page.screenshot({ path: `${ARTIFACTS}/sign-in-token-link.png` });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a #token= link with an agent token shows the form with the refusal, and the token leaves the address bar', async () => {
    const { page } = await freshPage();
    await page.goto(`${base()}/#token=${encodeURIComponent(hub.token.agent)}`);
    await form(page).waitFor({ timeout: 10_000 });
    await expect.poll(() => formError(page).count(), { timeout: 10_000 }).toBe(1);
    expect(await formError(page).innerText()).toMatch(/agent token cannot sign in/);
    expect(await page.evaluate(() => location.hash)).toBe('');
    expect(await tiles(page).count()).toBe(0);
    await page.close();
  });

  it('a token revoked while the page is open: the next API read answered 401 brings the form back, saying why', async () => {
    const t = hub.tokens.create('viewer', 'revoked while open');
    const { page, errors } = await freshPage();
    await page.goto(`${base()}/#token=${encodeURIComponent(t.token)}`);
    await expect.poll(() => tiles(page).count(), { timeout: 15_000 }).toBe(8);
    const chipId = (await tiles(page).first().getAttribute('data-chip-id'))!;
    await page.evaluate((id) => (location.hash = `#/chip/${encodeURIComponent(id)}`), chipId);
    await page.locator('[data-testid="chip-detail"]').waitFor({ timeout: 10_000 });
    hub.tokens.revoke(t.id);
    await page.locator('[data-testid="range-6h"]').click(); // GET /api/v1/series -> 401
    await form(page).waitFor({ timeout: 10_000 });
    expect(await formError(page).innerText()).toMatch(/no longer accepts this session/);
    expect(await page.locator('[data-testid="chip-detail"]').count()).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a token revoked while signed in: the next page load shows the form', async () => {
    const t = hub.tokens.create('viewer', 'revoked in a browser test');
    const { page } = await freshPage();
    await page.goto(`${base()}/#token=${encodeURIComponent(t.token)}`);
    await expect.poll(() => tiles(page).count(), { timeout: 15_000 }).toBe(8);
    hub.tokens.revoke(t.id);
    await page.reload();
    await form(page).waitFor({ timeout: 10_000 });
    expect(await tiles(page).count()).toBe(0);
    await page.close();
  });
});

describe('an open hub', () => {
  let open: TestHub;
  let openAgent: RunningAgent;
  beforeAll(async () => {
    open = await startTestHub({ auth: { open: true } });
    openAgent = await runAgent({
      hubs: [`ws://127.0.0.1:${open.port}`],
      sources: [createSource('sim-nvml', { seed: 3, intervalMs: 500, hostname: 'p5-open-1', log: silentLogger })],
      intervalMs: 500,
      log: silentLogger,
    });
  });
  afterAll(async () => {
    await openAgent?.stop(500);
    await open?.stop();
  });

  it('shows the dashboard at once: no sign-in form, no sign-out', async () => {
    const { page, errors } = await freshPage();
    await page.goto(open.url.replace('localhost', '127.0.0.1'));
    await expect.poll(() => tiles(page).count(), { timeout: 15_000 }).toBe(8);
    expect(await form(page).count()).toBe(0);
    expect(await page.locator('[data-testid="sign-out"]').count()).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });
});
