/**
 * Chip-hours are reporting time, measured: the range summaries (what /energy and /top read) against
 * a brute force over the raw samples — each run of consecutive samples counts last − first + the
 * chip's interval — on random fleets with outages, both rollup tiers' bucket widths, buckets that
 * arrive in two parts (stored rows, then the unfolded log), and the case that was 120× off: 30
 * seconds of a 1,000-chip fleet read from the 1-hour tier.
 */
import { describe, expect, it } from 'vitest';
import type { Sample } from '../../schema/sample.ts';
import { RangeSummaries } from '../../server/history/range-summary.ts';
import { bucketize } from '../../server/rollups/bucketize.ts';
import { columnsOf, RowColumns } from '../../server/rollups/rollup-columns.ts';

const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 2, 1);

function lcg(seed: number): () => number {
  let x = seed;
  return () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

const sampleAt = (chipId: string, ts: number): Sample => ({ ts, chipId, utilPct: 50, memUtilPct: null, memUsedBytes: null, memTotalBytes: null, powerW: 300, powerLimitW: 700, tempC: null, energyJ: null });

/** A chip sampled every `intervalMs` from a random phase, with random outages. */
function chipSamples(chipId: string, intervalMs: number, spanMs: number, rnd: () => number): number[] {
  const out: number[] = [];
  let ts = T0 + Math.floor(rnd() * intervalMs);
  while (ts < T0 + spanMs) {
    out.push(ts);
    // Now and then an outage of a few to many intervals.
    ts += rnd() < 0.02 ? intervalMs * (2 + Math.floor(rnd() * 400)) : intervalMs;
  }
  return out;
}

/** Reporting time in [from, to): runs of samples one interval apart count last − first + interval. */
function bruteForce(ts: readonly number[], intervalMs: number, from: number, to: number): number {
  const inRange = ts.filter((t) => t >= from && t < to);
  let total = 0;
  let runStart = -1;
  for (let i = 0; i < inRange.length; i++) {
    if (runStart < 0) runStart = inRange[i]!;
    const next = inRange[i + 1];
    if (next === undefined || next - inRange[i]! > intervalMs) {
      total += inRange[i]! - runStart + intervalMs;
      runStart = -1;
    }
  }
  return total;
}

describe('chip-hours in range summaries', () => {
  const cases: [string, number, number, number][] = [
    // name, bucket width, interval, span
    ['1-minute buckets, 1 s chips, 6 h', MIN, S, 6 * HOUR],
    ['1-minute buckets, 10 s chips, 6 h', MIN, 10 * S, 6 * HOUR],
    ['1-hour buckets, 1 s chips, 2 days', HOUR, S, 48 * HOUR],
    ['1-hour buckets, 5 s chips, 2 days', HOUR, 5 * S, 48 * HOUR],
  ];
  it.each(cases)('%s: random chips with outages equal the brute force, buckets arriving whole or in two parts', (_name, bucketMs, intervalMs, spanMs) => {
    const rnd = lcg(bucketMs + intervalMs);
    const chips = Array.from({ length: 12 }, (_, i) => ({ chipId: `c${i}`, ts: chipSamples(`c${i}`, intervalMs, spanMs, rnd) }));
    // The covered range: whole buckets, starting and ending inside the data.
    const from = T0 + bucketMs * Math.floor(spanMs / bucketMs / 4);
    const to = T0 + bucketMs * Math.floor((3 * spanMs) / bucketMs / 4);
    const whole = new RangeSummaries(bucketMs, from, to, () => intervalMs);
    const split = new RangeSummaries(bucketMs, from, to, () => intervalMs);
    const cols = new RowColumns();
    let expected = 0;
    for (const c of chips) {
      const samples = c.ts.map((t) => sampleAt(c.chipId, t));
      whole.add(c.chipId, columnsOf(bucketize(samples, bucketMs), cols));
      // Stored rows hold the samples up to a cut; the unfolded log the rest (the cut's bucket comes twice).
      const cut = Math.floor(samples.length * (0.3 + 0.4 * rnd()));
      split.add(c.chipId, columnsOf(bucketize(samples.slice(0, cut), bucketMs), cols));
      split.add(c.chipId, columnsOf(bucketize(samples.slice(cut), bucketMs), cols));
      const want = bruteForce(c.ts, intervalMs, from, to);
      expected += want;
      expect(whole.byChip.get(c.chipId)?.chipMs ?? 0, c.chipId).toBe(want);
      expect(split.byChip.get(c.chipId)?.chipMs ?? 0, `${c.chipId}, in two parts`).toBe(want);
    }
    expect(expected).toBeGreaterThan(0);
  });

  it('a range cutting into buckets counts at most the part of each bucket inside it', () => {
    // One 1 s chip reporting all hour; the range holds 15 minutes of the hour bucket.
    const samples = Array.from({ length: 3600 }, (_, i) => sampleAt('c', T0 + i * S));
    const s = new RangeSummaries(HOUR, T0 + 30 * MIN, T0 + 45 * MIN, () => S);
    s.add('c', columnsOf(bucketize(samples, HOUR), new RowColumns()));
    expect(s.byChip.get('c')!.chipMs).toBe(15 * MIN);
  });

  it('30 seconds of a 1,000-chip fleet at 1 Hz read from the 1-hour tier are 8.3 chip-hours, not 1,000', () => {
    const start = T0 + 20 * MIN;
    const s = new RangeSummaries(HOUR, T0, T0 + 24 * HOUR, () => S);
    const cols = new RowColumns();
    for (let c = 0; c < 1000; c++) {
      const samples = Array.from({ length: 30 }, (_, i) => sampleAt(`c${c}`, start + i * S + (c % 1000)));
      s.add(`c${c}`, columnsOf(bucketize(samples, HOUR), cols));
    }
    const chipMs = [...s.byChip.values()].reduce((n, t) => n + t.chipMs, 0);
    expect(chipMs / HOUR).toBeCloseTo((1000 * 30) / 3600, 9);
  });
});
