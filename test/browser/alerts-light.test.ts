/**
 * The alerts view at fleet scale and in the light theme, in headless Chromium against a real hub:
 * 64 chips on 4 hosts, three REST rules — HotPower (critical) firing on 32 chips, Warm (warning)
 * firing on 16, SlowBurn (info, `for: 1h`) pending on 16. The view groups them by rule (most
 * severe first, folded), a group unfolds into its chips (and says so in the URL), the search by
 * chip or host narrows them (and survives a reload of the URL), the section nav reaches the dead
 * letters without scrolling, and the page stays short. In the light colour scheme the state and
 * severity pills keep a text contrast of at least 4.5 against their backgrounds, the summaries
 * too, and row separators are hairlines; the heatmap legend keys the outline by severity.
 * Screenshots: test-artifacts/alerts-scale.png, alerts-scale-open.png, alerts-light.png,
 * alerts-light-legend.png.
 */
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Sample } from '../../schema/sample.ts';
import { ensureClientBuilt } from '../../cli/client-build.ts';
import { silentLogger } from '../../common/logger.ts';
import { launchChromiumBrowser } from '../helpers/browser.ts';
import { batch, chipInfo, hello, sample } from '../helpers/frames.ts';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';
import type { TestSocket } from '../helpers/ws-client.ts';

const ARTIFACTS = 'test-artifacts';
const HOSTS = ['a', 'b', 'c', 'd'] as const;
const PER_HOST = 16;
const chipId = (h: string, i: number) => `GPU-s-${h}-${i}`;
const hostOf = (h: string) => `scale-${h}-host`;
const RULES = [
  { id: 'scale-hot', name: 'HotPower', field: 'powerW', op: '>', threshold: 600, for: '0s', severity: 'critical', selector: { host: [hostOf('a'), hostOf('b')] }, summary: '{{chip}} at {{value}} W' },
  { id: 'scale-warm', name: 'Warm', field: 'tempC', op: '>', threshold: 80, for: '0s', severity: 'warning', selector: { host: [hostOf('c')] }, summary: '{{chip}} at {{value}} °C' },
  { id: 'scale-slow', name: 'SlowBurn', field: 'utilPct', op: '>', threshold: 90, for: '1h', severity: 'info', selector: { host: [hostOf('d')] }, summary: '{{chip}} busy' },
];

let hub: TestHub;
let browser: Browser;
const agents: TestSocket[] = [];
let timer: ReturnType<typeof setInterval> | null = null;
let seq = 0;
const base = () => hub.url.replace('localhost', '127.0.0.1');

function samplesOf(h: string, ts: number): Sample[] {
  return Array.from({ length: PER_HOST }, (_, i) =>
    sample(chipId(h, i), ts, h === 'a' || h === 'b' ? { powerW: 650 } : h === 'c' ? { tempC: 85 } : { utilPct: 95 }),
  );
}

async function newPage(colorScheme: 'light' | 'dark'): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ colorScheme, viewport: { width: 1400, height: 900 } });
  const res = await context.request.post(`${base()}/api/v1/session`, { data: { token: hub.token.admin } });
  expect(res.ok()).toBe(true);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { page, errors };
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  await ensureClientBuilt(silentLogger);
  hub = await startTestHub();
  for (const r of RULES) {
    const res = await fetch(`${base()}/api/v1/alerts/rules`, { method: 'POST', headers: { ...hub.auth('admin'), 'content-type': 'application/json' }, body: JSON.stringify(r) });
    expect(res.status, await res.text()).toBe(201);
  }
  for (const h of HOSTS) {
    const ws = await hub.ws('/ws/agent');
    ws.send(hello(`scale-${h}`, Array.from({ length: PER_HOST }, (_, i) => chipInfo(i, { chipId: chipId(h, i) }))));
    await ws.waitFor((f) => f.type === 'welcome');
    agents.push(ws);
  }
  const send = () => {
    const now = Date.now();
    HOSTS.forEach((h, k) => agents[k]!.send(batch(seq++, samplesOf(h, now))));
  };
  send();
  timer = setInterval(send, 1000);
  browser = await launchChromiumBrowser();
}, 60_000);

