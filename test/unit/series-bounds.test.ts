/**
 * /series answers bounded and streamed: the cell budget in chooseSeriesStep, the raw tier bucketed
 * straight into columns (bucketizeInto = bucketize), and the streamed text equal to the answer's.
 */
import { describe, expect, it } from 'vitest';
import type { Sample } from '../../schema/sample.ts';
import { chooseSeriesStep, DEFAULT_MAX_SERIES_CELLS, type StepRequest } from '../../server/history/tier-choice.ts';
import { DEFAULT_RETENTION } from '../../server/store/store.ts';
import { bucketize } from '../../server/rollups/bucketize.ts';
import { bucketizeInto } from '../../server/rollups/bucketize-columns.ts';
import { columnsOf, RowColumns } from '../../server/rollups/rollup-columns.ts';
import { ROLLUP_FIELDS } from '../../server/rollups/rollup-fields.ts';
import { SeriesBuilder, lazyOf } from '../../server/history/series-assembly.ts';
import { seriesCsv, seriesCsvPieces } from '../../server/history/series-csv.ts';
import { seriesJsonPieces } from '../../server/history/series-stream.ts';
import { groupChips, type ChipRef } from '../../server/history/chip-selection.ts';
import { pacedBody } from '../../server/paced-stream.ts';
import { createPrng } from '../../agents/sources/prng.ts';

const S = 1000;
const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 0, 15, 12);

describe('chooseSeriesStep: the answer budget (points × series × fields)', () => {
  const base = (over: Partial<StepRequest>): StepRequest => ({ from: NOW - 6 * HOUR, to: NOW, now: NOW, retention: DEFAULT_RETENTION, maxPoints: 100_000, ...over });
  const answer = (series: number, fields: number, maxCells = DEFAULT_MAX_SERIES_CELLS) => ({ series, fields, maxCells });

  it('the probe request: 40 chips × 11 fields × 6 h at 1 s is refused, saying how to narrow it', () => {
    expect(() => chooseSeriesStep(base({ stepMs: S, answer: answer(40, 11) }))).toThrow(
      'the answer would hold 9504440 values (step 1s: 21601 points per series × 40 series × 11 fields), more than the hub answers at once (2000000); narrow the request: fewer chips (chip, host, model, vendor) or coarser groups (groupBy=host, model, vendor or fleet), fewer fields, a coarser step (step=10s fits), or a shorter range (from/to)',
    );
  });

  it.each([
    ['within the budget', 40, 2, S, { tier: 'raw', stepMs: S, points: 21_601 }],
    ['exactly at the budget', 1, 1, S, { tier: 'raw', stepMs: S, points: 21_601 }],
    ['a coarser step fits', 40, 11, 10 * S, { tier: 'raw', stepMs: 10 * S, points: 2_161 }],
  ] as const)('given step, %s', (_n, series, fields, stepMs, want) => {
    const maxCells = _n === 'exactly at the budget' ? 21_601 : DEFAULT_MAX_SERIES_CELLS;
    expect(chooseSeriesStep(base({ stepMs, answer: answer(series, fields, maxCells) }))).toEqual(want);
  });

  it('given step one cell over the budget: refused', () => {
    expect(() => chooseSeriesStep(base({ stepMs: S, answer: answer(1, 1, 21_600) }))).toThrow(/would hold 21601 values/);
  });

  it('automatic step: chosen within the budget (coarser than maxPoints alone would give)', () => {
    expect(chooseSeriesStep(base({ maxPoints: 100_000 }))).toMatchObject({ stepMs: 10 * S });
    // 1,000 series × 11 fields: 2,000,000 / 11,000 = 181 points at most -> 5 min steps (73 points), not 10 s
    expect(chooseSeriesStep(base({ maxPoints: 100_000, answer: answer(1_000, 11) }))).toMatchObject({ stepMs: 5 * 60 * S, points: 73 });
  });

  it('automatic step: refused when not even the coarsest step fits', () => {
    expect(() => chooseSeriesStep(base({ answer: answer(200_000, 11) }))).toThrow(/the answer would hold \d+ values .*narrow the request: fewer chips/);
  });

  it('no answer shape: no budget (callers other than /series)', () => {
    expect(chooseSeriesStep(base({ stepMs: S, maxPoints: 100_000 }))).toMatchObject({ points: 21_601 });
  });
});

