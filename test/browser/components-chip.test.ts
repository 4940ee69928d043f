/**
 * Component tests, one chip: `<chip-tile>`, `<range-picker>`, `<uplot-chart>`, `<chip-history>`,
 * `<chip-detail>` and `<host-view>`, each mounted on its own in Chromium (test/helpers/component-page.ts)
 * with the fixture fleet and hub answers of test/fixtures/components/. The elements that read the hub
 * get the fake API of the page; the live connection is not served (chip-detail falls back to HTTP).
 * One screenshot: test-artifacts/components-chip.png (tiles of every state).
 */
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RANGES } from '../../client/src/history-range.ts';
import { activeAlerts } from '../fixtures/components/alerts.ts';
import { chipOf, smallFleet } from '../fixtures/components/fleet.ts';
import { agents, chipSamples, seriesAnswer } from '../fixtures/components/hub.ts';
import { openComponentPage, type ApiRequest, type ComponentPage } from '../helpers/component-page.ts';

const ARTIFACTS = 'test-artifacts';
let cp: ComponentPage;
const fleet = smallFleet();

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  cp = await openComponentPage(['chip-tile.ts', 'range-picker.ts', 'uplot-chart.ts', 'chip-history.ts', 'chip-detail.ts', 'host-view.ts']);
}, 60_000);

afterAll(async () => {
  await cp?.close();
});

/** The series answer for a chip-history request (by its `agg`), or `null` buckets when `empty`. */
const seriesFor = (chipId: string, opts: { empty?: boolean; gap?: [number, number] } = {}) => (req: ApiRequest) => ({
  body: seriesAnswer({ chipIds: [chipId], agg: req.query.agg as 'avg', buckets: 60, ...opts }),
});