afterAll(async () => {
  if (timer) clearInterval(timer);
  for (const a of agents) a.close();
  await browser?.close();
  await hub?.stop();
});

const group = (page: Page, rule: string) => page.locator(`[data-testid="alert-group"][data-rule="${rule}"]`);
const hash = (page: Page) => page.evaluate(() => location.hash);

describe('alerts at fleet scale', () => {
  it('groups by rule (most severe first, folded), unfolds a group into its chips, searches by chip or host, and the section nav reaches the dead letters', async () => {
    const { page, errors } = await newPage('dark');
    await page.goto(`${base()}/#/alerts`);
    await expect.poll(async () => ((await group(page, 'scale-hot').count()) ? group(page, 'scale-hot').getAttribute('data-count') : null), { timeout: 15_000 }).toBe('32');
    await expect.poll(() => group(page, 'scale-slow').getAttribute('data-pending'), { timeout: 10_000 }).toBe('16');
    expect(await group(page, 'scale-hot').getAttribute('data-firing')).toBe('32');
    expect(await group(page, 'scale-hot').getAttribute('data-severity')).toBe('critical');
    expect(await group(page, 'scale-warm').getAttribute('data-count')).toBe('16');
    expect(await group(page, 'scale-warm').getAttribute('data-severity')).toBe('warning');
    // most severe first
    const order = await page.locator('[data-testid="alert-group"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-rule')));
    const mine = order.filter((r) => r!.startsWith('scale-'));
    expect(mine).toEqual(['scale-hot', 'scale-warm', 'scale-slow']);
    // 64 alerts: folded, one row per rule
    expect(await page.locator('[data-testid="active-alert"]').count()).toBe(0);
    expect(await group(page, 'scale-hot').innerText()).toMatch(/32 firing/);
    expect(await group(page, 'scale-hot').innerText()).toMatch(/2 hosts/);
    // the rule's condition and the value's unit (from the rules in force)
    await expect.poll(() => group(page, 'scale-hot').innerText(), { timeout: 10_000 }).toMatch(/powerW > 600 W/);
    expect(await group(page, 'scale-hot').innerText()).toMatch(/up to 650 W/);
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    expect(height).toBeLessThan(3000);
    await page.waitForTimeout(300);
    await page.screenshot({ path: `${ARTIFACTS}/alerts-scale.png`, fullPage: true });

    // unfold Warm: its 16 chips, in the URL
    await group(page, 'scale-warm').locator('[data-testid="alert-group-toggle"]').click();
    await expect.poll(() => page.locator('[data-testid="active-alert"][data-rule="scale-warm"]').count(), { timeout: 5000 }).toBe(16);
    expect(await group(page, 'scale-warm').locator('[data-testid="alert-group-toggle"]').getAttribute('aria-expanded')).toBe('true');
    expect(await hash(page)).toBe('#/alerts?open=scale-warm');
    const first = page.locator('[data-testid="active-alert"][data-rule="scale-warm"]').first();
    expect(await first.getAttribute('data-chip')).toBe(chipId('c', 0));
    expect(await first.locator('[data-testid="alert-host-link"]').getAttribute('href')).toBe(`#/host/${hostOf('c')}`);
    expect(await first.locator('[data-testid="alert-chip-link"]').getAttribute('href')).toBe(`#/chip/${chipId('c', 0)}`);
    await page.waitForTimeout(300);
    await page.screenshot({ path: `${ARTIFACTS}/alerts-scale-open.png` });

    // search by chip: one alert, unfolded on its own; the history narrows too
    await page.locator('[data-testid="alerts-search"]').fill(chipId('b', 3));
    await expect.poll(() => page.locator('[data-testid="alerts-shown"]').getAttribute('data-count'), { timeout: 5000 }).toBe('1');
    expect(await page.locator('[data-testid="alert-group"]').count()).toBe(1);
    const only = page.locator('[data-testid="active-alert"]');
    await expect.poll(() => only.count()).toBe(1);
    expect(await only.getAttribute('data-chip')).toBe(chipId('b', 3));
    await expect.poll(() => page.locator('[data-testid="history-event"]').evaluateAll((els) => [...new Set(els.map((e) => e.getAttribute('data-chip')))]), { timeout: 10_000 }).toEqual([chipId('b', 3)]);
    expect(await hash(page)).toBe(`#/alerts?q=${chipId('b', 3)}&open=scale-warm`);
    // the heading still counts every alert
    expect(await page.locator('[data-testid="alerts-counts"]').innerText()).toMatch(/^\d+ firing · \d+ pending$/);

    // search by host: that host's alerts alone (Warm's 16, and any built-in one its 85 °C trips)
    await page.locator('[data-testid="alerts-search"]').fill(hostOf('c'));
    await expect.poll(() => group(page, 'scale-hot').count(), { timeout: 5000 }).toBe(0);
    expect(await group(page, 'scale-slow').count()).toBe(0);
    expect(await group(page, 'scale-warm').getAttribute('data-count')).toBe('16');
    const hostCells = await page.locator('[data-testid="alert-host-link"]').evaluateAll((els) => [...new Set(els.map((e) => e.textContent))]);
    expect(hostCells).toEqual([hostOf('c')]);

    // the URL reproduces the view
    const again = (await newPage('dark')).page;
    await again.goto(`${base()}/#/alerts?q=${chipId('b', 3)}`);
    await expect.poll(() => again.locator('[data-testid="alerts-shown"]').getAttribute('data-count').catch(() => null), { timeout: 15_000 }).toBe('1');
    expect(await again.locator('[data-testid="alerts-search"]').inputValue()).toBe(chipId('b', 3));
    await again.context().close();

    // the section nav: the dead letters are on screen, and in the URL
    await page.locator('[data-testid="alerts-search"]').fill('');
    await page.locator('[data-testid="section-dead-letters"]').click();
    await expect.poll(() => hash(page)).toBe('#/alerts?section=dead-letters&open=scale-warm');
    expect(await page.locator('[data-testid="section-dead-letters"]').getAttribute('aria-current')).toBe('true');
    await expect
      .poll(async () => {
        const box = await page.locator('dead-letters').boundingBox();
        return box != null && box.y >= 0 && box.y < 900;
      }, { timeout: 5000 })
      .toBe(true);
    await page.locator('[data-testid="dead-letters-empty"]').waitFor({ timeout: 10_000 });
    // Back: the top again
    await page.goBack();
    await expect.poll(() => hash(page)).toBe('#/alerts?open=scale-warm');
    await expect.poll(() => page.evaluate(() => window.scrollY), { timeout: 5000 }).toBe(0);
    // a URL naming a section opens there
    const deep = (await newPage('dark')).page;
    await deep.goto(`${base()}/#/alerts?section=silences`);
    await deep.locator('silence-form').waitFor({ timeout: 15_000 });
    await expect.poll(async () => (await deep.evaluate(() => window.scrollY)) > 0, { timeout: 10_000 }).toBe(true);
    await deep.context().close();
    expect(errors).toEqual([]);
    await page.context().close();
  }, 90_000);
});