function randomSamples(seed: number, n: number, intervalMs: number): Sample[] {
  const prng = createPrng(seed);
  const g = () => prng.next();
  const out: Sample[] = [];
  let ts = NOW - n * intervalMs;
  let e = 1000;
  for (let i = 0; i < n; i++) {
    ts += 1 + Math.floor(g() * intervalMs * 2);
    e = g() < 0.05 ? g() * 10 : e + g() * 500; // counter resets now and then
    const maybe = (v: number) => (g() < 0.15 ? null : v);
    out.push({
      ts,
      chipId: 'c',
      utilPct: maybe(g() * 100),
      memUtilPct: maybe(g() * 100),
      memUsedBytes: maybe(Math.floor(g() * 8e10)),
      memTotalBytes: 8e10,
      powerW: maybe(g() * 700),
      powerLimitW: 700,
      tempC: maybe(30 + g() * 50),
      energyJ: g() < 0.1 ? null : e,
      ...(g() < 0.5 ? { smClockMhz: maybe(1980) } : {}),
      ...(g() < 0.3 ? { eccCorrected: 0, eccUncorrected: null } : {}),
    });
  }
  return out;
}

describe('bucketizeInto: the buckets of bucketize, column-wise', () => {
  it.each([
    [1, 1000, 5_000],
    [2, 1000, 1_000],
    [3, 100, 60_000],
    [4, 10_000, 1_000],
    [5, 7_000, 3_600_000],
  ])('seed %i, samples every ~%i ms, step %i ms', (seed, intervalMs, stepMs) => {
    const samples = randomSamples(seed, 2_000, intervalMs);
    const before = { ts: samples[0].ts - 1000, e: 500 };
    const want = columnsOf(bucketize(samples, stepMs, before), new RowColumns());
    const got = new RowColumns();
    const last = bucketizeInto(samples, stepMs, before, got);
    expect(got.k).toBe(want.k);
    const slice = (a: Float64Array) => Array.from(a.subarray(0, want.k));
    expect(slice(got.start)).toEqual(slice(want.start));
    expect(slice(got.n)).toEqual(slice(want.n));
    expect(slice(got.energyJ)).toEqual(slice(want.energyJ));
    expect(slice(got.energyPairs)).toEqual(slice(want.energyPairs));
    for (let i = 0; i < ROLLUP_FIELDS.length; i++) {
      const g = got.fields[i]!;
      const w = want.fields[i]!;
      for (let j = 0; j < want.k; j++) {
        expect(g.cnt[j]).toBe(w.cnt[j]);
        if (w.cnt[j] > 0) expect([g.sum[j], g.min[j], g.max[j], g.last[j], g.lastTs[j]]).toEqual([w.sum[j], w.min[j], w.max[j], w.last[j], w.lastTs[j]]);
      }
    }
    const lastE = [...samples].reverse().find((s) => s.energyJ !== null)!;
    expect(last).toEqual({ ts: lastE.ts, e: lastE.energyJ });
  });

  it('fills in only the fields asked for, and energy only when asked', () => {
    const cols = new RowColumns();
    bucketizeInto(randomSamples(9, 100, 1000), 10_000, undefined, cols, new Set([ROLLUP_FIELDS.indexOf('powerW')]), false);
    expect(cols.fields.map((f, i) => (f ? ROLLUP_FIELDS[i] : null)).filter(Boolean)).toEqual(['powerW']);
    expect(cols.hasEnergy).toBe(false);
  });

  it('slices of one chip fed to a SeriesBuilder give the answer of the whole', () => {
    const samples = randomSamples(11, 3_000, 1000);
    const from = samples[0].ts;
    const to = samples[samples.length - 1].ts;
    const input = { from, to, stepMs: 7_000, fields: ['utilPct', 'powerW', 'tempC', 'energyJ'] as const, agg: 'avg' as const, groups: [{ label: 'c', keys: ['c'], tags: {} }] };
    const whole = new SeriesBuilder(input as never);
    whole.addBuckets('c', bucketize(samples, 7_000));
    const sliced = new SeriesBuilder(input as never);
    const cols = new RowColumns();
    let before;
    for (let a = 0; a < samples.length; a += 333) {
      before = bucketizeInto(samples.slice(a, a + 333), 7_000, before, cols);
      sliced.add('c', cols);
    }
    expect(sliced.columns()).toEqual(whole.columns());
  });
});

