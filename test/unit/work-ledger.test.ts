/** The work ledger (counters → increments → buckets) and the efficiency report's tally, table-driven. */
import { describe, expect, it } from 'vitest';
import { CHIP_JOB_REWRITE_MS, splitIntoBuckets, WorkLedger } from '../../server/work/work-ledger.ts';
import { efficiencyRows, jobChipKey, jobSpans, WorkTally, type SpanFigures } from '../../server/work/efficiency-report.ts';
import type { WorkReport } from '../../schema/work.ts';

const T = 1_800_000_000_000; // a whole hour
const r = (ts: number, tokens: number, extra: Partial<WorkReport> = {}): WorkReport => ({ ts: T + ts, job: 'j', counters: { tokens }, ...extra });

describe('WorkLedger.apply', () => {
  const cases: { name: string; reports: WorkReport[]; units: number[] }[] = [
    { name: 'the first report only sets the counter', reports: [r(0, 500)], units: [] },
    { name: 'increments between reports', reports: [r(0, 0), r(1000, 100), r(2000, 250)], units: [100, 150] },
    { name: 'a resend (same or older ts) adds nothing', reports: [r(0, 0), r(1000, 100), r(1000, 100), r(500, 50), r(2000, 200)], units: [100, 100] },
    { name: 'a counter that went down restarted: its value is the work since', reports: [r(0, 0), r(1000, 1000), r(2000, 30)], units: [1000, 30] },
    { name: 'an unchanged counter is a zero increment (the job ran, did nothing)', reports: [r(0, 10), r(1000, 10)], units: [0] },
  ];
  it.each(cases)('$name', ({ reports, units }) => {
    const out = new WorkLedger().apply('agent-1', ['c1', 'c2'], reports);
    expect(out.increments.map((i) => i.units)).toEqual(units);
    for (const i of out.increments) expect(i.chipsKey).toBe('c1,c2');
  });

  it('keeps one series per reporter, job, unit and chips', () => {
    const l = new WorkLedger();
    l.apply('a', ['c1'], [r(0, 0), r(0, 0, { chips: ['c2'] })]);
    const out = l.apply('b', ['c3'], [r(1000, 10)]);
    expect(out.increments).toEqual([]); // b's first report
    expect(l.seriesCount).toBe(3);
    expect(l.apply('a', ['c1'], [r(1000, 7), r(1000, 9, { chips: ['c2'] })]).increments.map((i) => [i.chipsKey, i.units])).toEqual([
      ['c1', 7],
      ['c2', 9],
    ]);
  });

  it('undo puts the counters back (a write that failed is resent and counted then)', () => {
    const l = new WorkLedger([]);
    l.apply('a', ['c1'], [r(0, 0)]);
    const failed = l.apply('a', ['c1'], [r(1000, 100)]);
    failed.undo();
    expect(l.apply('a', ['c1'], [r(1000, 100)]).increments.map((i) => i.units)).toEqual([100]);
  });

  it('cuts increments into 1m and 1h buckets by time overlap', () => {
    const out = new WorkLedger().apply('a', ['c1'], [r(30_000, 0), r(90_000, 600)]);
    const m1 = out.buckets.filter((b) => b.tier === '1m').map((b) => [b.start - T, b.units, b.firstTs - T, b.lastTs - T]);
    expect(m1).toEqual([
      [0, 300, 30_000, 60_000],
      [60_000, 300, 60_000, 90_000],
    ]);
    expect(out.buckets.filter((b) => b.tier === '1h').map((b) => b.units)).toEqual([600]);
  });

  it('writes a chip-job span when new, at most once a minute after, and at once with labels', () => {
    const l = new WorkLedger();
    const spans = (reports: WorkReport[]) => l.apply('a', ['c1'], reports).chipJobs.map((j) => [j.chipId, j.job, j.ts - T]);
    expect(spans([r(0, 0)])).toEqual([['c1', 'j', 0]]);
    expect(spans([r(1000, 1), r(2000, 2)])).toEqual([]);
    expect(spans([r(CHIP_JOB_REWRITE_MS, 3)])).toEqual([['c1', 'j', CHIP_JOB_REWRITE_MS]]);
    expect(spans([r(CHIP_JOB_REWRITE_MS + 1000, 4, { labels: { team: 'x' } })])).toEqual([['c1', 'j', CHIP_JOB_REWRITE_MS + 1000]]);
  });
});

describe('splitIntoBuckets', () => {
  it.each([
    { from: 0, to: 0, units: 5, want: [[0, 5]] },
    { from: 10_000, to: 50_000, units: 8, want: [[0, 8]] },
    { from: 30_000, to: 150_000, units: 120, want: [[0, 30], [60_000, 60], [120_000, 30]] },
  ])('$from..$to', ({ from, to, units, want }) => {
    expect(splitIntoBuckets(T + from, T + to, units, 60_000).map((b) => [b.start - T, b.units])).toEqual(want);
  });
});

