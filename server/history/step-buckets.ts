/**
 * Rollup buckets regrouped into query steps and chip groups, and the value a bucket gives for a
 * field. Pure: no I/O; inputs are never modified.
 */
import { aggregate, cloneBucket, emptyBucket, fieldIndex, mergeBucket, type Agg, type RollupBucket } from '../rollups/rollup-bucket.ts';
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
 * One group's buckets by start: the step buckets of its keys merged (counts and sums add, min of
 * mins, max of maxes, `last` from the latest sample; energy adds). Keys are merged in the order
 * given, so among samples with the same timestamp the later key's value is `last`.
 */
export function mergeKeys(byKey: ReadonlyMap<string, readonly RollupBucket[]>, keys: readonly string[]): Map<number, RollupBucket> {
  if (keys.length === 1) {
    // One key: its buckets as they are (callers only read them).
    return new Map((byKey.get(keys[0]) ?? []).map((b) => [b.start, b]));
  }
  const out = new Map<number, RollupBucket>();
  for (const key of keys) {
    for (const b of byKey.get(key) ?? []) {
      const cur = out.get(b.start);
      if (cur) mergeBucket(cur, b);
      else out.set(b.start, cloneBucket(b));
    }
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

/** fieldValue specialised once for a field and agg (for loops over many buckets). */
export function valueReader(field: HistoryField, agg: Agg): (b: RollupBucket) => number | null {
  if (field === 'energyJ') return (b) => (b.energyPairs > 0 ? b.energyJ : null);
  const i = fieldIndex(field as RollupField);
  switch (agg) {
    case 'avg':
      return (b) => (b.f[i] ? b.f[i]!.sum / b.f[i]!.cnt : null);
    case 'min':
      return (b) => b.f[i]?.min ?? null;
    case 'max':
      return (b) => b.f[i]?.max ?? null;
    case 'last':
      return (b) => b.f[i]?.last ?? null;
  }
}

/** All buckets of one key merged into one (a whole-range figure). */
export function mergeAll(buckets: readonly RollupBucket[], start = 0): RollupBucket {
  const out = emptyBucket(start);
  for (const b of buckets) mergeBucket(out, b);
  return out;
}