describe('the streamed answer', () => {
  const chips: ChipRef[] = [
    { chipId: 'a,0', host: 'h "1"', vendor: 'nvidia', model: 'H100' },
    { chipId: 'b0', host: 'h2', vendor: 'aws', model: 'Trainium2' },
  ];
  const build = () => {
    const b = new SeriesBuilder({ from: NOW - 60_000, to: NOW, stepMs: 10_000, fields: ['utilPct', 'energyJ'], agg: 'avg', groups: groupChips(chips, 'none') });
    const samples = randomSamples(3, 60, 1000).map((s) => ({ ...s, ts: s.ts - (s.ts - (NOW - 60_000)) % 60_000 }));
    b.addBuckets('a,0', bucketize(samples.filter((_, i) => i % 2 === 0).sort((x, y) => x.ts - y.ts), 10_000));
    return b;
  };

  it('JSON pieces join to JSON.stringify of the answer', () => {
    const b = build();
    const head = { from: NOW - 60_000, to: NOW, step: '10s', stepMs: 10_000, tier: 'raw', agg: 'avg', groupBy: 'none', fields: ['utilPct', 'energyJ'], source: 'chips' } as const;
    const answer = { ...head, ...b.columns() };
    expect([...seriesJsonPieces({ head: head as never, columns: b.lazyColumns() })].join('')).toBe(JSON.stringify(answer));
  });

  it('CSV pieces join to seriesCsv of the answer', () => {
    const b = build();
    const cols = b.columns();
    expect([...seriesCsvPieces(b.lazyColumns())].join('')).toBe(seriesCsv(cols));
    expect([...seriesCsvPieces(lazyOf(cols))].join('')).toBe(seriesCsv(cols));
  });

  it('pacedBody: the same text, in chunks, pausing between them', async () => {
    const pieces = Array.from({ length: 5_000 }, (_, i) => `${'x'.repeat(i % 97)}|${i}\n`);
    let pauses = 0;
    const body = pacedBody(pieces, { everyMs: 0, pause: async () => void pauses++ });
    const text = await new Response(body).text();
    expect(text).toBe(pieces.join(''));
    expect(pauses).toBeGreaterThan(2);
  });

  it('pacedBody: a cancelled body stops its pieces', async () => {
    let made = 0;
    function* gen() {
      for (;;) {
        made++;
        yield 'y'.repeat(1000);
      }
    }
    const reader = pacedBody(gen()).getReader();
    await reader.read();
    await reader.cancel();
    const at = made;
    await new Promise((r) => setTimeout(r, 20));
    expect(made).toBe(at);
    expect(at).toBeLessThan(200);
  });
});

describe('UnfoldedLogIndex.earliestUnfolded (slices of history skip the log when they end before it)', () => {
  it('is the earliest unfolded ts of the chip, Infinity when it has none, and never too late', async () => {
    const { SampleKeys, UnfoldedLogIndex } = await import('../../server/store/unfolded-log-index.ts');
    const recent = new UnfoldedLogIndex();
    expect(recent.earliestUnfolded('a')).toBe(Infinity);
    recent.add(1, SampleKeys.of([{ chipId: 'a', ts: 5_000 }, { chipId: 'b', ts: 100 }, { chipId: 'a', ts: 4_000 }]));
    recent.add(2, SampleKeys.of([{ chipId: 'a', ts: 9_000 }]));
    expect([recent.earliestUnfolded('a'), recent.earliestUnfolded('b')]).toEqual([4_000, 100]);
    recent.compacted(1); // row 1 folded: a's bound stays (a bound, not exact); b has nothing left
    expect([recent.earliestUnfolded('a'), recent.earliestUnfolded('b')]).toEqual([4_000, Infinity]);
    recent.compacted(2);
    expect(recent.earliestUnfolded('a')).toBe(Infinity);
    recent.add(3, SampleKeys.of([{ chipId: 'a' }])); // no ts known: anything may be unfolded
    expect(recent.earliestUnfolded('a')).toBe(-Infinity);
  });
});
