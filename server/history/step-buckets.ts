/**
 * Rollup buckets regrouped into query steps, and the value a bucket gives for a
 * field. Pure: no I/O; inputs are never modified.
 */
import { aggregate, emptyBucket, mergeBucket, type Agg, type RollupBucket } from '../rollups/rollup-bucket.ts';
import { bucketStart, ROLLUP_FIELDS, type RollupField } from '../rollups/rollup-fields.ts';

/** Fields a history query can ask for: the rolled-up gauges, and energy used (`energyJ`). */
export const HISTORY_FIELDS = [...ROLLUP_FIELDS, 'energyJ'] as const;
export type HistoryField = (typeof HISTORY_FIELDS)[number];
export const AGGS = ['avg', 'min', 'max', 'last'] as const satisfies readonly Agg[];

/** Merge ascending buckets into buckets of `stepMs` (a multiple of theirs), aligned to multiples of the step. */
export function coarsen(buckets: readonly RollupBucket[], stepMs: number): RollupBucket[] {
  const out: RollupBucket[] = [];
  let cur: RollupBucket | null = null;
  for (const b of buckets) {
    const start = bucketStart(b.start, stepMs);
    if (!cur || cur.start !== start) {
      cur = emptyBucket(start);
      out.push(cur);
    }
    mergeBucket(cur, b);
  }
  return out;
}

/**
 * The value of a field in a bucket: `energyJ` is the joules used in it (null when it has no pair of
 * energy readings; `agg` does not apply); other fields their aggregate (null without values).
 */
export function fieldValue(b: RollupBucket | undefined, field: HistoryField, agg: Agg): number | null {
  if (!b) return null;
  if (field === 'energyJ') return b.energyPairs > 0 ? b.energyJ : null;
  return aggregate(b, field as RollupField, agg);
}

/** All buckets of one key merged into one (a whole-range figure). */
export function mergeAll(buckets: readonly RollupBucket[], start = 0): RollupBucket {
  const out = emptyBucket(start);
  for (const b of buckets) mergeBucket(out, b);
  return out;
}
