import { describe, expect, it } from 'vitest';
import { chipHistory, scaled } from '../../client/src/chip-history-data.ts';

const answer = (agg: string, stepMs: number, ts: number[], cols: Record<string, (number | null)[]>) => ({
  from: ts[0],
  to: ts[ts.length - 1],
  step: `${stepMs / 1000}s`,
  stepMs,
  tier: 'raw',
  agg,
  series: Object.keys(cols).map((field) => ({ label: 'c', chipId: 'c', field })),
  data: [ts, ...Object.values(cols)],
});

describe('chip history plot model', () => {
  it.each([
    {
      name: 'same buckets: band from min/max, seconds on x, filled counts buckets with any value',
      avg: answer('avg', 10_000, [0, 10_000, 20_000], { utilPct: [1, null, 3], powerW: [null, null, 30] }),
      min: answer('min', 10_000, [0, 10_000, 20_000], { utilPct: [0, null, 2], powerW: [null, null, 20] }),
      max: answer('max', 10_000, [0, 10_000, 20_000], { utilPct: [2, null, 4], powerW: [null, null, 40] }),
      want: { xs: [0, 10, 20], filled: 2, band: true, utilMin: [0, null, 2], powerMax: [null, null, 40] },
    },
    {
      name: 'min answer missing a bucket: re-indexed onto the avg buckets with null',
      avg: answer('avg', 10_000, [0, 10_000, 20_000], { utilPct: [1, 2, 3] }),
      min: answer('min', 10_000, [10_000, 20_000], { utilPct: [1.5, 2.5] }),
      max: answer('max', 10_000, [0, 10_000, 20_000], { utilPct: [1, 2, 3] }),
      want: { xs: [0, 10, 20], filled: 3, band: true, utilMin: [null, 1.5, 2.5], powerMax: [null, null, null] },
    },
    {
      name: 'min/max at another step: no band',
      avg: answer('avg', 10_000, [0, 10_000], { utilPct: [1, 2] }),
      min: answer('min', 60_000, [0], { utilPct: [1] }),
      max: answer('max', 60_000, [0], { utilPct: [2] }),
      want: { xs: [0, 10], filled: 2, band: false, utilMin: null, powerMax: null },
    },
  ])('$name', ({ avg, min, max, want }) => {
    const h = chipHistory('c', avg, min, max);
    expect(h.xs).toEqual(want.xs);
    expect(h.filled).toBe(want.filled);
    expect(h.band).toBe(want.band);
    expect(h.fields.utilPct.min).toEqual(want.utilMin);
    expect(h.fields.powerW.max).toEqual(want.powerMax);
    // A field the answer lacks is all null, never zero.
    expect(h.fields.tempC.avg.every((v) => v === null)).toBe(true);
  });

  it('rejects an answer that is not a series answer', () => {
    expect(() => chipHistory('c', { code: 'bad_request' })).toThrow(/cannot read/);
  });

  it('scales values and keeps nulls', () => {
    expect(scaled([1, null, 2], 0.5)).toEqual([0.5, null, 1]);
    expect(scaled(null, 2)).toBeNull();
  });
});
