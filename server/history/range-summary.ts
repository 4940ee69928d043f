/**
 * Each chip's figures over a whole range, gathered column-wise from its buckets as they are read:
 * the buckets merged into one (counts, sums, min, max, last, energy — mergeBucket's arithmetic)
 * and the chip's reporting time in the range. What /energy and /top need, without a bucket object
 * per chip-minute (1,000 chips over a day are 1.44 million). Pure: no I/O.
 *
 * Reporting time is measured, not the width of the buckets touched: each sample stands for one
 * sampling interval of its chip, so a bucket counts n × interval, at most its width within the
 * range. Thirty seconds of a 1 s chip in a 1 h bucket are 30 s, not an hour; an outage adds no
 * time; for a chip sampled at its interval the sum equals last sample − first sample + interval.
 */
import { emptyBucket, mergeFieldStats, type RollupBucket } from '../rollups/rollup-bucket.ts';
import { columnsOf, RowColumns } from '../rollups/rollup-columns.ts';
import { ROLLUP_FIELDS } from '../rollups/rollup-fields.ts';

export interface RangeSummary {
  /** The chip's buckets in the range merged into one (its `start` is the range's start). */
  merged: RollupBucket;
  /** Reporting time in the range (ms): per bucket, its samples × the chip's interval, at most the bucket's width in the range. */
  chipMs: number;
}

interface Tally extends RangeSummary {
  intervalMs: number;
  /**
   * Samples so far of the buckets not yet full (n × interval below their width): a bucket start can
   * come twice (stored, then unfolded samples), and only those can still add time. Full ones are
   * left out, so a long range holds few entries.
   */
  partial: Map<number, number>;
  /** Buckets already full. */
  full: Set<number>;
}

export class RangeSummaries {
  readonly byChip = new Map<string, Tally>();
  private readonly scratch = new RowColumns();
  /**
   * Buckets `bucketMs` wide, aligned to multiples of it; only those overlapping [from, to) count.
   * `intervalOf`: each chip's sampling interval (ms).
   */
  constructor(
    private readonly bucketMs: number,
    private readonly from: number,
    private readonly to: number,
    private readonly intervalOf: (chipId: string) => number,
  ) {}

  /** Add the buckets held in `cols` for `chipId`. */
  add(chipId: string, cols: RowColumns): void {
    const { bucketMs, from, to } = this;
    let s = this.byChip.get(chipId);
    for (let j = 0; j < cols.k; j++) {
      const start = cols.start[j];
      if (start + bucketMs <= from || start >= to) continue;
      if (!s) this.byChip.set(chipId, (s = { merged: emptyBucket(from), chipMs: 0, intervalMs: Math.max(1, this.intervalOf(chipId)), partial: new Map(), full: new Set() }));
      const m = s.merged;
      const n = cols.n[j];
      m.n += n;
      if (n > 0 && !s.full.has(start)) {
        const width = Math.min(start + bucketMs, to) - Math.max(start, from);
        const before = s.partial.get(start) ?? 0;
        const after = before + n;
        s.chipMs += Math.min(after * s.intervalMs, width) - before * s.intervalMs;
        if (after * s.intervalMs >= width) {
          s.partial.delete(start);
          s.full.add(start);
        } else s.partial.set(start, after);
      }
      if (cols.hasEnergy) {
        m.energyJ += cols.energyJ[j];
        m.energyPairs += cols.energyPairs[j];
      }
      for (let i = 0; i < ROLLUP_FIELDS.length; i++) {
        const c = cols.fields[i];
        if (c && c.cnt[j] > 0) mergeFieldStats(m, i, c.cnt[j], c.sum[j], c.min[j], c.max[j], c.last[j], c.lastTs[j]);
      }
    }
  }

  /** Add bucket objects for `chipId` (the raw tier's, or a test's). */
  addBuckets(chipId: string, buckets: readonly RollupBucket[]): void {
    if (buckets.length) this.add(chipId, columnsOf(buckets, this.scratch));
  }
}

/** Summaries of bucket lists per chip (buckets `bucketMs` wide, range [from, to), chips' sampling intervals). */
export function summarize(byChip: ReadonlyMap<string, readonly RollupBucket[]>, bucketMs: number, from: number, to: number, intervalOf: (chipId: string) => number): ReadonlyMap<string, RangeSummary> {
  const s = new RangeSummaries(bucketMs, from, to, intervalOf);
  for (const [chipId, buckets] of byChip) s.addBuckets(chipId, buckets);
  return s.byChip;
}
