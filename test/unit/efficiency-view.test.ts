/**
 * The efficiency view's pure parts: number formats, unit choice, sorting, the side-by-side bars,
 * the scatter's points, axes, scales and hit test, and the view's state in the URL hash.
 */
import { describe, expect, it } from 'vitest';
import type { EfficiencyRow } from '../../schema/api-answers.ts';
import {
  barFractions,
  fmtCost,
  fmtJPerUnit,
  fmtPct,
  fmtSig,
  fmtUnits,
  fmtWatts,
  nextSort,
  perSecond,
  pickUnit,
  rowLabel,
  singularUnit,
  sortRows,
  unitsByUse,
} from '../../client/src/efficiency-format.ts';
import { fmtTick, linearScale, MODEL_PALETTE, modelColors, nearestPoint, niceAxis, scatterAxes, scatterPoints } from '../../client/src/efficiency-plot.ts';
import { DEFAULT_EFFICIENCY, efficiencyHash, formatEfficiencyQuery, parseEfficiencyQuery, type EfficiencySort, type EfficiencyState } from '../../client/src/efficiency-state.ts';
import { formatRoute, parseRoute } from '../../client/src/view-state.ts';

function row(p: Partial<EfficiencyRow> & { label: string }): EfficiencyRow {
  return {
    unit: 'tokens',
    units: 1000,
    chips: 1,
    jobs: 1,
    energyJ: 100,
    jPerUnit: 0.1,
    chipHours: 1,
    unitsPerChipHour: 1000,
    avgPowerW: 500,
    avgUtilPct: 80,
    powerEstimated: false,
    cost: null,
    costPerMillionUnits: null,
    ...p,
  };
}

describe('fmtSig: 3 significant digits, SI prefixes from 1,000', () => {
  it.each<[number | null | undefined, string]>([
    [null, '—'],
    [undefined, '—'],
    [Number.NaN, '—'],
    [Number.POSITIVE_INFINITY, '—'],
    [0, '0'],
    [0.05, '0.0500'],
    [0.123456, '0.123'],
    [0.0001234, '0.000123'],
    [1.2e-7, '0.000000120'],
    [1.2, '1.20'],
    [9.996, '10.0'],
    [12.345, '12.3'],
    [99.96, '100'],
    [500, '500'],
    [999.4, '999'],
    [999.6, '1.00k'],
    [1234, '1.23k'],
    [45_678, '45.7k'],
    [999_999, '1.00M'],
    [1_234_567, '1.23M'],
    [2.5e9, '2.50G'],
    [7.1e12, '7.10T'],
    [-0.05, '-0.0500'],
    [-1234, '-1.23k'],
  ])('%s → %s', (v, want) => expect(fmtSig(v)).toBe(want));
});

describe('units and their figures', () => {
  it.each<[string, string]>([
    ['tokens', 'token'],
    ['steps', 'step'],
    ['samples', 'sample'],
    ['images', 'image'],
    ['queries', 'query'],
    ['keys', 'key'],
    ['epochs', 'epoch'],
    ['status', 'status'],
    ['loss', 'loss'],
    ['bytes_out', 'bytes_out'],
    ['', ''],
  ])('singular of %s is %s', (u, want) => expect(singularUnit(u)).toBe(want));

  it.each<[number | null, string, string]>([
    [0.05, 'tokens', '0.0500 J/token'],
    [500, 'tokens', '500 J/token'],
    [1234.5, 'steps', '1.23k J/step'],
    [null, 'tokens', '—'],
  ])('fmtJPerUnit(%s, %s) → %s', (v, u, want) => expect(fmtJPerUnit(v, u)).toBe(want));

  it.each<[(v: number | null) => string, number | null, string]>([
    [fmtUnits, 950, '950'],
    [fmtUnits, 0, '0'],
    [fmtUnits, 12.5, '12.5'],
    [fmtUnits, 12_300_000, '12.3M'],
    [fmtUnits, null, '—'],
    [fmtCost, 1.2345, '1.23'],
    [fmtCost, null, '—'],
    [fmtWatts, 612.4, '612 W'],
    [fmtWatts, 1500, '1.50k W'],
    [fmtWatts, null, '—'],
    [fmtPct, 79.6, '80%'],
    [fmtPct, null, '—'],
  ])('%o(%s) → %s', (f, v, want) => expect(f(v)).toBe(want));

  it('throughput per chip: units per chip-hour as units per second', () => {
    expect(perSecond(3600)).toBe(1);
    expect(perSecond(9_000_000)).toBe(2500);
    expect(perSecond(null)).toBeNull();
  });

  it.each<[string, EfficiencyRow[], string, string, string[]]>([
    ['none yet: the one asked for', [], 'steps', 'steps', []],
    ['none yet, none asked', [], '', '', []],
    ['the most chips win', [row({ label: 'a', unit: 'steps', chips: 8 }), row({ label: 'b', unit: 'tokens', chips: 2 })], '', 'steps', ['steps', 'tokens']],
    ['tokens win a tie', [row({ label: 'a', unit: 'steps', chips: 2 }), row({ label: 'b', unit: 'tokens', chips: 2 })], '', 'tokens', ['tokens', 'steps']],
    ['chips add up per unit', [row({ label: 'a', unit: 'steps', chips: 3 }), row({ label: 'b', unit: 'tokens', chips: 2 }), row({ label: 'c', unit: 'tokens', chips: 2 })], '', 'tokens', ['tokens', 'steps']],
    ['the one asked for when present', [row({ label: 'a', unit: 'steps', chips: 8 }), row({ label: 'b', unit: 'tokens', chips: 2 })], 'tokens', 'tokens', ['steps', 'tokens']],
    ['the most used when the one asked for is absent', [row({ label: 'a', unit: 'steps' })], 'images', 'steps', ['steps']],
  ])('pickUnit: %s', (_name, rows, wanted, want, order) => {
    expect(pickUnit(rows, wanted)).toBe(want);
    expect(unitsByUse(rows)).toEqual(order);
  });

  it.each<[Partial<EfficiencyRow> & { label: string }, string]>([
    [{ label: 'H100' }, 'H100'],
    [{ label: '', job: 'j1' }, 'j1'],
    [{ label: '', model: 'Trainium2' }, 'Trainium2'],
    [{ label: '' }, '—'],
  ])('rowLabel(%o) → %s', (r, want) => expect(rowLabel(row(r))).toBe(want));
});

