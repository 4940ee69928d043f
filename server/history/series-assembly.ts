/**
 * A /series answer in columnar form, as uPlot takes it: `data[0]` the bucket starts (ms), then one
 * column per (series, field), nulls for buckets without data. Pure: no I/O.
 */
import type { Agg, RollupBucket } from '../rollups/rollup-bucket.ts';
import { bucketStart } from '../rollups/rollup-fields.ts';
import type { ChipGroup, ChipRef } from './chip-selection.ts';
import { fieldValue, mergeKeys, type HistoryField } from './step-buckets.ts';

/** One column after the x column: the group's label and tags, and the field. */
export type SeriesColumn = { label: string; field: HistoryField } & Partial<ChipRef>;

export interface SeriesColumns {
  series: SeriesColumn[];
  data: (number | null)[][];
}

export interface AssembleInput {
  /** Requested range; every step bucket that it touches is one point. */
  from: number;
  to: number;
  stepMs: number;
  fields: readonly HistoryField[];
  agg: Agg;
  groups: readonly ChipGroup[];
  /** Step buckets per key (chip id or fleet key). */
  buckets: ReadonlyMap<string, readonly RollupBucket[]>;
}

/** Bucket starts from the one holding `from` to the one holding `to`. */
export function stepStarts(from: number, to: number, stepMs: number): number[] {
  const xs: number[] = [];
  for (let x = bucketStart(from, stepMs); x <= to; x += stepMs) xs.push(x);
  return xs;
}

export function assembleSeries(input: AssembleInput): SeriesColumns {
  const xs = stepStarts(input.from, input.to, input.stepMs);
  const series: SeriesColumn[] = [];
  const data: (number | null)[][] = [xs];
  for (const g of input.groups) {
    const merged = mergeKeys(input.buckets, g.keys);
    for (const field of input.fields) {
      series.push({ label: g.label, ...g.tags, field });
      data.push(xs.map((x) => fieldValue(merged.get(x), field, input.agg)));
    }
  }
  return { series, data };
}
