/**
 * Component tests, the fleet page's parts: `<fleet-filters>`, `<fleet-grid>`, `<fleet-heatmap>`,
 * `<fleet-view>` and `<fleet-energy>`, each mounted on its own in Chromium
 * (test/helpers/component-page.ts) with the fixture fleet of test/fixtures/components/fleet.ts.
 * One screenshot: test-artifacts/components-fleet.png (the fleet view, tiles).
 */
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChipAlerts } from '../../client/src/alerts-controller.ts';
import { groupChips } from '../../client/src/fleet-filter.ts';
import { sortChips } from '../../client/src/natural-sort.ts';
import { DEFAULT_VIEW, formatRoute } from '../../client/src/view-state.ts';
import { activeAlerts } from '../fixtures/components/alerts.ts';
import { shuffled, smallFleet } from '../fixtures/components/fleet.ts';
import { energyByVendor } from '../fixtures/components/hub.ts';
import { asMap, openComponentPage, type ComponentPage } from '../helpers/component-page.ts';

const ARTIFACTS = 'test-artifacts';
let cp: ComponentPage;
const fleet = smallFleet();

/** Firing alerts by chip, as the alerts controller hands them to the grid and the heatmap. */
function alertsByChip(): [string, ChipAlerts][] {
  const by = new Map<string, ChipAlerts>();
  for (const a of activeAlerts().filter((x) => x.phase === 'firing')) {
    const c = by.get(a.chipId) ?? { severity: a.severity, count: 0, alerts: [] };
    c.count++;
    c.alerts.push(a);
    if (a.severity === 'critical') c.severity = 'critical';
    by.set(a.chipId, c);
  }
  return [...by];
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  cp = await openComponentPage(['fleet-filters.ts', 'fleet-grid.ts', 'fleet-heatmap.ts', 'fleet-view.ts', 'fleet-energy.ts']);
}, 60_000);

afterAll(async () => {
  await cp?.close();
});

describe('<fleet-filters>', () => {
  const choices = { vendors: ['aws', 'nvidia'], models: ['H100', 'Trainium2'], types: ['p5.48xlarge', 'trn2.48xlarge'] };

  it('offers the fleet’s values and emits view-change with the whole new state for each control', async () => {
    await cp.reset();
    await cp.capture('view-change');
    await cp.mount('fleet-filters', { state: { ...DEFAULT_VIEW }, choices });
    const sel = (f: string) => cp.page.locator(`fleet-filters [data-testid="filter-${f}"]`);
    expect(await sel('vendor').locator('option').allTextContents()).toEqual(['all', 'AWS', 'NVIDIA']);
    expect(await sel('model').locator('option').allTextContents()).toEqual(['all', 'H100', 'Trainium2']);
    expect(await sel('type').locator('option').allTextContents()).toEqual(['all', 'p5.48xlarge', 'trn2.48xlarge']);
    expect(await sel('status').locator('option').allTextContents()).toEqual(['all', 'live', 'stale', 'offline']);
    expect(await sel('metric').inputValue()).toBe('util');

    const last = async () => (await cp.events('view-change')).at(-1)?.detail;
    await sel('vendor').selectOption('nvidia');
    expect(await last()).toEqual({ ...DEFAULT_VIEW, vendor: ['nvidia'] });
    await sel('status').selectOption('stale');
    expect(await last()).toEqual({ ...DEFAULT_VIEW, status: ['stale'] });
    await sel('metric').selectOption('power');
    expect(await last()).toEqual({ ...DEFAULT_VIEW, metric: 'power' });
    await sel('density').selectOption('heatmap');
    expect(await last()).toEqual({ ...DEFAULT_VIEW, density: 'heatmap' });
    await sel('range').selectOption('7d');
    expect(await last()).toEqual({ ...DEFAULT_VIEW, range: '7d' });
    await sel('alerting').check();
    expect(await last()).toEqual({ ...DEFAULT_VIEW, alerting: true });
    // the host search: at once on Enter
    await sel('q').fill('p5-ui');
    await sel('q').press('Enter');
    expect(await last()).toEqual({ ...DEFAULT_VIEW, q: 'p5-ui' });
    const events = await cp.events('view-change');
    expect(events.every((e) => e.target === 'fleet-filters')).toBe(true);
    expect(events).toHaveLength(7);
    expect(cp.errors).toEqual([]);
  });

  it('shows the state it is given, searches after a pause in typing, and clears the filters', async () => {
    await cp.reset();
    await cp.capture('view-change');
    const state = { ...DEFAULT_VIEW, vendor: ['aws'], status: ['live'], q: 'trn', alerting: true, metric: 'temp' };
    await cp.mount('fleet-filters', { state, choices });
    const sel = (f: string) => cp.page.locator(`fleet-filters [data-testid="filter-${f}"]`);
    expect(await sel('vendor').inputValue()).toBe('aws');
    expect(await sel('status').inputValue()).toBe('live');
    expect(await sel('metric').inputValue()).toBe('temp');
    expect(await sel('q').inputValue()).toBe('trn');
    expect(await sel('alerting').isChecked()).toBe(true);

    await sel('q').focus();
    await sel('q').press('End');
    await sel('q').pressSequentially('2-ui');
    expect(await cp.events('view-change')).toHaveLength(0);
    await expect.poll(async () => (await cp.events('view-change')).map((e) => e.detail.q), { timeout: 3000 }).toEqual(['trn2-ui']);

    await sel('clear').click();
    expect((await cp.events('view-change')).at(-1)!.detail).toEqual({ ...state, vendor: [], model: [], type: [], status: [], q: '', alerting: false });
    expect(cp.errors).toEqual([]);
  });
});