describe('sorting the table', () => {
  const rows = [
    row({ label: 'job-10', jPerUnit: 0.5, chips: 8, costPerMillionUnits: 3 }),
    row({ label: 'job-2', jPerUnit: null, chips: 4, costPerMillionUnits: null }),
    row({ label: 'job-1', jPerUnit: 0.05, chips: 8, costPerMillionUnits: 1 }),
    row({ label: 'Job-3', jPerUnit: 500, chips: 16, costPerMillionUnits: null }),
  ];
  const labels = (s: EfficiencySort) => sortRows(rows, s).map((r) => r.label);

  it.each<[EfficiencySort, string[]]>([
    [{ key: 'jPerUnit', desc: false }, ['job-1', 'job-10', 'Job-3', 'job-2']],
    [{ key: 'jPerUnit', desc: true }, ['Job-3', 'job-10', 'job-1', 'job-2']],
    [{ key: 'label', desc: false }, ['job-1', 'job-2', 'Job-3', 'job-10']],
    [{ key: 'label', desc: true }, ['job-10', 'Job-3', 'job-2', 'job-1']],
    // ties by label, whichever way
    [{ key: 'chips', desc: true }, ['Job-3', 'job-1', 'job-10', 'job-2']],
    [{ key: 'chips', desc: false }, ['job-2', 'job-1', 'job-10', 'Job-3']],
    // nulls last both ways, among themselves by label
    [{ key: 'costPerMillionUnits', desc: false }, ['job-1', 'job-10', 'job-2', 'Job-3']],
    [{ key: 'costPerMillionUnits', desc: true }, ['job-10', 'job-1', 'job-2', 'Job-3']],
  ])('%o', (s, want) => expect(labels(s)).toEqual(want));

  it('does not change the rows it is given', () => {
    const before = rows.map((r) => r.label);
    sortRows(rows, { key: 'jPerUnit', desc: true });
    expect(rows.map((r) => r.label)).toEqual(before);
  });

  it.each<[EfficiencySort, Parameters<typeof nextSort>[1], EfficiencySort]>([
    [{ key: 'jPerUnit', desc: false }, 'jPerUnit', { key: 'jPerUnit', desc: true }],
    [{ key: 'jPerUnit', desc: true }, 'jPerUnit', { key: 'jPerUnit', desc: false }],
    [{ key: 'jPerUnit', desc: true }, 'label', { key: 'label', desc: false }],
    [{ key: 'label', desc: false }, 'avgPowerW', { key: 'avgPowerW', desc: false }],
    [{ key: 'label', desc: false }, 'units', { key: 'units', desc: true }],
    [{ key: 'label', desc: false }, 'unitsPerChipHour', { key: 'unitsPerChipHour', desc: true }],
  ])('clicking a header: %o then %s → %o', (cur, key, want) => expect(nextSort(cur, key)).toEqual(want));
});

