import { describe, expect, it } from 'vitest';
import type { Sample } from '../../schema/sample.ts';
import { bucketize } from '../../server/rollups/bucketize.ts';
import { unfoldedBuckets } from '../../server/store/rollup-reads.ts';

const T0 = Date.UTC(2026, 0, 1);
const M = 60_000;
const s = (min: number, energyJ: number | null, powerW = 100): Sample =>
  ({ chipId: 'c', ts: T0 + min * M, utilPct: 50, memUtilPct: 1, memUsedBytes: 1, memTotalBytes: 2, powerW, powerLimitW: 700, tempC: 40, energyJ }) as Sample;
const energy = (bs: { energyJ: number }[]) => bs.reduce((e, b) => e + b.energyJ, 0);
const counts = (bs: { start: number; n: number }[]) => bs.map((b) => [(b.start - T0) / M, b.n]);

describe('unfoldedBuckets: the unfolded samples of a chip, paired with its newest folded energy reading', () => {
  it.each<[string, Sample[], { ts: number; e: number } | undefined, number, [number, number][]]>([
    ['no folded reading: as bucketize', [s(1, 100), s(2, 130)], undefined, 30, [[1, 1], [2, 1]]],
    ['all after the folded reading: the first pairs with it', [s(11, 1100), s(12, 1160)], { ts: T0 + 10 * M, e: 1000 }, 160, [[11, 1], [12, 1]]],
    ['a late sample before the folded reading: counted, no energy (not a counter reset)', [s(5, 500)], { ts: T0 + 10 * M, e: 1000 }, 0, [[5, 1]]],
    ['a late sample at the folded reading: no energy', [s(10, 1000)], { ts: T0 + 10 * M, e: 1000 }, 0, [[10, 1]]],
    ['late and in-order together: only the in-order ones pair, with the folded reading first', [s(5, 500), s(6, 600), s(11, 1050), s(12, 1100)], { ts: T0 + 10 * M, e: 1000 }, 100, [[5, 1], [6, 1], [11, 1], [12, 1]]],
    ['a late sample in the same bucket as an in-order one: merged into one bucket', [s(10.2, 1010), s(10.6, 1040)], { ts: T0 + 10.4 * M, e: 1020 }, 20, [[10, 2]]],
    ['late samples without energy readings', [s(5, null), s(11, 1100)], { ts: T0 + 10 * M, e: 1000 }, 100, [[5, 1], [11, 1]]],
  ])('%s', (_, samples, before, joules, buckets) => {
    const out = unfoldedBuckets(samples, M, before);
    expect(energy(out)).toBeCloseTo(joules);
    expect(counts(out)).toEqual(buckets);
    // Field stats are those of every sample, late or not.
    expect(out.reduce((n, b) => n + (b.f[4]?.cnt ?? 0), 0)).toBe(samples.length);
  });

  it('equals bucketize whenever nothing is late', () => {
    const samples = Array.from({ length: 50 }, (_, i) => s(i * 0.7 + 20, 2000 + i * 13, 100 + i));
    const before = { ts: T0 + 19 * M, e: 1990 };
    expect(unfoldedBuckets(samples, M, before)).toEqual(bucketize(samples, M, before));
  });
});