describe('<chip-tile>', () => {
  it('shows values for live chips, stale and offline apart from values, and never 0 for a missing reading', async () => {
    await cp.reset();
    const alerts = activeAlerts().filter((a) => a.chipId === 'GPU-p5-ui-10-0' && a.phase === 'firing');
    for (const c of fleet) {
      await cp.mount('chip-tile', { chip: c, ...(c.chipId === 'GPU-p5-ui-10-0' ? { alerts: { severity: 'critical', count: alerts.length, alerts } } : {}) }, { keep: true, style: 'display:inline-block;width:160px;height:88px;margin:3px;vertical-align:top' });
    }
    const tile = (id: string) => `chip-tile[data-chip-id="${id}"]`;
    expect(await cp.count('chip-tile[data-testid="chip-tile"]')).toBe(fleet.length);

    // live, busy, with its job
    const busy = tile('GPU-p5-ui-2-0');
    expect(await cp.attr(busy, 'data-status')).toBe('live');
    expect(await cp.text(`${busy} .pct`)).toBe('87%');
    expect(await cp.texts(`${busy} .row span`)).toEqual(['612 W', '61 °C', '61.0 / 80 GiB']);
    expect(await cp.text(`${busy} .mem`)).toBe('61.0 / 80 GiB');
    expect(await cp.text(`${busy} [data-testid="tile-job"]`)).toBe('bert-pretrain-42');
    expect(await cp.attr(`${busy} a`, 'href')).toBe('#/chip/GPU-p5-ui-2-0');
    expect(await cp.attr(`${busy} a`, 'title')).toContain('H100 #0 on p5-ui-2');
    expect(await cp.attr(`${busy} a`, 'style')).toMatch(/background-color: rgb\(/);
    expect(await cp.count(`${busy} .badge`)).toBe(0);

    // a real zero is shown as 0
    const idle = tile('GPU-p5-ui-2-1');
    expect(await cp.text(`${idle} .pct`)).toBe('0%');
    expect(await cp.texts(`${idle} .row span`)).toEqual(['0 W', '33 °C', '0.0 / 80 GiB']);
    expect(await cp.text(`${idle} .mem`)).toBe('0.0 / 80 GiB');

    // missing readings: a dash, never 0
    const noPower = tile('GPU-p5-ui-2-2');
    expect(await cp.text(`${noPower} .pct`)).toBe('46%');
    expect(await cp.texts(`${noPower} .row span`)).toEqual(['—', '— °C', '61.0 / 80 GiB']);
    expect(await cp.attr(`${noPower} .na`, 'title')).toMatch(/not reported/);

    // stale: badge, hatched, its last-known values dimmed (not zeros)
    const stale = tile('GPU-p5-ui-2-3');
    expect(await cp.attr(stale, 'data-status')).toBe('stale');
    expect(await cp.attr(`${stale} a`, 'class')).toContain('stale');
    expect(await cp.text(`${stale} .badge`)).toBe('stale');
    expect(await cp.text(`${stale} .pct`)).toBe('91%');
    expect(await cp.texts(`${stale} .row span`)).toEqual(['655 W', '70 °C', '61.0 / 80 GiB']);
    expect(await cp.attr(`${stale} a`, 'style')).not.toContain('background-color');
    const look = await cp.page.locator(`${stale} .pct`).evaluate((el) => ({ opacity: getComputedStyle(el).opacity, bg: getComputedStyle(el.closest('a')!).backgroundImage }));
    expect(Number(look.opacity)).toBeLessThan(1);
    expect(look.bg).toContain('repeating-linear-gradient');

    // offline: a badge and no values at all
    const offline = tile('GPU-p5-ui-10-1');
    expect(await cp.attr(offline, 'data-status')).toBe('offline');
    expect(await cp.text(`${offline} .badge`)).toBe('offline');
    expect(await cp.count(`${offline} .pct`)).toBe(0);
    expect(await cp.text(`${offline} .dim-note`)).toBe('last seen 1h ago');
    expect(await cp.text(offline)).not.toMatch(/\d+ W|\d+%/);

    // live but no sample yet
    const waiting = tile('GPU-p5-ui-10-2');
    expect(await cp.text(`${waiting} .dim-note`)).toBe('waiting for data');
    expect(await cp.count(`${waiting} .pct`)).toBe(0);

    // Neuron: power estimated (~), no temperature
    const trn = tile('trn2-ui-1-neuron0');
    expect(await cp.text(`${trn} .est`)).toBe('~338 W');
    expect(await cp.text(`${trn} .na`)).toBe('— °C');

    // firing alerts: a badge in the worst severity's colour, a ring, the host's data-alert
    const hot = tile('GPU-p5-ui-10-0');
    expect(await cp.attr(hot, 'data-alert')).toBe('critical');
    expect(await cp.attr(`${hot} [data-testid="alert-badge"]`, 'data-count')).toBe('2');
    expect(await cp.text(`${hot} [data-testid="alert-badge"]`)).toBe('⚠ 2');
    expect(await cp.attr(`${hot} a`, 'class')).toContain('alerting');
    expect(await cp.attr(`${hot} a`, 'title')).toContain('ChipHot (critical)');
    await cp.screenshot(`${ARTIFACTS}/components-chip.png`, '#root');

    // the alerts gone: no badge, no data-alert
    await cp.set(hot, { alerts: undefined });
    expect(await cp.attr(hot, 'data-alert')).toBeNull();
    expect(await cp.count(`${hot} [data-testid="alert-badge"]`)).toBe(0);
    expect(cp.errors).toEqual([]);
  });
});

describe('<range-picker>', () => {
  it('marks the value pressed and emits range-change with the range picked (once)', async () => {
    await cp.reset();
    await cp.capture('range-change');
    await cp.mount('range-picker');
    expect(await cp.count('range-picker button')).toBe(RANGES.length);
    expect(await cp.text('range-picker [data-testid="range-live"]')).toBe('Live (10 min)');
    expect(await cp.attr('range-picker [data-testid="range-live"]', 'aria-pressed')).toBe('true');

    await cp.page.locator('range-picker [data-testid="range-6h"]').click();
    await cp.page.locator('range-picker [data-testid="range-6h"]').click(); // the same again: no event
    expect((await cp.events('range-change')).map((e) => e.detail)).toEqual([{ range: '6h' }]);
    expect(await cp.attr('range-picker [data-testid="range-6h"]', 'aria-pressed')).toBe('true');
    expect(await cp.attr('range-picker [data-testid="range-live"]', 'aria-pressed')).toBe('false');

    // given choices (the alert history's: past ranges only) and a value
    await cp.mount('range-picker', { choices: RANGES.filter((r) => r.key !== 'live'), value: '24h' });
    expect(await cp.count('range-picker [data-testid="range-live"]')).toBe(0);
    expect(await cp.attr('range-picker [data-testid="range-24h"]', 'aria-pressed')).toBe('true');
    await cp.page.locator('range-picker [data-testid="range-30d"]').click();
    expect((await cp.events('range-change')).at(-1)).toMatchObject({ target: 'range-picker', detail: { range: '30d' } });
    expect(cp.errors).toEqual([]);
  });
});

describe('<uplot-chart>', () => {
  it('plots the data it is given, with its heading, and builds the plot again when re-attached', async () => {
    await cp.reset();
    const el = await cp.mount(
      'uplot-chart',
      { heading: 'Utilization %', options: { series: [{}, { label: 'utilization', stroke: '#5fb3ff' }], scales: { x: { time: true } }, axes: [{}, {}] } },
      { style: 'display:block;width:600px;height:220px' },
    );
    expect(await el.getAttribute('data-points')).toBe('0');
    expect(await cp.text('uplot-chart [part="title"]')).toBe('Utilization %');
    const now = Math.floor(Date.now() / 1000);
    const xs = Array.from({ length: 120 }, (_, i) => now - 120 + i);
    await cp.call('uplot-chart', 'setData', [xs, xs.map((_, i) => 50 + 40 * Math.sin(i / 10))]);
    expect(await el.getAttribute('data-points')).toBe('120');
    const plot = await el.evaluate((c: any) => ({ n: c.uplot?.data[0].length, w: c.uplot?.width, canvas: !!c.shadowRoot.querySelector('canvas') }));
    expect(plot).toMatchObject({ n: 120, canvas: true });
    expect(plot.w).toBeGreaterThan(500);

    // detached (plot destroyed), then attached again: rebuilt with the same data
    const again = await el.evaluate(async (c: any) => {
      const parent = c.parentNode;
      c.remove();
      const gone = c.uplot === null;
      parent.append(c);
      await c.updateComplete;
      return { gone, back: c.uplot?.data[0].length };
    });
    expect(again).toEqual({ gone: true, back: 120 });
    expect(cp.errors).toEqual([]);
  });
});

describe('<chip-history>', () => {
  it('reads avg, min and max series for the range, plots them with step and tier, and keeps the Neuron note', async () => {
    await cp.reset();
    cp.api.on('GET /api/v1/series', seriesFor('GPU-p5-ui-2-0', { gap: [20, 30] }));
    await cp.mount('chip-history', { chipId: 'GPU-p5-ui-2-0', range: '6h', ratedW: 700, memTotalBytes: 80 * 2 ** 30 }, { style: 'display:block;width:900px' });
    const caption = 'chip-history [data-testid="history-caption"]';
    await expect.poll(() => cp.attr(caption, 'data-state')).toBe('ok');
    expect(await cp.attr(caption, 'data-step')).toBe('60s');
    expect(await cp.attr(caption, 'data-tier')).toBe('1m');
    expect(await cp.attr(caption, 'data-points')).toBe('60');
    expect(await cp.attr(caption, 'data-filled')).toBe('50');
    expect(await cp.text(caption)).toMatch(/^1-minute averages · 1m tier · shaded: min–max/);
    for (const id of ['chart-util', 'chart-power', 'chart-temp', 'chart-mem']) {
      await expect.poll(() => cp.attr(`chip-history uplot-chart[data-testid="${id}"]`, 'data-points')).toBe('60');
    }
    expect(await cp.attr('chip-history [data-testid="legend-gap"]', 'data-count')).toBe('1');
    const asked = cp.api.requests('GET /api/v1/series');
    expect(asked.map((r) => r.query.agg).sort()).toEqual(['avg', 'max', 'min']);
    expect(asked[0]!.query).toMatchObject({ chip: 'GPU-p5-ui-2-0', from: 'now-6h', to: 'now', fields: 'utilPct,powerW,tempC,memUsedBytes' });

    // zoomed: that span is asked for with maxPoints; "Whole 6 h" unzooms (zoom-change null)
    await cp.capture('zoom-change');
    const to = Date.now() - 600_000;
    await cp.set('chip-history', { zoom: { from: to - 3_600_000, to } });
    await expect.poll(() => cp.api.requests('GET /api/v1/series').some((r) => r.query.from === String(to - 3_600_000) && r.query.maxPoints === '800')).toBe(true);
    await expect.poll(() => cp.attr(caption, 'data-zoomed')).toBe('true');
    await cp.page.locator('chip-history [data-testid="zoom-reset"]').click();
    expect((await cp.events('zoom-change')).map((e) => e.detail)).toEqual([{ zoom: null }]);
    await expect.poll(() => cp.attr(caption, 'data-zoomed')).toBe('false');

    // Neuron: no temperature chart, a note
    await cp.set('chip-history', { neuron: true });
    expect(await cp.count('chip-history [data-testid="chart-temp"]')).toBe(0);
    expect(await cp.text('chip-history [data-testid="temp-unavailable"]')).toBe('Temperature is not exposed by Neuron.');
    expect(cp.errors).toEqual([]);
  });

  it('says so when the range holds no data, and shows the hub’s error when the read fails', async () => {
    await cp.reset();
    cp.api.on('GET /api/v1/series', seriesFor('GPU-p5-ui-2-0', { empty: true }));
    await cp.mount('chip-history', { chipId: 'GPU-p5-ui-2-0', range: '24h', refreshMs: 0 });
    await expect.poll(() => cp.text('chip-history [data-testid="history-empty"]')).toBe('No data in this range: the hub holds no samples of this chip in the last 24 h.');

    await cp.reset();
    cp.api.on('GET /api/v1/series', { status: 503, body: { code: 'unavailable', message: 'The store is not ready', requestId: null } });
    await cp.mount('chip-history', { chipId: 'GPU-p5-ui-2-0', range: '7d', refreshMs: 0 });
    await expect.poll(() => cp.attr('chip-history [data-testid="history-error"]', 'data-code')).toBe('unavailable');
    expect(await cp.text('chip-history [data-testid="history-error"]')).toContain('The store is not ready');
    expect(await cp.attr('chip-history [data-testid="history-caption"]', 'data-state')).toBe('error');
  });
});

describe('<chip-detail>', () => {
  it('shows the chip’s header and stats, its firing alerts, live charts from the HTTP fallback, and switches range', async () => {
    await cp.reset();
    const chip = chipOf(fleet, 'GPU-p5-ui-10-0');
    cp.api.on('GET /api/v1/alerts/history', { body: { from: 0, to: Date.now(), limit: 1000, truncated: false, events: [] } });
    cp.api.on(`GET /api/v1/chips/${chip.chipId}/samples`, { body: chipSamples(chip.chipId) });
    cp.api.on('GET /api/v1/series', seriesFor(chip.chipId));
    await cp.capture('chip-view-change');
    await cp.mount('chip-detail', { chipId: chip.chipId, chip, alerts: activeAlerts(), pollMs: 0 }, { style: 'display:block;width:1100px' });

    expect(await cp.text('chip-detail h2')).toBe('H100 #0');
    expect(await cp.text('chip-detail [data-testid="detail-chip-id"]')).toBe('GPU-p5-ui-10-0');
    expect(await cp.attr('chip-detail [data-testid="detail-host-link"]', 'href')).toBe('#/host/p5-ui-10');
    expect(await cp.attr('chip-detail [data-testid="detail-status"]', 'data-status')).toBe('live');
    const stats = await cp.text('chip-detail .stats');
    expect(stats).toContain('util99%');
    expect(stats).toContain('power700 W');
    expect(stats).toContain('limit700 W');
    expect(stats).toContain('temp84 °C');
    expect(stats).toContain('clock1980 MHz');
    // the alerts firing on this chip, not the other chips'
    const pills = await cp.page.locator('chip-detail [data-testid="chip-alert"]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-rule'), e.getAttribute('data-severity')]));
    expect(pills.sort()).toEqual([['power-at-limit', 'info'], ['thermal', 'critical']]);
    // the alert bands of its current alerts, in view
    expect(await cp.attr('chip-detail [data-testid="alert-band-notice"]', 'data-count')).toBe('2');

    // no live socket here: the samples come from the HTTP fallback
    await expect.poll(() => cp.attr('chip-detail uplot-chart[data-testid="chart-util"]', 'data-points'), { timeout: 10_000 }).toBe('300');
    expect(await cp.attr('chip-detail uplot-chart[data-testid="chart-temp"]', 'data-points')).toBe('300');
    expect(cp.api.requests(`GET /api/v1/chips/${chip.chipId}/samples`)[0]!.query.limit).toBeDefined();
    expect(cp.api.requests('GET /api/v1/alerts/history')[0]!.query).toMatchObject({ chip: chip.chipId, from: 'now-1h' });

    // a past range: chip-view-change, the host's range attribute, <chip-history> reads it
    await cp.page.locator('chip-detail [data-testid="range-6h"]').click();
    expect((await cp.events('chip-view-change')).map((e) => e.detail)).toEqual([{ range: '6h', zoom: null }]);
    expect(await cp.attr('chip-detail', 'range')).toBe('6h');
    await expect.poll(() => cp.attr('chip-detail chip-history [data-testid="history-caption"]', 'data-state')).toBe('ok');

    // a typed span the wrong way round: an error, no event
    await cp.page.locator('chip-detail [data-testid="custom-from"]').fill('2026-01-02T10:00');
    await cp.page.locator('chip-detail [data-testid="custom-to"]').fill('2026-01-01T10:00');
    await cp.page.locator('chip-detail [data-testid="custom-apply"]').click();
    expect(await cp.text('chip-detail [data-testid="custom-error"]')).toBe('From must be before To.');
    expect(await cp.events('chip-view-change')).toHaveLength(1);
    expect(cp.errors).toEqual([]);
  });

  it('gives a Neuron chip a note instead of a temperature chart and marks estimated power', async () => {
    await cp.reset();
    const chip = chipOf(fleet, 'trn2-ui-1-neuron0');
    cp.api.on('GET /api/v1/alerts/history', { body: { from: 0, to: Date.now(), limit: 1000, truncated: false, events: [] } });
    await cp.mount('chip-detail', { chipId: chip.chipId, chip, pollMs: 0 });
    expect(await cp.text('chip-detail [data-testid="temp-unavailable"]')).toBe('Temperature is not exposed by Neuron for Trainium2 chips.');
    expect(await cp.count('chip-detail [data-testid="chart-temp"]')).toBe(0);
    expect(await cp.text('chip-detail .stats')).toContain('power~338 W');
    expect(await cp.text('chip-detail .stats')).toContain('temp—');
    expect(await cp.text('chip-detail [data-testid="detail-job"]')).toBe('job llama-ft-7');
  });
});