describe('side-by-side bars', () => {
  it.each<[string, (number | null)[], (number | null)[]]>([
    ['fractions of the largest', [0.5, 1, 0.25], [0.5, 1, 0.25]],
    ['missing figures have no bar', [2, null, 1], [1, null, 0.5]],
    ['all zero', [0, 0], [0, 0]],
    ['none', [null, null], [null, null]],
    ['negative or infinite is no figure', [-1, Number.POSITIVE_INFINITY, 4], [null, null, 1]],
  ])('%s', (_n, vals, want) => {
    const rows = vals.map((v, i) => row({ label: `r${i}`, jPerUnit: v, costPerMillionUnits: v }));
    expect(barFractions(rows, 'jPerUnit')).toEqual(want);
    expect(barFractions(rows, 'costPerMillionUnits')).toEqual(want);
  });
});

describe('the scatter', () => {
  it('takes the chips of the unit with both power and throughput, y in units per second', () => {
    const rows = [
      row({ label: 'c1', chipId: 'c1', model: 'H100', avgPowerW: 700, unitsPerChipHour: 3600 * 2500 }),
      row({ label: 'c2', chipId: 'c2', model: 'Trainium2', avgPowerW: 400, unitsPerChipHour: 3600 * 1800, powerEstimated: true }),
      row({ label: 'c3', chipId: 'c3', model: 'H100', avgPowerW: null }),
      row({ label: 'c4', chipId: 'c4', model: 'H100', unitsPerChipHour: null }),
      row({ label: 'c5', chipId: 'c5', model: 'H100', unit: 'steps' }),
      row({ label: 'c6', chipId: 'c6', vendor: 'nvidia' }),
    ];
    const pts = scatterPoints(rows, 'tokens');
    expect(pts.map((p) => [p.row.chipId, p.x, p.y, p.model, p.estimated])).toEqual([
      ['c1', 700, 2500, 'H100', false],
      ['c2', 400, 1800, 'Trainium2', true],
      ['c6', 500, 1000 / 3600, 'nvidia', false],
    ]);
  });

  it.each<[number, number, number, { min: number; max: number; step: number; ticks: number[] }]>([
    [0, 100, 5, { min: 0, max: 100, step: 20, ticks: [0, 20, 40, 60, 80, 100] }],
    [312, 718, 6, { min: 300, max: 800, step: 100, ticks: [300, 400, 500, 600, 700, 800] }],
    [312, 718, 10, { min: 300, max: 750, step: 50, ticks: [300, 350, 400, 450, 500, 550, 600, 650, 700, 750] }],
    [0.013, 0.057, 4, { min: 0, max: 0.06, step: 0.02, ticks: [0, 0.02, 0.04, 0.06] }],
    [0.013, 0.057, 5, { min: 0.01, max: 0.06, step: 0.01, ticks: [0.01, 0.02, 0.03, 0.04, 0.05, 0.06] }],
    [0.1, 0.7, 3, { min: 0, max: 0.8, step: 0.2, ticks: [0, 0.2, 0.4, 0.6, 0.8] }],
    [0.1, 0.95, 4, { min: 0, max: 1, step: 0.25, ticks: [0, 0.25, 0.5, 0.75, 1] }],
    [1200, 1200, 5, { min: 1050, max: 1350, step: 50, ticks: [1050, 1100, 1150, 1200, 1250, 1300, 1350] }],
    [0, 0, 5, { min: 0, max: 1, step: 0.2, ticks: [0, 0.2, 0.4, 0.6, 0.8, 1] }],
    [5, 1, 2, { min: 0, max: 6, step: 2, ticks: [0, 2, 4, 6] }],
  ])('niceAxis(%s, %s, %s)', (lo, hi, n, want) => expect(niceAxis(lo, hi, n)).toEqual(want));

  it('the axes cover every point with room to spare, and start at 0 at the lowest', () => {
    const pts = scatterPoints(
      [
        row({ label: 'a', chipId: 'a', avgPowerW: 450, unitsPerChipHour: 3600 * 2000 }),
        row({ label: 'b', chipId: 'b', avgPowerW: 700, unitsPerChipHour: 3600 * 2400 }),
        row({ label: 'c', chipId: 'c', avgPowerW: 20, unitsPerChipHour: 3600 * 10 }),
      ],
      'tokens',
    );
    const { x, y } = scatterAxes(pts);
    for (const p of pts) {
      expect(p.x).toBeGreaterThan(x.min);
      expect(p.x).toBeLessThan(x.max);
      expect(p.y).toBeGreaterThan(y.min);
      expect(p.y).toBeLessThan(y.max);
    }
    expect(x.min).toBe(0);
    expect(y.min).toBe(0);
    expect(scatterAxes([])).toEqual({ x: niceAxis(0, 1, 6), y: niceAxis(0, 1, 5) });
  });

  it.each<[[number, number, number, number], number, number]>([
    [[0, 100, 64, 564], 0, 64],
    [[0, 100, 64, 564], 50, 314],
    [[0, 100, 64, 564], 100, 564],
    [[0, 10, 276, 12], 0, 276], // y: downwards
    [[0, 10, 276, 12], 10, 12],
    [[0, 10, 276, 12], 5, 144],
    [[5, 5, 0, 100], 7, 0], // empty domain: everything at the start
  ])('linearScale(%o)(%s) → %s', (args, v, want) => expect(linearScale(...args)(v)).toBeCloseTo(want, 9));

  it.each<[number, number, string]>([
    [0, 50, '0'],
    [350, 50, '350'],
    [0.25, 0.25, '0.25'],
    [0.3, 0.1, '0.3'],
    [2.5, 2.5, '2.5'],
    [10_000, 5000, '10k'],
    [12_500, 2500, '12.5k'],
    [2_000_000, 500_000, '2.0M'],
    [3e9, 1e9, '3G'],
  ])('fmtTick(%s, step %s) → %s', (v, step, want) => expect(fmtTick(v, step)).toBe(want));

  it('colours models in name order, the same colour on every refresh', () => {
    const a = modelColors(['Trainium2', 'H100', 'A100', 'H100']);
    expect([...a.keys()]).toEqual(['A100', 'H100', 'Trainium2']);
    expect(a.get('A100')).toBe(MODEL_PALETTE[0]);
    expect(a.get('Trainium2')).toBe(MODEL_PALETTE[2]);
    expect(modelColors(['H100', 'Trainium2', 'A100'])).toEqual(a);
    const many = modelColors(Array.from({ length: 12 }, (_, i) => `m${i}`));
    expect(many.get('m10')).toBe(MODEL_PALETTE[0]);
  });

  it.each<[number, number, number, number]>([
    [100, 100, 8, 0],
    [106, 100, 8, 0],
    [109, 100, 8, -1],
    [148, 52, 8, 2],
    [125, 75, 8, -1],
    [150, 50, 8, 2],
    [130, 70, 30, 2], // nearest wins when several are in reach
  ])('nearestPoint(%s, %s, r %s) → %s', (px, py, r, want) => {
    const pixels = [
      { x: 100, y: 100 },
      { x: 200, y: 100 },
      { x: 150, y: 50 },
    ];
    expect(nearestPoint(pixels, px, py, r)).toBe(want);
  });
});

