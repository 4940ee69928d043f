/** The fleet view's pure cores: colour scale, natural order, URL state, filters and groups, metrics, heatmap layout. */
import { describe, expect, it } from 'vitest';
import type { ChipView } from '../../schema/protocol.ts';
import { PALETTE, PALETTE_SIZE, legendTicks, niceCeil, paletteIndex, rampRgb } from '../../client/src/heat-scale.ts';
import { compareChips, naturalCompare, sortChips } from '../../client/src/natural-sort.ts';
import { DEFAULT_VIEW, formatChipQuery, formatRoute, formatViewState, parseChipQuery, parseRoute, parseViewState, type ChipRoute, type FleetViewState } from '../../client/src/view-state.ts';
import { filterChips, groupChips } from '../../client/src/fleet-filter.ts';
import { fmtMetric, isIdlePowered, metricDomain, metricValue, summarize } from '../../client/src/heat-metrics.ts';
import { hitTest, layoutHeatmap, neighbour } from '../../client/src/heatmap-layout.ts';
import { utilColor } from '../../client/src/format.ts';
import { syntheticFleet } from '../helpers/synthetic-fleet.ts';

function chip(over: Partial<ChipView> & { chipId: string }, latest: Partial<NonNullable<ChipView['latest']>> | null = {}): ChipView {
  return {
    vendor: 'nvidia',
    model: 'H100',
    index: 0,
    cores: null,
    memTotalBytes: 80e9,
    ratedPowerW: 700,
    host: 'h1',
    instanceType: 'p5.48xlarge',
    agentId: 'a1',
    status: 'live',
    ...over,
    latest:
      latest === null
        ? null
        : { ts: 1000, chipId: over.chipId, utilPct: 50, memUtilPct: null, memUsedBytes: 40e9, memTotalBytes: 80e9, powerW: 350, powerLimitW: 700, tempC: 60, energyJ: null, ...latest },
  };
}