describe('<host-view>', () => {
  it('overlays the host’s chips in four charts from its first sample, and lists its agent’s health', async () => {
    await cp.reset();
    const chips = fleet.filter((c) => c.host === 'p5-ui-2');
    cp.api.on('GET /api/v1/series', { body: seriesAnswer({ chipIds: chips.map((c) => c.chipId), host: 'p5-ui-2', buckets: 60, leadingEmpty: 10 }) });
    cp.api.on('GET /api/v1/agents', { body: agents() });
    await cp.mount('host-view', { host: 'p5-ui-2', chips }, { style: 'display:block;width:1200px' });

    expect(await cp.attr('host-view', 'data-testid')).toBe('host-view');
    expect(await cp.text('host-view h2')).toBe('p5-ui-2');
    expect(await cp.attr('host-view [data-testid="back-link"]', 'href')).toBe('#/');
    expect(await cp.text('host-view .bar span')).toBe('4 chips · p5.48xlarge');
    for (const f of ['utilPct', 'powerW', 'tempC', 'memUsedBytes']) {
      await expect.poll(() => cp.attr(`host-view [data-testid="host-chart-${f}"]`, 'data-points')).toBe('50');
    }
    expect(await cp.page.locator('host-view [data-testid="host-chart-powerW"]').evaluate((c: any) => c.uplot.series.slice(1).map((s: any) => s.label))).toEqual(['H100 #0', 'H100 #1', 'H100 #2', 'H100 #3']);
    expect(await cp.attr('host-view [data-testid="host-since"]', 'data-since')).not.toBeNull();
    expect(await cp.attr('host-view [data-testid="host-range-1h"]', 'aria-current')).toBe('true');
    expect(await cp.attr('host-view [data-testid="host-range-6h"]', 'href')).toBe('#/host/p5-ui-2?range=6h');
    const rows = cp.page.locator('host-view [data-testid="agent-health"]');
    expect(await rows.count()).toBe(2);
    expect(await rows.evaluateAll((els) => [...new Set(els.map((e) => e.getAttribute('data-agent-id')))])).toEqual(['agent-p5-ui-2']);
    expect(await cp.texts('host-view [data-testid="agent-health"]:first-child td')).toEqual(['agent-p5-ui-2 (0.1.0, every 1000 ms)', 'yes', expect.stringMatching(/^\ds ago$/), 'nvml', 'ok', '0', '0', '', '1 batches, 8 samples']);
    expect(await cp.texts('host-view [data-testid="agent-health"]:nth-child(2) td')).toEqual(['', '', '', 'nvidia-smi', 'restarting', '3', '2', 'nvidia-smi exited with code 15', '']);
    expect(await cp.attr('host-view [data-testid="agent-health"]:nth-child(2) td:nth-child(5)', 'class')).toBe('bad');
    expect(cp.api.requests('GET /api/v1/series')[0]!.query).toMatchObject({ host: 'p5-ui-2', from: 'now-1h', maxPoints: '1500' });
    expect(cp.errors).toEqual([]);
  });

  it('shows the hub’s message when the series cannot be read', async () => {
    await cp.reset();
    cp.api.on('GET /api/v1/series', { status: 400, body: { code: 'bad_request', message: 'unknown host p5-nope', requestId: 'r1' } });
    cp.api.on('GET /api/v1/agents', { body: { agents: [] } });
    await cp.mount('host-view', { host: 'p5-nope', chips: [] });
    await expect.poll(() => cp.text('host-view [data-testid="host-error"]')).toBe('unknown host p5-nope');
    expect(await cp.count('host-view uplot-chart')).toBe(0);
  });
});
