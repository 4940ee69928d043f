/**
 * The fleet heatmap in headless Chromium at 1920x1080: as a component with 1,000 and 10,000
 * made-up chips (fits one screen, stale/offline drawn as such, hover, metric switch), and end to
 * end against a real hub with simulated agents (filters and URL round trip with Back, a click
 * opening a chip and Escape returning, a stale chip drawn hatched not as 0, energy figures equal
 * to /api/v1/energy's). Screenshots go to test-artifacts/.
 */
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import type { ChipView } from '../../schema/protocol.ts';
import { runAgent, type RunningAgent } from '../../agents/agent-runtime.ts';
import { createSource } from '../../agents/sources/source-registry.ts';
import { ensureClientBuilt } from '../../cli/client-build.ts';
import { silentLogger } from '../../common/logger.ts';
import { evalDeep, launchChromium, signIn } from '../helpers/browser.ts';
import { batch, chipInfo, hello, sample } from '../helpers/frames.ts';
import { syntheticFleet } from '../helpers/synthetic-fleet.ts';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';
import type { TestSocket } from '../helpers/ws-client.ts';

const ARTIFACTS = 'test-artifacts';
let hub: TestHub;
let agents: RunningAgent[];
let hand: TestSocket;
let handTimer: ReturnType<typeof setInterval>;
let browser: BrowserContext;
const base = () => hub.url.replace('localhost', '127.0.0.1');

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  await ensureClientBuilt(silentLogger);
  hub = await startTestHub();
  const hubs = [`ws://127.0.0.1:${hub.port}`];
  agents = [
    await runAgent({ hubs, token: hub.token.agent, sources: [createSource('sim-nvml', { seed: 1, intervalMs: 500, hostname: 'p5-ui-10', log: silentLogger })], intervalMs: 500, log: silentLogger }),
    await runAgent({ hubs, token: hub.token.agent, sources: [createSource('sim-neuron', { seed: 1, intervalMs: 500, hostname: 'trn2-ui-2', log: silentLogger })], intervalMs: 500, log: silentLogger }),
  ];
  // A hand-driven host: GPU-zero reports 0 % and 0 W every 200 ms; GPU-quiet reports once (busy), then goes stale.
  hand = await hub.ws('/ws/agent');
  hand.send(hello('hand-agent', [chipInfo(0, { chipId: 'GPU-zero' }), chipInfo(1, { chipId: 'GPU-quiet' })], { intervalMs: 200, host: { hostname: 'p5-ui-9', instanceId: null, instanceType: 'p5.48xlarge' } }));
  await hand.waitFor((f) => f.type === 'welcome');
  let seq = 0;
  hand.send(batch(seq++, [sample('GPU-quiet', Date.now(), { utilPct: 93 }), sample('GPU-zero', Date.now(), { utilPct: 0, powerW: 0 })]));
  handTimer = setInterval(() => hand.send(batch(seq++, [sample('GPU-zero', Date.now(), { utilPct: 0, powerW: 0 })])), 200);
  browser = await launchChromium();
  await signIn(browser, base(), hub.token.viewer);
}, 60_000);

afterAll(async () => {
  clearInterval(handTimer);
  hand?.close();
  await browser?.close();
  await Promise.all((agents ?? []).map((a) => a.stop(500)));
  await hub?.stop();
});

async function fullHdPage(): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  await page.setViewportSize({ width: 1920, height: 1080 });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { page, errors };
}

/** `cellInfo` of a chip in the page's heatmap (the app's, or the standalone one). */
function cellInfo(page: Page, chipId: string) {
  return evalDeep(page, 'fleet-heatmap', (hm: any, id: string) => {
    return hm.cellInfo(id) ?? null;
  }, chipId);
}

/** RGB values found across a chip's cell (a 3x3 grid of points inside it). */
function cellPixels(page: Page, chipId: string) {
  return evalDeep(page, 'fleet-heatmap', (hm: any, id: string) => {
    const info = hm.cellInfo(id);
    const canvas = hm.shadowRoot.querySelector('canvas') as HTMLCanvasElement;
    const ctx = canvas.getContext('2d')!;
    const dpr = canvas.width / canvas.clientWidth;
    const out = new Set<string>();
    for (const fx of [0.2, 0.5, 0.8]) for (const fy of [0.2, 0.5, 0.8]) {
      const d = ctx.getImageData(Math.floor((info.x + info.size * fx) * dpr), Math.floor((info.y + info.size * fy) * dpr), 1, 1).data;
      out.add(`${d[0]},${d[1]},${d[2]}`);
    }
    return [...out];
  }, chipId);
}