describe('colour scale', () => {
  it.each([
    [0, [68, 1, 84]],
    [1, [253, 231, 37]],
    [-3, [68, 1, 84]],
    [7, [253, 231, 37]],
    [NaN, [68, 1, 84]],
  ])('rampRgb(%s) = %j', (t, rgb) => expect(rampRgb(t)).toEqual(rgb));

  it('is sequential: lightness rises along the ramp', () => {
    const lum = (i: number) => {
      const [r, g, b] = rampRgb(i / 20);
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    for (let i = 1; i <= 20; i++) expect(lum(i)).toBeGreaterThan(lum(i - 1));
    expect(PALETTE).toHaveLength(PALETTE_SIZE);
  });

  it.each([
    [0, 0, 100, 0],
    [100, 0, 100, PALETTE_SIZE - 1],
    [50, 0, 100, 32],
    [150, 0, 100, PALETTE_SIZE - 1],
    [-5, 0, 100, 0],
    [5, 5, 5, 0],
  ])('paletteIndex(%s on %s..%s) = %s', (v, lo, hi, i) => expect(paletteIndex(v, lo, hi)).toBe(i));

  it.each([
    [700, 1000],
    [612, 1000],
    [0.0034, 0.005],
    [250, 250],
    [0, 1],
  ])('niceCeil(%s) = %s', (v, out) => expect(niceCeil(v)).toBeCloseTo(out, 9));

  it('ticks span the domain', () => expect(legendTicks(0, 100, 5)).toEqual([0, 25, 50, 75, 100]));

  it.each([
    [0, 'rgb(42, 1, 52)'],
    [100, 'rgb(157, 143, 23)'],
    [null, 'rgb(44, 50, 62)'],
  ])('tile background for %s %% is the same scale, darkened', (pct, css) => expect(utilColor(pct)).toBe(css));
});

describe('natural order', () => {
  it.each([
    ['p5-sim-2', 'p5-sim-10', -1],
    ['p5-sim-10', 'p5-sim-9', 1],
    ['trn2-sim-1', 'p5-sim-1', 1],
    ['a', 'a', 0],
    ['Host-1', 'host-1', -1],
  ])('%s vs %s', (a, b, sign) => expect(Math.sign(naturalCompare(a, b))).toBe(sign));

  it('sorts hosts numerically, chips by index', () => {
    const chips = [chip({ chipId: 'c', host: 'p5-sim-10', index: 0 }), chip({ chipId: 'b', host: 'p5-sim-2', index: 1 }), chip({ chipId: 'a', host: 'p5-sim-2', index: 0 })];
    expect(chips.sort(compareChips).map((c) => c.chipId)).toEqual(['a', 'b', 'c']);
  });

  it('sortChips gives compareChips order, and is fast at 10,000 chips', () => {
    const fleet = syntheticFleet(10_000, { seed: 5 }).reverse();
    const t0 = performance.now();
    const fast = sortChips(fleet);
    const ms = performance.now() - t0;
    expect(fast.map((c) => c.chipId)).toEqual([...fleet].sort(compareChips).map((c) => c.chipId));
    expect(ms).toBeLessThan(100);
  });
});

describe('URL state', () => {
  const cases: [string, Partial<FleetViewState>][] = [
    ['', {}],
    ['metric=power', { metric: 'power' }],
    ['metric=energy&group=model&sort=util&range=7d', { metric: 'energy', group: 'model', sort: 'util', range: '7d' }],
    ['vendor=aws,nvidia&status=stale', { vendor: ['aws', 'nvidia'], status: ['stale'] }],
    ['model=H100&type=p5.48xlarge&q=p5-sim&alerting=1', { model: ['H100'], type: ['p5.48xlarge'], q: 'p5-sim', alerting: true }],
    ['density=heatmap', { density: 'heatmap' }],
  ];
  it.each(cases)('%s round-trips', (q, patch) => {
    const state = { ...DEFAULT_VIEW, ...patch };
    expect(parseViewState(q)).toEqual(state);
    expect(formatViewState(state)).toBe(q);
    expect(parseRoute(formatRoute({ view: 'fleet', state }))).toEqual({ view: 'fleet', state });
  });

  it.each([
    ['metric=bogus&group=x&status=dead,live&range=2y', { status: ['live'] as FleetViewState['status'] }],
    ['vendor=nvidia,,nvidia, aws', { vendor: ['aws', 'nvidia'] }],
    ['q=%20%20', {}],
  ])('bad or messy %s falls back to defaults', (q, patch) => expect(parseViewState(q)).toEqual({ ...DEFAULT_VIEW, ...patch }));

  it.each([
    ['#/alerts', { view: 'alerts' }],
    ['#/chip/GPU%2F1', { view: 'chip', chipId: 'GPU/1' }],
    ['#/chip/%E0%A4%A', { view: 'fleet', state: DEFAULT_VIEW }],
    ['#/?metric=temp', { view: 'fleet', state: { ...DEFAULT_VIEW, metric: 'temp' } }],
    ['#?group=none', { view: 'fleet', state: { ...DEFAULT_VIEW, group: 'none' } }],
    ['', { view: 'fleet', state: DEFAULT_VIEW }],
  ])('route %s', (hash, route) => expect(parseRoute(hash)).toEqual(route));
});

describe('metrics', () => {
  const live = chip({ chipId: 'l' });
  const stale = chip({ chipId: 's', status: 'stale' });
  const neuron = chip({ chipId: 'n', vendor: 'aws', model: 'Trainium2' }, { tempC: null, powerLimitW: null });
  const idle = chip({ chipId: 'i' }, { utilPct: 1, powerW: 80 });
  it.each([
    [live, 'util', 50],
    [live, 'power', 350],
    [live, 'powerPct', 50],
    [live, 'temp', 60],
    [live, 'mem', 50],
    [stale, 'util', null],
    [stale, 'power', null],
    [neuron, 'temp', null],
    [neuron, 'powerPct', 50],
  ] as const)('%#: %s', (c, m, v) => expect(metricValue(c, m)).toBe(v));

  it('energy comes from the range figures, whatever the status', () => {
    const e = new Map([['s', 1.5]]);
    expect(metricValue(stale, 'energy', e)).toBe(1.5);
    expect(metricValue(live, 'energy', e)).toBeNull();
  });

  it('idle but powered: live, util under 5 %, power drawn', () => {
    expect([live, stale, neuron, idle].map(isIdlePowered)).toEqual([false, false, false, true]);
    expect(isIdlePowered({ ...idle, status: 'stale' })).toBe(false);
  });

  it('summary counts statuses, live power and utilization, idle chips', () => {
    expect(summarize([live, stale, idle, chip({ chipId: 'o', status: 'offline' })])).toEqual({
      chips: 4, live: 2, stale: 1, offline: 1, powerW: 430, avgUtilPct: 25.5, idlePowered: 1, idlePowerW: 80,
    });
  });

  it.each([
    ['util', [0, 100]],
    ['power', [0, 700]],
    ['temp', [20, 90]],
    ['energy', [0, 0.001]],
  ] as const)('domain of %s', (m, d) => expect(metricDomain(m, [live, stale, neuron])).toEqual(d));

  it.each([
    ['util', 87.4, '87 %'],
    ['power', 611.6, '612 W'],
    ['energy', 1.234, '1.23 kWh'],
    ['energy', 0.0123, '12 Wh'],
    ['temp', null, '—'],
  ] as const)('fmtMetric(%s, %s)', (m, v, s) => expect(fmtMetric(m, v)).toBe(s));
});

describe('filters and groups', () => {
  const fleet = syntheticFleet(200, { seed: 3 });
  const f = (patch: Partial<FleetViewState>) => filterChips(fleet, { ...DEFAULT_VIEW, ...patch });
  it.each([
    [{ vendor: ['aws'] }, (c: ChipView) => c.vendor === 'aws'],
    [{ model: ['H100'] }, (c: ChipView) => c.model === 'H100'],
    [{ type: ['trn2.48xlarge'] }, (c: ChipView) => c.instanceType === 'trn2.48xlarge'],
    [{ status: ['stale', 'offline'] as FleetViewState['status'] }, (c: ChipView) => c.status !== 'live'],
    [{ q: 'P5-SIM-1' }, (c: ChipView) => c.host.startsWith('p5-sim-1')],
    [{ vendor: ['aws'], q: 'sim-2' }, (c: ChipView) => c.vendor === 'aws' && c.host.includes('sim-2')],
  ])('%j', (patch, pred) => {
    const got = f(patch);
    expect(got.length).toBeGreaterThan(0);
    expect(got).toEqual(fleet.filter(pred));
  });

  it('alerting only keeps chips with a firing alert', () => {
    const alerting = new Map([[fleet[3].chipId, {}]]);
    expect(filterChips(fleet, { ...DEFAULT_VIEW, alerting: true }, alerting)).toEqual([fleet[3]]);
  });

  it('groups by host in natural order, by model, or sorts chips by a metric', () => {
    const chips = [chip({ chipId: 'a', host: 'h10' }, { utilPct: 80 }), chip({ chipId: 'b', host: 'h2' }, { utilPct: 90 }), chip({ chipId: 'c', host: 'h2', index: 1, model: 'B200' }, { utilPct: 10 })];
    expect(groupChips(chips, 'host').map((g) => [g.label, g.chips.map((c) => c.chipId)])).toEqual([['h2', ['b', 'c']], ['h10', ['a']]]);
    expect(groupChips(chips, 'model').map((g) => g.label)).toEqual(['B200', 'H100']);
    expect(groupChips(chips, 'host', 'util').map((g) => g.label)).toEqual(['h10', 'h2']);
    expect(groupChips(chips, 'none', 'util')[0].chips.map((c) => c.chipId)).toEqual(['b', 'a', 'c']);
    expect(groupChips([], 'none')).toEqual([]);
  });
});

describe('heatmap layout', () => {
  it.each([
    [1_000, 'host', 1888, 860, 14],
    [10_000, 'host', 1888, 860, 8],
    [10_000, 'model', 1888, 860, 6],
    [10_000, 'none', 1888, 860, 6],
    [1_000, 'host', 1350, 700, 10],
    [10_000, 'host', 3800, 1900, 14],
  ] as const)('%s chips by %s in %sx%s: all fit, cells >= %s px, none overlap', (n, grouping, w, h, minCell) => {
    const fleet = syntheticFleet(n);
    const groups = groupChips(fleet, grouping);
    const L = layoutHeatmap(groups, grouping, w, h);
    expect(L.chipIds.length).toBe(fleet.length);
    expect(L.height).toBeLessThanOrEqual(h);
    expect(L.cell).toBeGreaterThanOrEqual(minCell);
    const seen = new Set<string>();
    for (let i = 0; i < L.chipIds.length; i++) {
      expect(L.xs[i] + L.cell).toBeLessThanOrEqual(w);
      const key = `${L.xs[i]},${L.ys[i]}`;
      expect(seen.has(key)).toBe(false);
      seen.add(key);
      expect(hitTest(L, L.xs[i] + L.cell / 2, L.ys[i] + L.cell / 2)).toBe(i);
    }
  });

  it('labels hosts when cells are large, hit-tests gaps as nothing, moves by arrows', () => {
    const groups = groupChips(syntheticFleet(64), 'host');
    const L = layoutHeatmap(groups, 'host', 1200, 800);
    expect(L.labels).toBe(true);
    expect(hitTest(L, 1, 1)).toBe(-1);
    const first = 0;
    expect(L.chipIds[neighbour(L, first, 'right')]).toBe(groups[0].chips[1].chipId);
    expect(neighbour(L, first, 'left')).toBe(-1);
    const down = neighbour(L, first, 'down');
    expect(L.ys[down]).toBeGreaterThan(L.ys[first]);
    expect(L.xs[down]).toBe(L.xs[first]);
  });

  it('an empty selection lays out nothing', () => expect(layoutHeatmap([], 'host', 800, 600).chipIds).toEqual([]));
});

describe('chip view URL state (range and zoom)', () => {
  const zoom = { from: 1_764_000_000_000, to: 1_764_000_900_000 };
  it.each<[string, ChipRoute]>([
    ['#/chip/GPU-1', { view: 'chip', chipId: 'GPU-1' }],
    ['#/chip/GPU-1?range=6h', { view: 'chip', chipId: 'GPU-1', range: '6h' }],
    ['#/chip/GPU-1?range=30d', { view: 'chip', chipId: 'GPU-1', range: '30d' }],
    [`#/chip/GPU-1?range=1h&from=${zoom.from}&to=${zoom.to}`, { view: 'chip', chipId: 'GPU-1', range: '1h', zoom }],
    [`#/chip/GPU%2F1?range=24h&from=${zoom.from}&to=${zoom.to}`, { view: 'chip', chipId: 'GPU/1', range: '24h', zoom }],
  ])('%s round-trips', (hash, route) => {
    expect(parseRoute(hash)).toEqual(route);
    expect(formatRoute(route)).toBe(hash);
  });

  it.each<[string, ChipRoute]>([
    ['#/chip/GPU-1?range=live', { view: 'chip', chipId: 'GPU-1' }],
    ['#/chip/GPU-1?range=2y', { view: 'chip', chipId: 'GPU-1' }],
    [`#/chip/GPU-1?from=${zoom.from}&to=${zoom.to}`, { view: 'chip', chipId: 'GPU-1' }],
    [`#/chip/GPU-1?range=live&from=${zoom.from}&to=${zoom.to}`, { view: 'chip', chipId: 'GPU-1' }],
    [`#/chip/GPU-1?range=6h&from=${zoom.to}&to=${zoom.from}`, { view: 'chip', chipId: 'GPU-1', range: '6h' }],
    [`#/chip/GPU-1?range=6h&from=${zoom.from}`, { view: 'chip', chipId: 'GPU-1', range: '6h' }],
    ['#/chip/GPU-1?range=6h&from=-5&to=10', { view: 'chip', chipId: 'GPU-1', range: '6h' }],
    ['#/chip/GPU-1?range=6h&from=1.5&to=2e12', { view: 'chip', chipId: 'GPU-1', range: '6h' }],
  ])('bad or partial %s is dropped', (hash, route) => expect(parseRoute(hash)).toEqual(route));

  it.each<[Pick<ChipRoute, 'range' | 'zoom'>, string]>([
    [{}, ''],
    [{ range: 'live', zoom }, ''],
    [{ range: '7d' }, 'range=7d'],
    [{ range: '1h', zoom: { from: zoom.from + 0.4, to: zoom.to - 0.4 } }, `range=1h&from=${zoom.from}&to=${zoom.to}`],
    [{ range: '1h', zoom: { from: zoom.to, to: zoom.from } }, 'range=1h'],
  ])('formats %j as %s', (r, q) => {
    expect(formatChipQuery(r)).toBe(q);
    expect(parseChipQuery(q)).toEqual(r.range && r.range !== 'live' ? { range: r.range, ...(q.includes('from') ? { zoom } : {}) } : {});
  });
});