describe('<fleet-grid>', () => {
  it('says loading, then that no chip reported, while it has none', async () => {
    await cp.reset();
    await cp.mount('fleet-grid');
    expect(await cp.text('fleet-grid [data-testid="fleet-empty"]')).toBe('Loading fleet…');
    await cp.set('fleet-grid', { loaded: true });
    expect(await cp.text('fleet-grid [data-testid="fleet-empty"]')).toBe('No chips reported yet. Start an agent to see its chips here.');
  });

  it('renders one tile per chip under its host, hosts in natural order, with live power and alert badges', async () => {
    await cp.reset();
    // the order the fleet controller hands over (natural-sort.ts): p5-ui-2 before p5-ui-10
    const sorted = sortChips(shuffled(fleet));
    expect(sorted.map((c) => c.chipId)).toEqual(fleet.map((c) => c.chipId));
    await cp.mount('fleet-grid', { chips: sorted, loaded: true, alertsByChip: asMap(alertsByChip()) });

    const hosts = cp.page.locator('fleet-grid [data-testid="host-group"]');
    expect(await hosts.evaluateAll((els) => els.map((e) => e.getAttribute('data-host')))).toEqual(['p5-ui-2', 'p5-ui-10', 'trn2-ui-1']);
    expect(await cp.page.locator('fleet-grid chip-tile').evaluateAll((els) => els.map((e) => e.getAttribute('data-chip-id')))).toEqual(fleet.map((c) => c.chipId));
    expect(await cp.count('fleet-grid [data-host="p5-ui-2"] chip-tile')).toBe(4);
    expect(await cp.count('fleet-grid [data-host="p5-ui-10"] chip-tile')).toBe(3);
    expect(await cp.count('fleet-grid [data-host="trn2-ui-1"] chip-tile')).toBe(2);

    // headers: name (a link to the host view), instance type, chips (and how many live), live power
    expect(await cp.texts('fleet-grid [data-host="p5-ui-2"] header > *')).toEqual(['p5-ui-2', 'p5.48xlarge', '4 chips · 3 live', '0.6 kW', '⚠ 1 firing']);
    expect(await cp.texts('fleet-grid [data-host="p5-ui-10"] header > *')).toEqual(['p5-ui-10', 'p5.48xlarge', '3 chips · 2 live', '0.7 kW', '⚠ 2 firing']);
    expect(await cp.texts('fleet-grid [data-host="trn2-ui-1"] header > *')).toEqual(['trn2-ui-1', 'trn2.48xlarge', '2 chips', '0.5 kW']);
    expect(await cp.attr('fleet-grid [data-host="p5-ui-10"] [data-testid="host-link"]', 'href')).toBe(formatRoute({ view: 'host', host: 'p5-ui-10', range: '1h' }));
    expect(await cp.attr('fleet-grid [data-host="p5-ui-10"] [data-testid="host-alert-badge"]', 'data-severity')).toBe('critical');
    expect(await cp.attr('fleet-grid [data-host="p5-ui-2"] [data-testid="host-alert-badge"]', 'data-severity')).toBe('info');
    // tiles get their chip's alerts
    expect(await cp.attr('fleet-grid chip-tile[data-chip-id="GPU-p5-ui-10-0"]', 'data-alert')).toBe('critical');
    expect(await cp.attr('fleet-grid chip-tile[data-chip-id="GPU-p5-ui-2-1"]', 'data-alert')).toBeNull();

    // a chip goes stale: its tile follows, the same element kept
    const before = await cp.page.locator('fleet-grid chip-tile[data-chip-id="GPU-p5-ui-2-0"]').evaluate((e) => ((e as any).__mark = 1));
    await cp.set('fleet-grid', { chips: fleet.map((c) => (c.chipId === 'GPU-p5-ui-2-0' ? { ...c, status: 'stale' } : c)) });
    expect(await cp.attr('fleet-grid chip-tile[data-chip-id="GPU-p5-ui-2-0"]', 'data-status')).toBe('stale');
    expect(await cp.page.locator('fleet-grid chip-tile[data-chip-id="GPU-p5-ui-2-0"]').evaluate((e) => (e as any).__mark)).toBe(before);
    expect(await cp.texts('fleet-grid [data-host="p5-ui-2"] header > span:nth-of-type(2)')).toEqual(['4 chips · 2 live']);
    expect(cp.errors).toEqual([]);
  });
});

