/**
 * Merging a fold's delta buckets into a stored rollup row, column-wise: the row is decoded into
 * reused columns, the delta buckets are put in columns too, and the two are merged as numbers
 * (rollup-columns.ts mergeColumns, the arithmetic of rollup-bucket.ts mergeBucket). A 1-minute row
 * holds up to 60 buckets of ten fields; as objects that was ~700 allocations per chip and fold
 * step, which at 100,000 chips made the garbage collector the fold's largest cost. Pure: no I/O.
 */
import { emptyBucket, mergeBucket, type RollupBucket } from './rollup-bucket.ts';
import { decodeRollupColumns, encodeRollupColumns } from './rollup-codec.ts';
import { bucketAt, columnsOf, mergeColumns, RowColumns } from './rollup-columns.ts';

const storedCols = new RowColumns();
const mergedCols = new RowColumns();

/** The delta buckets column-wise, ascending by start (reused: merging is synchronous). */
const deltaCols = new RowColumns();

/**
 * The buckets of `stored` (a decoded row with every field and energy, or null for none) with the
 * delta buckets merged in, ascending by start, in `out` (not `stored`). With `replace`, a delta
 * bucket takes the place of the stored bucket with its start instead of merging into it.
 */
export function mergeIntoColumns(stored: RowColumns | null, delta: ReadonlyMap<number, RollupBucket>, out: RowColumns, replace = false): RowColumns {
  const adds = delta.size === 1 ? [...delta.values()] : [...delta.values()].sort((a, b) => a.start - b.start);
  return mergeColumns(stored, columnsOf(adds, deltaCols), 0, adds.length, out, replace);
}

/**
 * A stored row's bytes (null: no row yet) with the delta buckets merged in (or, with `replace`,
 * put in place), encoded; deflated unless `deflate` is false (rollup-codec.ts).
 */
export function mergeRollupRow(data: Buffer | null, rowStart: number, bucketMs: number, delta: ReadonlyMap<number, RollupBucket>, replace = false, deflate = true): Buffer {
  const stored = data ? decodeRollupColumns(data, rowStart, bucketMs, storedCols) : null;
  return encodeRollupColumns(rowStart, bucketMs, mergeIntoColumns(stored, delta, mergedCols, replace), deflate);
}

/** All buckets of the row held in `c` merged into one bucket starting at `start` (an hour from its minutes). */
export function mergedBucket(c: RowColumns, start: number): RollupBucket {
  const b = emptyBucket(start);
  for (let j = 0; j < c.k; j++) mergeBucket(b, bucketAt(c, j));
  return b;
}