/** In the page: a colour's contrast ratio against what is behind it (ancestors' backgrounds composited, shadow roots crossed). */
function contrastIn(page: Page, selector: string) {
  return page.locator(selector).first().evaluate((el: Element) => {
    const parse = (c: string): [number, number, number, number] => {
      const m = c.match(/[\d.]+/g)!.map(Number);
      return [m[0]!, m[1]!, m[2]!, m[3] ?? 1];
    };
    const over = (top: number[], under: number[]) => [0, 1, 2].map((i) => top[i]! * top[3]! + under[i]! * (1 - top[3]!)).concat(1);
    const parentOf = (n: Element): Element | null => n.parentElement ?? ((n.getRootNode() as ShadowRoot).host ?? null);
    /** The colour behind `n`'s content: its own background over its ancestors'. */
    const backdrop = (n: Element): number[] => {
      const layers: number[][] = [];
      for (let e: Element | null = n; e; e = parentOf(e)) {
        const bg = parse(getComputedStyle(e).backgroundColor);
        if (bg[3] > 0) layers.push(bg);
        if (bg[3] >= 1) break;
      }
      let c = [255, 255, 255, 1];
      for (const l of layers.reverse()) c = over(l, c);
      return c;
    };
    const lum = (c: number[]) => {
      const f = (v: number) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * f(c[0]!) + 0.7152 * f(c[1]!) + 0.0722 * f(c[2]!);
    };
    const ratio = (a: number[], b: number[]) => {
      const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
      return (x! + 0.05) / (y! + 0.05);
    };
    const bg = backdrop(el);
    const text = over(parse(getComputedStyle(el).color), bg);
    const td = el.closest('td');
    const border = td ? over(parse(getComputedStyle(td).borderBottomColor), backdrop(td)) : null;
    return { text: ratio(text, bg), bg: bg.slice(0, 3).join(','), border: border && td ? ratio(border, backdrop(td)) : null, colour: getComputedStyle(el).color };
  });
}