describe('<fleet-heatmap>', () => {
  it('draws a cell per chip, stale and offline as such (not values), hover names the chip, arrows move the focus', async () => {
    await cp.reset();
    await cp.capture('chip-focus');
    const groups = groupChips(fleet, 'host', 'name');
    await cp.mount('fleet-heatmap', { groups, grouping: 'host', metric: 'util', alertsByChip: asMap(alertsByChip()), theme: 'dark' }, { style: 'display:block;width:900px' });
    const hm = cp.page.locator('fleet-heatmap');
    expect(await hm.getAttribute('data-chips')).toBe(String(fleet.length));
    await expect.poll(async () => Number(await hm.getAttribute('data-draws'))).toBeGreaterThan(0);
    const cell = (id: string) => hm.evaluate((el: any, chipId) => el.cellInfo(chipId), id);
    expect(await cell('GPU-p5-ui-2-0')).toMatchObject({ kind: 'value', value: 87 });
    expect(await cell('GPU-p5-ui-2-1')).toMatchObject({ kind: 'value', value: 0 });
    expect(await cell('GPU-p5-ui-2-3')).toMatchObject({ kind: 'stale', value: null });
    expect(await cell('GPU-p5-ui-10-1')).toMatchObject({ kind: 'offline', value: null });
    expect((await cell('GPU-p5-ui-10-2'))!.value).toBeNull();

    const at = (await cell('GPU-p5-ui-2-3'))!;
    await cp.page.mouse.move(at.pageX, at.pageY);
    const tip = cp.page.locator('fleet-heatmap [data-testid="heat-tooltip"]');
    await expect.poll(() => tip.getAttribute('data-chip-id')).toBe('GPU-p5-ui-2-3');
    expect(await tip.textContent()).toMatch(/stale/);
    await cp.page.mouse.move(1, 1);

    // power: a chip without a power reading has no value (not 0)
    await cp.set('fleet-heatmap', { metric: 'power' });
    await expect.poll(() => hm.getAttribute('data-metric')).toBe('power');
    await expect.poll(async () => (await cell('GPU-p5-ui-2-0'))?.value).toBe(612.4);
    expect((await cell('GPU-p5-ui-2-2'))!.value).toBeNull();
    expect(await cp.text('fleet-heatmap [data-testid="heat-legend"]')).toContain('Power (W)');

    await cp.page.locator('fleet-heatmap canvas').focus();
    await cp.page.keyboard.press('ArrowRight');
    await cp.page.keyboard.press('ArrowRight');
    expect((await cp.events('chip-focus')).map((e) => e.detail.chipId)).toEqual(['GPU-p5-ui-2-0', 'GPU-p5-ui-2-1']);
    expect(cp.errors).toEqual([]);
  });
});

