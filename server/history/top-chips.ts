/**
 * The /top ranking: the k chips with the highest (or lowest) value of a field over a range.
 * Pure: no I/O. Chips without a value are left out; ties are ordered by chip id.
 */
import type { TopEntry } from '../../schema/api-answers.ts';
import type { Agg } from '../rollups/rollup-bucket.ts';
import type { ChipRef } from './chip-selection.ts';
import type { RangeSummary } from './range-summary.ts';
import { fieldValue, type HistoryField } from './step-buckets.ts';

/** A ranked chip (its shape: schema/api-answers.ts). */
export type { TopEntry };

export interface TopInput {
  chips: readonly ChipRef[];
  /** Each chip's figures over the range (range-summary.ts). */
  summaries: ReadonlyMap<string, RangeSummary>;
  field: HistoryField;
  agg: Agg;
  k: number;
  order: 'asc' | 'desc';
}

export function topChips(input: TopInput): TopEntry[] {
  const entries: TopEntry[] = [];
  for (const c of input.chips) {
    const value = fieldValue(input.summaries.get(c.chipId)?.merged, input.field, input.agg);
    if (value !== null) entries.push({ chipId: c.chipId, host: c.host, model: c.model, vendor: c.vendor, value });
  }
  const dir = input.order === 'desc' ? -1 : 1;
  entries.sort((a, b) => (a.value !== b.value ? dir * (a.value - b.value) : a.chipId < b.chipId ? -1 : a.chipId > b.chipId ? 1 : 0));
  return entries.slice(0, input.k);
}