/** Replaces the app by a standalone `<fleet-view>` showing `chips` (state changes applied in place). */
async function mountView(page: Page, chips: ChipView[]): Promise<void> {
  await page.evaluate((chips) => {
    document.querySelector('fleet-app')?.remove();
    let v = document.querySelector('fleet-view') as any;
    if (!v) {
      v = document.createElement('fleet-view');
      v.style.fontFamily = 'system-ui, sans-serif';
      v.style.color = '#e8edf3';
      v.addEventListener('view-change', (e: CustomEvent) => (v.state = e.detail));
      document.body.append(v);
    }
    v.loaded = true;
    v.chips = chips;
  }, chips);
}

const heatmap = (page: Page) => page.locator('fleet-heatmap');
const PALETTE_LOW = '68,1,84';

describe('fleet heatmap component with made-up fleets', () => {
  it('draws 1,000 and 10,000 chips on one 1920x1080 screen; stale and offline as patterns; hover and metric switch', async () => {
    const { page, errors } = await fullHdPage();
    await page.goto(`${base()}/#/`);
    await page.locator('fleet-app').waitFor();
    for (const n of [1_000, 10_000]) {
      const fleet = syntheticFleet(n, { seed: 7 });
      await mountView(page, fleet);
      await expect.poll(async () => Number(await heatmap(page).getAttribute('data-chips')), { timeout: 10_000 }).toBe(fleet.length);
      await expect.poll(async () => Number((await heatmap(page).getAttribute('data-draws')) ?? 0), { timeout: 10_000 }).toBeGreaterThan(0);
      const box = (await page.locator('fleet-heatmap canvas').boundingBox())!;
      expect(box.y + box.height).toBeLessThanOrEqual(1080);
      expect(Number(await heatmap(page).getAttribute('data-cell'))).toBeGreaterThanOrEqual(n === 1_000 ? 20 : 8);
      await page.screenshot({ path: `${ARTIFACTS}/heatmap-${n}.png` });

      const stale = fleet.find((c) => c.status === 'stale')!;
      const offline = fleet.find((c) => c.status === 'offline')!;
      const idle = fleet.find((c) => c.status === 'live' && c.latest!.utilPct! < 5)!;
      expect(await cellInfo(page, stale.chipId)).toMatchObject({ kind: 'stale', value: null });
      expect(await cellInfo(page, offline.chipId)).toMatchObject({ kind: 'offline', value: null });
      expect(await cellInfo(page, idle.chipId)).toMatchObject({ kind: 'value', idle: true });
      expect(await cellPixels(page, stale.chipId)).not.toContain(PALETTE_LOW);

      // Hover names the chip, its status and the sample's age.
      const at = (await cellInfo(page, stale.chipId))!;
      await page.mouse.move(at.pageX, at.pageY);
      const tip = page.locator('[data-testid="heat-tooltip"]');
      await expect.poll(() => tip.getAttribute('data-chip-id'), { timeout: 10_000 }).toBe(stale.chipId);
      expect(await tip.textContent()).toMatch(/stale · sample 1m ago/);
      await page.mouse.move(1, 1);
    }

    // Metric switch: power colours by watts, the legend says so; stale stays stale.
    await page.locator('[data-testid="filter-metric"]').selectOption('power');
    await expect.poll(() => heatmap(page).getAttribute('data-metric'), { timeout: 10_000 }).toBe('power');
    const fleet = syntheticFleet(10_000, { seed: 7 });
    const live = fleet.find((c) => c.status === 'live')!;
    await expect.poll(async () => (await cellInfo(page, live.chipId))?.value, { timeout: 10_000 }).toBe(live.latest!.powerW);
    expect(await page.locator('[data-testid="heat-legend"]').textContent()).toContain('Power (W)');
    expect(await page.locator('[data-testid="heat-legend"]').getAttribute('data-max')).toBe(String(Math.ceil(Math.max(700, ...fleet.map((c) => c.latest!.powerW!)) / 100) * 100));
    await page.screenshot({ path: `${ARTIFACTS}/heatmap-10000-power.png` });

    // Grouped by model: sections with headings.
    await page.locator('[data-testid="filter-group"]').selectOption('model');
    await expect.poll(() => heatmap(page).getAttribute('data-chips'), { timeout: 10_000 }).toBe(String(fleet.length));
    await page.screenshot({ path: `${ARTIFACTS}/heatmap-10000-by-model.png` });
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);
});

describe('fleet heatmap end to end', () => {
  const hash = (page: Page) => page.evaluate(() => location.hash);
  const chipsShown = (page: Page) => heatmap(page).getAttribute('data-chips');

  it('draws a stale chip hatched, not as 0; keeps filters, metric and search in the URL; Back and links restore them; a click opens a chip and Escape returns', async () => {
    const { page, errors } = await fullHdPage();
    await page.goto(`${base()}/#/?density=heatmap`);
    await expect.poll(() => chipsShown(page), { timeout: 15_000 }).toBe('26');
    await expect.poll(async () => (await cellInfo(page, 'GPU-quiet'))?.kind, { timeout: 10_000 }).toBe('stale');
    await expect.poll(async () => (await cellInfo(page, 'GPU-zero'))?.kind, { timeout: 10_000 }).toBe('value');
    expect((await cellInfo(page, 'GPU-zero'))?.value).toBe(0);
    expect(await cellPixels(page, 'GPU-zero')).toContain(PALETTE_LOW);
    expect(await cellPixels(page, 'GPU-quiet')).not.toContain(PALETTE_LOW);
    expect(await page.locator('[data-testid="fleet-summary"]').getAttribute('data-stale')).toBe('1');
    await page.screenshot({ path: `${ARTIFACTS}/heatmap-hub.png` });

    await page.locator('[data-testid="filter-vendor"]').selectOption('nvidia');
    await expect.poll(() => hash(page), { timeout: 10_000 }).toBe('#/?density=heatmap&vendor=nvidia');
    await expect.poll(() => chipsShown(page), { timeout: 10_000 }).toBe('10');
    // The hub applies the filter: the page's live subscription holds only those chips.
    await expect.poll(() => page.locator('[data-testid="count-total"]').textContent(), { timeout: 10_000 }).toBe('10');
    await page.locator('[data-testid="filter-metric"]').selectOption('power');
    await expect.poll(() => hash(page), { timeout: 10_000 }).toBe('#/?metric=power&density=heatmap&vendor=nvidia');
    await expect.poll(() => heatmap(page).getAttribute('data-metric'), { timeout: 10_000 }).toBe('power');
    await page.locator('[data-testid="filter-q"]').fill('UI-9');
    await page.locator('[data-testid="filter-q"]').press('Enter');
    await expect.poll(() => hash(page), { timeout: 10_000 }).toBe('#/?metric=power&density=heatmap&vendor=nvidia&q=UI-9');
    await expect.poll(() => chipsShown(page), { timeout: 10_000 }).toBe('2');

    await page.goBack();
    await expect.poll(() => chipsShown(page), { timeout: 10_000 }).toBe('10');
    await page.goBack();
    await expect.poll(() => heatmap(page).getAttribute('data-metric'), { timeout: 10_000 }).toBe('util');
    expect(await page.locator('[data-testid="filter-metric"]').inputValue()).toBe('util');

    // The link alone reproduces the view.
    const link = `${base()}/#/?metric=power&density=heatmap&vendor=nvidia&q=UI-9`;
    const fresh = await browser.newPage();
    await fresh.setViewportSize({ width: 1920, height: 1080 });
    await fresh.goto(link);
    await expect.poll(() => chipsShown(fresh), { timeout: 15_000 }).toBe('2');
    expect(await fresh.locator('[data-testid="filter-metric"]').inputValue()).toBe('power');
    expect(await fresh.locator('[data-testid="filter-vendor"]').inputValue()).toBe('nvidia');
    expect(await fresh.locator('[data-testid="filter-q"]').inputValue()).toBe('UI-9');
    await fresh.close();

    // Click a cell: the chip opens; Escape goes back to the fleet view it came from.
    await page.goto(link);
    await expect.poll(() => chipsShown(page), { timeout: 15_000 }).toBe('2');
    await expect.poll(async () => (await cellInfo(page, 'GPU-zero'))?.kind, { timeout: 10_000 }).toBe('value');
    const at = (await cellInfo(page, 'GPU-zero'))!;
    await page.mouse.click(at.pageX, at.pageY);
    await expect.poll(() => hash(page), { timeout: 10_000 }).toBe('#/chip/GPU-zero');
    await page.locator('[data-testid="chip-detail"]').waitFor();
    await page.keyboard.press('Escape');
    await expect.poll(() => hash(page), { timeout: 10_000 }).toBe('#/?metric=power&density=heatmap&vendor=nvidia&q=UI-9');

    // Keyboard: focus the map, arrows move, Enter opens.
    await expect.poll(() => chipsShown(page), { timeout: 10_000 }).toBe('2');
    // Again while the map is still settling after Escape (its canvas re-rendered, focus not yet taken):
    // the same keys lead to the same chip however often they are pressed from the list.
    await expect
      .poll(
        async () => {
          if ((await hash(page)) !== '#/chip/GPU-quiet') {
            await page.locator('fleet-heatmap canvas').focus();
            await page.keyboard.press('ArrowRight');
            await page.keyboard.press('ArrowRight');
            await page.keyboard.press('Enter');
          }
          return hash(page);
        },
        { timeout: 10_000 },
      )
      .toBe('#/chip/GPU-quiet');
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);

  it('host view: a line per chip in each metric chart, one cursor across the charts, the agent health; Escape returns', async () => {
    const { page, errors } = await fullHdPage();
    await page.goto(`${base()}/#/?density=tiles&q=p5-ui-10`);
    await page.locator('[data-testid="host-link"]').click();
    await expect.poll(() => hash(page), { timeout: 10_000 }).toBe('#/host/p5-ui-10');
    const util = page.locator('[data-testid="host-chart-utilPct"]');
    await expect.poll(async () => Number(await util.getAttribute('data-points')), { timeout: 15_000 }).toBeGreaterThan(1);
    const cursors = () =>
      Promise.all(
        ['utilPct', 'powerW', 'tempC', 'memUsedBytes'].map(async (f) => {
          const c = await evalDeep(page, `[data-testid="host-chart-${f}"]`, (chart: any) => {
            const u = chart.uplot;
            return { series: u.series.length as number, left: Math.round(u.cursor.left ?? -1), idx: (u.cursor.idx ?? null) as number | null };
          }, null);
          return c!;
        }),
      );
    expect((await cursors()).map((c) => c.series)).toEqual([9, 9, 9, 9]); // time + 8 GPUs
    const over = (await util.locator('.u-over').boundingBox())!;
    await page.mouse.move(over.x + over.width * 0.7, over.y + over.height / 2);
    // The same moment everywhere (the plots' widths differ with their axes, so compare the data index).
    await expect.poll(async () => {
      const c = await cursors();
      return c.every((x) => x.left > 0 && x.idx != null && x.idx === c[0].idx) ? c[0].idx : JSON.stringify(c);
    }, { timeout: 10_000 }).toBeTypeOf('number');
    const health = page.locator('[data-testid="agent-health"]');
    await expect.poll(() => health.count(), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await health.first().textContent()).toContain('sim-nvml');
    await page.screenshot({ path: `${ARTIFACTS}/host-view.png` });
    await page.mouse.move(1, 1);
    await page.keyboard.press('Escape');
    await expect.poll(() => hash(page), { timeout: 10_000 }).toBe('#/?density=tiles&q=p5-ui-10');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('chip view: dragging across a past-range chart reads that span again from /api/v1/series at a finer step; the charts share a cursor', async () => {
    const { page, errors } = await fullHdPage();
    const series: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/api/v1/series')) series.push(decodeURIComponent(r.url()));
    });
    await page.goto(`${base()}/#/chip/GPU-zero`);
    await page.locator('[data-testid="range-1h"]').click();
    const util = page.locator('[data-testid="chart-util"]');
    const caption = page.locator('[data-testid="history-caption"]');
    await expect.poll(() => caption.getAttribute('data-state'), { timeout: 15_000 }).toBe('ok');
    const wholeStep = await caption.getAttribute('data-step');
    expect(series.some((u) => u.includes('from=now-1h&to=now'))).toBe(true);

    const over = (await util.locator('.u-over').boundingBox())!;
    const y = over.y + over.height / 2;
    const t0 = Date.now();
    await page.mouse.move(over.x + over.width * 0.3, y);
    await page.mouse.down();
    await page.mouse.move(over.x + over.width * 0.55, y, { steps: 4 });
    await page.mouse.move(over.x + over.width * 0.8, y, { steps: 4 });
    await page.mouse.up();
    await expect.poll(() => caption.getAttribute('data-zoomed'), { timeout: 10_000 }).toBe('true');
    await expect.poll(() => series.find((u) => /from=\d+&to=\d+&maxPoints=800&agg=avg/.test(u)) ?? null, { timeout: 10_000 }).not.toBeNull();
    const zoomed = series.find((u) => /from=\d+&to=\d+&maxPoints=800&agg=avg/.test(u))!;
    const [, from, to] = /from=(\d+)&to=(\d+)/.exec(zoomed)!.map(Number);
    // Half of the hour shown, from 30 % to 80 % of the way along it.
    expect((to - from) / 3_600_000).toBeGreaterThan(0.4);
    expect((to - from) / 3_600_000).toBeLessThan(0.6);
    expect(from).toBeGreaterThan(t0 - 3_600_000 * 0.8);
    expect(to).toBeLessThan(t0 - 3_600_000 * 0.1);
    expect(zoomed).toContain('chip=GPU-zero');
    await expect.poll(() => caption.getAttribute('data-state'), { timeout: 10_000 }).toBe('ok');
    const stepMs = (s: string | null) => ({ '10s': 10e3, '30s': 30e3, '1m': 60e3, '5m': 300e3 })[s ?? ''] ?? Infinity;
    expect(stepMs(await caption.getAttribute('data-step'))).toBeLessThanOrEqual(stepMs(wholeStep));

    // One cursor for the chip's charts.
    await page.mouse.move(over.x + over.width * 0.5, y);
    const idx = () =>
      evalDeep(page, 'chip-history', (hist: any) => ['chart-util', 'chart-power', 'chart-mem'].map((id) => hist.shadowRoot.querySelector(`[data-testid="${id}"]`)?.uplot?.cursor.idx ?? null), null).then((c) => c ?? [null, null, null]);
    await expect.poll(async () => {
      const c = await idx();
      return c[0] != null && c.every((i) => i === c[0]) ? true : JSON.stringify(c);
    }, { timeout: 10_000 }).toBe(true);
    await page.screenshot({ path: `${ARTIFACTS}/chip-zoomed.png` });
    await page.locator('[data-testid="zoom-reset"]').click();
    await expect.poll(() => caption.getAttribute('data-zoomed'), { timeout: 10_000 }).toBe('false');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('colours by energy over the range with the figures /api/v1/energy gives', async () => {
    clearInterval(handTimer);
    await Promise.all(agents.map((a) => a.stop(500)));
    await new Promise((r) => setTimeout(r, 1500));
    const read = async () => (await hub.get('/api/v1/energy?from=now-6h&groupBy=chip')).body as { rows: { chipId: string; energyKWh: number | null }[] };
    let answer = await read();
    await expect.poll(async () => {
      const again = await read();
      const same = JSON.stringify(again.rows) === JSON.stringify(answer.rows);
      answer = again;
      return same;
    }, { timeout: 10_000 }).toBe(true);
    const withEnergy = answer.rows.filter((r) => r.energyKWh != null);
    expect(withEnergy.length).toBeGreaterThanOrEqual(24);

    const { page, errors } = await fullHdPage();
    await page.goto(`${base()}/#/?metric=energy&density=heatmap&range=6h`);
    await expect.poll(() => chipsShown(page), { timeout: 15_000 }).toBe('26');
    await expect.poll(async () => (await cellInfo(page, withEnergy[0].chipId))?.value ?? null, { timeout: 10_000 }).not.toBeNull();
    for (const r of answer.rows) {
      const info = await cellInfo(page, r.chipId);
      expect(info?.value ?? null, r.chipId).toBe(r.energyKWh);
      // History: drawn as a value even for a chip that is offline now (its status marked over it).
      if (r.energyKWh != null) expect(info?.kind).toBe('value');
    }
    expect(await page.locator('[data-testid="heat-legend"]').textContent()).toContain('Energy over the range');
    await page.screenshot({ path: `${ARTIFACTS}/heatmap-hub-energy.png` });
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