describe('the view state in the URL', () => {
  it.each<[string, EfficiencyState]>([
    ['', { ...DEFAULT_EFFICIENCY, sort: { ...DEFAULT_EFFICIENCY.sort } }],
    ['groupBy=job&range=6h&unit=tokens', { groupBy: 'job', range: '6h', unit: 'tokens', sort: { key: 'jPerUnit', desc: false } }],
    ['groupBy=vendor&sort=-unitsPerChipHour', { groupBy: 'vendor', range: '24h', unit: '', sort: { key: 'unitsPerChipHour', desc: true } }],
    ['groupBy=chip&range=30d&unit=9bad&sort=-nope', { groupBy: 'model', range: '24h', unit: '', sort: { key: 'jPerUnit', desc: false } }],
    ['sort=label', { groupBy: 'model', range: '24h', unit: '', sort: { key: 'label', desc: false } }],
  ])('parse %j', (q, want) => expect(parseEfficiencyQuery(q)).toEqual(want));

  it.each<[EfficiencyState, string]>([
    [{ ...DEFAULT_EFFICIENCY }, '#/efficiency'],
    [{ groupBy: 'job', range: '6h', unit: 'tokens', sort: { key: 'jPerUnit', desc: false } }, '#/efficiency?groupBy=job&range=6h&unit=tokens'],
    [{ groupBy: 'model', range: '7d', unit: '', sort: { key: 'costPerMillionUnits', desc: true } }, '#/efficiency?range=7d&sort=-costPerMillionUnits'],
  ])('format %o → %s, and back', (state, hash) => {
    expect(efficiencyHash(state)).toBe(hash);
    expect(formatRoute({ view: 'efficiency', state })).toBe(hash);
    expect(parseRoute(hash)).toEqual({ view: 'efficiency', state });
    expect(formatEfficiencyQuery(parseEfficiencyQuery(formatEfficiencyQuery(state)))).toBe(formatEfficiencyQuery(state));
  });

  it.each<[string, string]>([
    ['#/efficiency', 'efficiency'],
    ['#/efficiency/', 'efficiency'],
    ['#/efficiency?groupBy=job', 'efficiency'],
    ['#/efficiencyx', 'fleet'],
    ['#/alerts', 'alerts'],
    ['#/', 'fleet'],
  ])('route of %s is %s', (hash, view) => expect(parseRoute(hash).view).toBe(view));
});
