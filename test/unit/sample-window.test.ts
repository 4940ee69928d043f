/**
 * client/src/sample-window.ts: the dashboard's rolling window of one chip's samples — ordered
 * insertion, duplicate timestamps replaced, trimmed to the window and the sample cap, history
 * blocks authoritative for their span, uPlot columns.
 */
import { describe, expect, it } from 'vitest';
import { insertSample, MAX_SAMPLES, SampleWindow, WINDOW_MS } from '../../client/src/sample-window.ts';
import type { Sample } from '../../schema/sample.ts';
import { sample } from '../helpers/frames.ts';

const T = 1_760_000_000_000;
const A = 'GPU-a';
const B = 'GPU-b';
const s = (ts: number, over: Partial<Sample> = {}) => sample(A, T + ts, over);
const tss = (w: { samples: readonly Sample[] }) => w.samples.map((x) => x.ts - T);

describe('constants', () => {
  it('keeps 15 minutes and at most 50,000 samples by default', () => {
    expect(WINDOW_MS).toBe(15 * 60_000);
    expect(MAX_SAMPLES).toBe(50_000);
    const w = new SampleWindow();
    expect(w.windowMs).toBe(WINDOW_MS);
    expect(w.maxSamples).toBe(MAX_SAMPLES);
  });
});

describe('insertSample', () => {
  const cases: [string, number[], number, number[]][] = [
    ['into an empty buffer', [], 5, [5]],
    ['after the last', [1, 2, 3], 4, [1, 2, 3, 4]],
    ['before the first', [2, 3, 4], 1, [1, 2, 3, 4]],
    ['in the middle', [1, 3, 5], 4, [1, 3, 4, 5]],
    ['between the first two', [1, 3, 5], 2, [1, 2, 3, 5]],
    ['replacing the first', [1, 3, 5], 1, [1, 3, 5]],
    ['replacing a middle one', [1, 3, 5], 3, [1, 3, 5]],
    ['replacing the last', [1, 3, 5], 5, [1, 3, 5]],
  ];
  it.each(cases)('%s', (_name, before, ts, after) => {
    const buf = before.map((t) => s(t, { utilPct: 1 }));
    insertSample(buf, s(ts, { utilPct: 99 }));
    expect(buf.map((x) => x.ts - T)).toEqual(after);
    // The inserted sample is in the buffer (a replacement, not a stale copy).
    expect(buf.find((x) => x.ts === T + ts)!.utilPct).toBe(99);
    expect(buf.filter((x) => x.utilPct === 99)).toHaveLength(1);
  });

  it('keeps any insertion order sorted and unique', () => {
    const order = [50, 10, 30, 30, 70, 0, 60, 20, 10, 40, 70];
    const buf: Sample[] = [];
    for (const t of order) insertSample(buf, s(t));
    expect(buf.map((x) => x.ts - T)).toEqual([0, 10, 20, 30, 40, 50, 60, 70]);
  });
});