describe('WorkTally and efficiencyRows', () => {
  it('cuts rows to the range, splits them over their chips, and keeps each (job, chip) span', () => {
    const t = new WorkTally(T + 1000, T + 3000);
    t.add('j', 'tokens', 'c1,c2', T, T + 2000, 200); // half inside: 100, 50 a chip
    t.add('j', 'tokens', 'c1,c2', T + 2000, T + 4000, 200); // half inside
    t.add('j', 'tokens', 'c1', T + 5000, T + 5000, 99); // outside
    t.add('j', 'tokens', 'c1', T + 1000, T + 1000, 1); // an instant at from: inside
    const rows = t.rows().sort((a, b) => a.chipId.localeCompare(b.chipId));
    expect(rows.map((w) => [w.chipId, w.units, w.spanFrom - T, w.spanTo - T])).toEqual([
      ['c1', 101, 1000, 3000],
      ['c2', 100, 1000, 3000],
    ]);
    expect(jobSpans(rows).get('j')).toEqual({ from: T + 1000, to: T + 3000, chipIds: new Set(['c1', 'c2']) });
  });

  const chips = new Map([
    ['g1', { chipId: 'g1', vendor: 'nvidia', model: 'H100', host: 'h1' }],
    ['g2', { chipId: 'g2', vendor: 'nvidia', model: 'H100', host: 'h2' }],
    ['n1', { chipId: 'n1', vendor: 'aws', model: 'Trainium2', host: 't1' }],
  ]);
  const span = (energyJ: number, seconds: number, powerW: number): SpanFigures => ({ energyJ, energyPairs: seconds, chipMs: seconds * 1000, powerSum: powerW * seconds, powerCnt: seconds, utilSum: 90 * seconds, utilCnt: seconds });
  const work = [
    { job: 'a', unit: 'tokens', chipId: 'g1', units: 1000, spanFrom: T, spanTo: T + 10_000 },
    { job: 'a', unit: 'steps', chipId: 'g1', units: 10, spanFrom: T, spanTo: T + 10_000 },
    { job: 'b', unit: 'tokens', chipId: 'g2', units: 3000, spanFrom: T, spanTo: T + 10_000 },
    { job: 'c', unit: 'tokens', chipId: 'n1', units: 500, spanFrom: T, spanTo: T + 10_000 },
  ];
  const spans = new Map([
    [jobChipKey('a', 'g1'), span(6000, 10, 600)],
    [jobChipKey('b', 'g2'), span(4000, 10, 400)],
    [jobChipKey('c', 'n1'), span(3000, 10, 300)],
  ]);
  const prices = { kwh: 0.36, chipHour: { H100: 3.6 } };

  it.each([
    { groupBy: 'job' as const, want: [['a', 'steps', 10, 600], ['a', 'tokens', 1000, 6], ['b', 'tokens', 3000, 4 / 3], ['c', 'tokens', 500, 6]] },
    { groupBy: 'model' as const, want: [['H100', 'steps', 10, 600], ['H100', 'tokens', 4000, 2.5], ['Trainium2', 'tokens', 500, 6]] },
    { groupBy: 'vendor' as const, want: [['nvidia', 'steps', 10, 600], ['aws', 'tokens', 500, 6], ['nvidia', 'tokens', 4000, 2.5]] },
  ])('groups by $groupBy: units and J per unit', ({ groupBy, want }) => {
    const rows = efficiencyRows({ work, spans, chips, groupBy, prices, powerEstimated: (c) => c.vendor === 'aws' });
    expect(rows.map((x) => [x.label, x.unit, x.units, x.jPerUnit])).toEqual(want.map(([l, u, n, j]) => [l, u, n, expect.closeTo(j as number, 9)]));
  });

  it('costs: energy at the kWh price plus chip-hours at the model price; null when a model has no price; estimated power marked', () => {
    const rows = efficiencyRows({ work, spans, chips, groupBy: 'model', prices, powerEstimated: (c) => c.vendor === 'aws' });
    const h100 = rows.find((x) => x.label === 'H100' && x.unit === 'tokens')!;
    // 10,000 J = 1/360 kWh at 0.36 = 0.001; 20 chip-seconds at 3.6 an hour = 0.02.
    expect(h100.cost).toBeCloseTo(0.021, 12);
    expect(h100.costPerMillionUnits).toBeCloseTo((0.021 / 4000) * 1e6, 9);
    expect(h100.avgPowerW).toBeCloseTo(500, 9);
    expect(h100.powerEstimated).toBe(false);
    const trn = rows.find((x) => x.label === 'Trainium2')!;
    expect(trn.cost).toBeNull();
    expect(trn.powerEstimated).toBe(true);
  });

  it('a chip without energy readings has null energy and J per unit, never 0', () => {
    const rows = efficiencyRows({ work: work.slice(2, 3), spans: new Map([[jobChipKey('b', 'g2'), { ...span(0, 10, 400), energyPairs: 0 }]]), chips, groupBy: 'job', prices, powerEstimated: () => false });
    expect(rows[0]).toMatchObject({ energyJ: null, jPerUnit: null, cost: null });
  });
});