describe('<fleet-view>', () => {
  it('summarizes the chips shown, picks tiles or heatmap, and follows its filters', async () => {
    await cp.reset();
    await cp.capture('view-change');
    await cp.mount('fleet-view', { chips: fleet, loaded: true, state: { ...DEFAULT_VIEW }, alertsByChip: asMap(alertsByChip()) }, { style: 'display:block;width:1300px' });
    // the app's part: the state follows the filters
    await cp.page.locator('fleet-view').evaluate((v: any) => v.addEventListener('view-change', (e: CustomEvent) => (v.state = e.detail)));
    const sum = 'fleet-view [data-testid="fleet-summary"]';
    expect(await cp.attr(sum, 'data-shown')).toBe('9');
    expect(await cp.attr(sum, 'data-live')).toBe('7');
    expect(await cp.attr(sum, 'data-stale')).toBe('1');
    expect(await cp.attr(sum, 'data-offline')).toBe('1');
    expect(await cp.attr(sum, 'data-idle')).toBe('1');
    expect(await cp.text('fleet-view [data-testid="summary-power"]')).toBe('1.8 kW');
    expect(await cp.text('fleet-view [data-testid="summary-util"]')).toBe('50 %');
    // few chips: tiles, the filter menus from the fleet
    expect(await cp.count('fleet-view fleet-grid chip-tile')).toBe(9);
    expect(await cp.count('fleet-view fleet-heatmap')).toBe(0);
    expect(await cp.page.locator('fleet-view [data-testid="filter-model"] option').allTextContents()).toEqual(['all', 'H100', 'Trainium2']);
    await cp.screenshot(`${ARTIFACTS}/components-fleet.png`, 'fleet-view');

    await cp.page.locator('fleet-view [data-testid="filter-vendor"]').selectOption('aws');
    await expect.poll(() => cp.attr(sum, 'data-shown')).toBe('2');
    expect(await cp.text(sum)).toContain('chips match the filters');
    expect(await cp.page.locator('fleet-view chip-tile').evaluateAll((els) => els.map((e) => e.getAttribute('data-chip-id')))).toEqual(['trn2-ui-1-neuron0', 'trn2-ui-1-neuron1']);

    await cp.page.locator('fleet-view [data-testid="filter-q"]').fill('nope');
    await cp.page.locator('fleet-view [data-testid="filter-q"]').press('Enter');
    await expect.poll(() => cp.text('fleet-view [data-testid="filter-empty"]')).toBe('No chip matches these filters.');

    await cp.page.locator('fleet-view [data-testid="filter-clear"]').click();
    await cp.page.locator('fleet-view [data-testid="filter-density"]').selectOption('heatmap');
    await expect.poll(() => cp.attr('fleet-view fleet-heatmap', 'data-chips')).toBe('9');
    expect(await cp.count('fleet-view fleet-grid')).toBe(0);
    expect((await cp.events('view-change')).map((e) => e.target)).toEqual(['fleet-filters', 'fleet-filters', 'fleet-filters', 'fleet-filters']);
    expect(cp.errors).toEqual([]);
  });

  it('reads the per-chip energy of the range when colouring by energy', async () => {
    await cp.reset();
    const rows = fleet.slice(0, 3).map((c, i) => ({ ...energyByVendor().totals, label: c.chipId, chipId: c.chipId, energyKWh: 10 + i }));
    cp.api.on('GET /api/v1/energy', { body: { ...energyByVendor(), groupBy: 'chip', rows } });
    await cp.mount('fleet-view', { chips: fleet, loaded: true, state: { ...DEFAULT_VIEW, metric: 'energy', density: 'heatmap', range: '6h' } }, { style: 'display:block;width:1300px' });
    await expect.poll(() => cp.api.requests('GET /api/v1/energy').map((r) => r.query)).toEqual([{ from: 'now-6h', groupBy: 'chip' }]);
    await expect.poll(() => cp.page.locator('fleet-view fleet-heatmap').evaluate((el: any) => el.cellInfo('GPU-p5-ui-2-1')?.value)).toBe(11);
    expect(await cp.count('fleet-view [data-testid="energy-note"]')).toBe(0);
  });
});

describe('<fleet-energy>', () => {
  it('shows the fleet’s last 24 h from /api/v1/energy: energy, average power, chip-hours, cost and vendors', async () => {
    await cp.reset();
    cp.api.on('GET /api/v1/energy', { body: energyByVendor() });
    await cp.mount('fleet-energy');
    const kwh = 'fleet-energy [data-testid="energy-kwh"]';
    await expect.poll(() => cp.text(kwh)).toBe('83.3 kWh');
    expect(await cp.attr(kwh, 'data-kwh')).toBe('83.32');
    expect(await cp.text('fleet-energy [data-testid="energy-avg-power"]')).toBe('386 W');
    const line = await cp.texts('fleet-energy .line > span');
    expect(line).toEqual(['Last 24 h', '83.3 kWhenergy', '386 Wavg per chip', '57%avg util', '216chip-hours', '694.85cost', 'nvidia 71.4 kWh · aws 11.9 kWh']);
    expect(cp.api.requests('GET /api/v1/energy')[0]!.query).toEqual({ from: 'now-24h', groupBy: 'vendor' });
  });

  it('says the energy is unavailable when the read fails', async () => {
    await cp.reset();
    cp.api.on('GET /api/v1/energy', { status: 503, body: { code: 'unavailable', message: 'rollups not ready', requestId: null } });
    await cp.mount('fleet-energy');
    await expect.poll(() => cp.text('fleet-energy [data-testid="energy-error"]')).toBe('energy unavailable: rollups not ready');
    expect(cp.errors).toEqual([]);
  });
});