describe('SampleWindow.add', () => {
  const cases: [string, number[][], number[]][] = [
    ['appends in order', [[0, 1000, 2000]], [0, 1000, 2000]],
    ['appends across calls', [[0, 1000], [2000, 3000]], [0, 1000, 2000, 3000]],
    ['sorts an out-of-order batch', [[3000, 1000, 2000, 0]], [0, 1000, 2000, 3000]],
    ['inserts a late sample in its place', [[0, 2000], [1000]], [0, 1000, 2000]],
    ['keeps one sample per timestamp within a batch', [[0, 1000, 1000, 2000]], [0, 1000, 2000]],
    ['keeps one sample per timestamp across re-deliveries', [[0, 1000, 2000], [1000, 2000, 3000]], [0, 1000, 2000, 3000]],
  ];
  it.each(cases)('%s', (_name, calls, expected) => {
    const w = new SampleWindow();
    for (const c of calls) w.add(A, c.map((t) => s(t)));
    expect(tss(w)).toEqual(expected);
  });

  it('a re-delivered timestamp replaces the kept sample (the newest delivery wins)', () => {
    const w = new SampleWindow();
    w.add(A, [s(0, { powerW: 1 }), s(1000, { powerW: 2 })]);
    w.add(A, [s(1000, { powerW: 3 })]);
    expect(w.samples.map((x) => x.powerW)).toEqual([1, 3]);
    expect(w.last!.powerW).toBe(3);
  });

  it("ignores other chips' samples", () => {
    const w = new SampleWindow();
    w.add(A, [s(0), sample(B, T + 500), s(1000), sample(B, T + 2000)]);
    expect(tss(w)).toEqual([0, 1000]);
    expect(w.samples.every((x) => x.chipId === A)).toBe(true);
  });

  const trims: [string, number, number, number[], number[]][] = [
    // windowMs, maxSamples, timestamps added, kept
    ['drops samples older than the window behind the newest', 10_000, 1000, [0, 6000, 15_001], [6000, 15_001]],
    ['keeps a sample exactly windowMs older than the newest', 10_000, 1000, [0, 5000, 10_000], [0, 5000, 10_000]],
    ['drops one 1 ms past the window', 10_000, 1000, [0, 5000, 10_001], [5000, 10_001]],
    ['a late sample already outside the window is not kept', 10_000, 1000, [20_000, 5000], [20_000]],
    ['a late sample inside the window is kept', 10_000, 1000, [20_000, 12_000], [12_000, 20_000]],
    ['caps the count, keeping the newest', 1e9, 3, [0, 1, 2, 3, 4], [2, 3, 4]],
    ['caps the count of an out-of-order batch, keeping the newest', 1e9, 2, [4, 0, 3, 1], [3, 4]],
    ['both limits: the stricter wins', 10, 3, [0, 5, 6, 7, 8, 9, 20], [20]],
  ];
  it.each(trims)('%s', (_name, windowMs, max, added, kept) => {
    const w = new SampleWindow(windowMs, max);
    w.add(A, added.map((t) => s(t)));
    expect(tss(w)).toEqual(kept);
  });

  it('trims as newer samples arrive, one call at a time', () => {
    const w = new SampleWindow(3000, 100);
    for (let t = 0; t <= 10_000; t += 1000) w.add(A, [s(t)]);
    expect(tss(w)).toEqual([7000, 8000, 9000, 10_000]);
  });

  it('bumps version on every change (including an add with nothing of this chip)', () => {
    const w = new SampleWindow();
    expect(w.version).toBe(0);
    w.add(A, [s(0)]);
    expect(w.version).toBe(1);
    w.add(A, [s(1000), s(2000)]);
    expect(w.version).toBe(2);
    w.add(A, []);
    expect(w.version).toBe(3);
    w.clear();
    expect(w.version).toBe(4);
    expect(w.samples).toEqual([]);
    expect(w.last).toBeNull();
  });
});

