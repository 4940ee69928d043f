/**
 * The fields and aggregates a history query can ask for, and the value a bucket gives for one.
 * Pure: no I/O.
 */
import { aggregate, type Agg, type RollupBucket } from '../rollups/rollup-bucket.ts';
import { ROLLUP_FIELDS, type RollupField } from '../rollups/rollup-fields.ts';

/** Fields a history query can ask for: the rolled-up gauges, and energy used (`energyJ`). */
export const HISTORY_FIELDS = [...ROLLUP_FIELDS, 'energyJ'] as const;
export type HistoryField = (typeof HISTORY_FIELDS)[number];
export const AGGS = ['avg', 'min', 'max', 'last'] as const satisfies readonly Agg[];

/**
 * The value of a field in a bucket: `energyJ` is the joules used in it (null when it has no pair of
 * energy readings; `agg` does not apply); other fields their aggregate (null without values).
 */
export function fieldValue(b: RollupBucket | undefined, field: HistoryField, agg: Agg): number | null {
  if (!b) return null;
  if (field === 'energyJ') return b.energyPairs > 0 ? b.energyJ : null;
  return aggregate(b, field as RollupField, agg);
}
