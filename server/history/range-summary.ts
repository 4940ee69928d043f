/**
 * Each chip's figures over a whole range, gathered column-wise from its buckets as they are read:
 * the buckets merged into one (counts, sums, min, max, last, energy — mergeBucket's arithmetic)
 * and the time of the buckets that hold samples, clipped to the range. What /energy and /top need,
 * without a bucket object per chip-minute (1,000 chips over a day are 1.44 million). Pure: no I/O.
 */
import { emptyBucket, mergeFieldStats, type RollupBucket } from '../rollups/rollup-bucket.ts';
import { columnsOf, RowColumns } from '../rollups/rollup-columns.ts';
import { bucketStart, ROLLUP_FIELDS } from '../rollups/rollup-fields.ts';

export interface RangeSummary {
  /** The chip's buckets in the range merged into one (its `start` is the range's start). */
  merged: RollupBucket;
  /** Time of the buckets holding samples, clipped to the range (ms); each bucket counted once. */
  chipMs: number;
}

interface Tally extends RangeSummary {
  /** Which buckets of the range were counted in chipMs (a start can come twice: stored, then unfolded). */
  counted: Uint8Array;
}

export class RangeSummaries {
  readonly byChip = new Map<string, Tally>();
  private readonly scratch = new RowColumns();
  /** Start of the first bucket that overlaps the range, and how many buckets do. */
  private readonly origin: number;
  private readonly buckets: number;

  /** Buckets `bucketMs` wide, aligned to multiples of it; only those overlapping [from, to) count. */
  constructor(
    private readonly bucketMs: number,
    private readonly from: number,
    private readonly to: number,
  ) {
    this.origin = bucketStart(from, bucketMs);
    this.buckets = Math.ceil((to - this.origin) / bucketMs);
  }

  /** Add the buckets held in `cols` for `chipId`. */
  add(chipId: string, cols: RowColumns): void {
    const { bucketMs, from, to } = this;
    let s = this.byChip.get(chipId);
    for (let j = 0; j < cols.k; j++) {
      const start = cols.start[j];
      if (start + bucketMs <= from || start >= to) continue;
      if (!s) this.byChip.set(chipId, (s = { merged: emptyBucket(from), chipMs: 0, counted: new Uint8Array((this.buckets + 7) >> 3) }));
      const m = s.merged;
      m.n += cols.n[j];
      const at = (start - this.origin) / bucketMs;
      if (cols.n[j] > 0 && !(s.counted[at >> 3] & (1 << (at & 7)))) {
        s.counted[at >> 3] |= 1 << (at & 7);
        s.chipMs += Math.min(start + bucketMs, to) - Math.max(start, from);
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

/** Summaries of bucket lists per chip (buckets `bucketMs` wide, range [from, to)). */
export function summarize(byChip: ReadonlyMap<string, readonly RollupBucket[]>, bucketMs: number, from: number, to: number): ReadonlyMap<string, RangeSummary> {
  const s = new RangeSummaries(bucketMs, from, to);
  for (const [chipId, buckets] of byChip) s.addBuckets(chipId, buckets);
  return s.byChip;
}