describe('SampleWindow.addHistory', () => {
  const cases: [string, number[], number[], number[], string[]][] = [
    // kept live samples, history block, resulting ts, source of each
    ['replaces the kept samples inside the block span', [0, 1000, 2000, 3000, 4000], [1000, 3000], [0, 1000, 3000, 4000], ['live', 'hist', 'hist', 'live']],
    ['adds a block before the kept samples', [5000, 6000], [1000, 2000], [1000, 2000, 5000, 6000], ['hist', 'hist', 'live', 'live']],
    ['adds a block after the kept samples', [0, 1000], [5000, 6000], [0, 1000, 5000, 6000], ['live', 'live', 'hist', 'hist']],
    ['a one-sample block replaces only that timestamp', [0, 1000, 2000], [1000], [0, 1000, 2000], ['live', 'hist', 'live']],
    ['an unordered block counts by its lowest and highest ts', [0, 1000, 2000, 3000, 4000], [3000, 1000], [0, 1000, 3000, 4000], ['live', 'hist', 'hist', 'live']],
  ];
  it.each(cases)('%s', (_name, live, hist, expected, sources) => {
    const w = new SampleWindow();
    w.add(A, live.map((t) => s(t, { tempC: 1 })));
    w.addHistory(A, hist.map((t) => s(t, { tempC: 2 })));
    expect(tss(w)).toEqual(expected);
    expect(w.samples.map((x) => (x.tempC === 2 ? 'hist' : 'live'))).toEqual(sources);
  });

  it("ignores other chips' samples when working out the span", () => {
    const w = new SampleWindow();
    w.add(A, [0, 1000, 2000, 3000].map((t) => s(t)));
    w.addHistory(A, [sample(B, T), s(2000, { tempC: 2 }), sample(B, T + 3000)]);
    expect(tss(w)).toEqual([0, 1000, 2000, 3000]);
    expect(w.samples.map((x) => x.tempC)).toEqual([55, 55, 2, 55]);
  });

  it('a block with none of this chip changes no sample', () => {
    const w = new SampleWindow();
    w.add(A, [s(0), s(1000)]);
    w.addHistory(A, [sample(B, T + 500)]);
    expect(tss(w)).toEqual([0, 1000]);
  });

  it('trims to the window after merging', () => {
    const w = new SampleWindow(5000, 100);
    w.add(A, [s(0), s(1000)]);
    w.addHistory(A, [s(9000), s(10_000)]);
    expect(tss(w)).toEqual([9000, 10_000]);
  });
});

describe('SampleWindow.backfill', () => {
  it('counts the backfilled samples and groups consecutive ones into bands (seconds)', () => {
    const w = new SampleWindow();
    expect(w.backfill).toEqual({ count: 0, bands: [] });
    const bf = { flags: { backfill: true } };
    w.add(A, [s(0), s(1000, bf), s(2000, bf), s(3000), s(4000, bf)]);
    expect(w.backfill).toEqual({
      count: 3,
      bands: [
        { from: (T + 1000) / 1000, to: (T + 2000) / 1000 },
        { from: (T + 4000) / 1000, to: (T + 4000) / 1000 },
      ],
    });
    // Recomputed after a change: the live re-delivery of 4000 replaces the backfilled one.
    w.add(A, [s(4000)]);
    expect(w.backfill.count).toBe(2);
    expect(w.backfill.bands).toHaveLength(1);
  });
});

describe('SampleWindow.columns', () => {
  it('is empty for an empty window', () => {
    expect(new SampleWindow().columns(700)).toEqual({ xs: [], util: [], power: [], limit: [], temp: [] });
  });

  it('gives x in seconds and one column per series, in ts order', () => {
    const w = new SampleWindow();
    w.add(A, [
      s(1500, { utilPct: 20, powerW: 200, powerLimitW: 600, tempC: 40 }),
      s(0, { utilPct: 10, powerW: 100, powerLimitW: 700, tempC: 30 }),
    ]);
    expect(w.columns(null)).toEqual({
      xs: [T / 1000, (T + 1500) / 1000],
      util: [10, 20],
      power: [100, 200],
      limit: [700, 600],
      temp: [30, 40],
    });
  });

  const limits: [string, number | null, number | null, number | null][] = [
    // sample powerLimitW, ratedW, limit column
    ['the sample limit wins over the rated power', 600, 700, 600],
    ['no sample limit: the rated power', null, 700, 700],
    ['neither: null', null, null, null],
    ['a sample limit and no rated power', 450, null, 450],
  ];
  it.each(limits)('%s', (_name, sampleLimit, ratedW, expected) => {
    const w = new SampleWindow();
    w.add(A, [s(0, { powerLimitW: sampleLimit })]);
    expect(w.columns(ratedW).limit).toEqual([expected]);
  });

  it('keeps nulls as nulls (never 0)', () => {
    const w = new SampleWindow();
    w.add(A, [s(0, { utilPct: null, powerW: null, tempC: null, powerLimitW: null })]);
    expect(w.columns(null)).toEqual({ xs: [T / 1000], util: [null], power: [null], limit: [null], temp: [null] });
  });
});