describe('alerts in the light theme', () => {
  it('state pills, severity pills and summaries keep a contrast of 4.5; row separators are hairlines', async () => {
    const { page, errors } = await newPage('light');
    await page.goto(`${base()}/#/alerts?open=scale-hot,scale-slow`);
    await expect.poll(() => page.locator('[data-testid="active-alert"][data-rule="scale-slow"]').count(), { timeout: 15_000 }).toBe(16);
    const bgLum = await page.evaluate(() => getComputedStyle(document.querySelector('fleet-app')!).backgroundColor);
    expect(bgLum).toBe('rgb(244, 246, 249)'); // the light theme's --fs-bg
    const checks = {
      firingPill: '[data-testid="active-alert"][data-phase="firing"] .phase[data-phase="firing"]',
      pendingPill: '[data-testid="active-alert"][data-phase="pending"] .phase[data-phase="pending"]',
      groupFiring: '[data-testid="alert-group"][data-rule="scale-hot"] .phase[data-phase="firing"]',
      groupPending: '[data-testid="alert-group"][data-rule="scale-slow"] .phase[data-phase="pending"]',
      critical: '[data-testid="active-alert"] .sev[data-severity="critical"]',
      info: '[data-testid="active-alert"] .sev[data-severity="info"]',
      summary: '[data-testid="active-alert"][data-phase="firing"] .summary',
      pendingText: '[data-testid="active-alert"][data-phase="pending"] .summary',
      historyFiring: '[data-testid="history-event"] .phase[data-phase="firing"]',
    };
    await page.locator(checks.historyFiring).first().waitFor({ timeout: 10_000 });
    const results: Record<string, Awaited<ReturnType<typeof contrastIn>>> = {};
    for (const [name, sel] of Object.entries(checks)) results[name] = await contrastIn(page, sel);
    for (const [name, r] of Object.entries(results)) expect(r.text, `${name}: ${JSON.stringify(r)}`).toBeGreaterThanOrEqual(4.5);
    // separators between rows: a light hairline, not a heavy dark line
    const border = results.firingPill!.border!;
    expect(border).toBeGreaterThan(1);
    expect(border).toBeLessThan(1.5);
    await page.waitForTimeout(300);
    await page.screenshot({ path: `${ARTIFACTS}/alerts-light.png` });
    expect(errors).toEqual([]);
    await page.context().close();
  }, 40_000);

  it('the heatmap legend keys the alert outline by severity', async () => {
    const { page, errors } = await newPage('light');
    await page.goto(`${base()}/#/?density=heatmap`);
    const keys = page.locator('[data-testid="heat-legend-alerts"] .sev-key');
    await expect.poll(() => keys.count(), { timeout: 15_000 }).toBe(3);
    expect(await keys.evaluateAll((els) => els.map((e) => e.getAttribute('data-severity')))).toEqual(['critical', 'warning', 'info']);
    const borders = await page.locator('[data-testid="heat-legend-alerts"] .swatch.alert').evaluateAll((els) => els.map((e) => getComputedStyle(e).borderTopColor));
    expect(borders).toEqual(['rgb(239, 83, 80)', 'rgb(232, 170, 50)', 'rgb(95, 179, 255)']);
    await page.waitForTimeout(300);
    await page.locator('[data-testid="heat-legend"]').screenshot({ path: `${ARTIFACTS}/alerts-light-legend.png` });
    expect(errors).toEqual([]);
    await page.context().close();
  }, 30_000);
});
