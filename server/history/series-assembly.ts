/**
 * A /series answer in columnar form, as uPlot takes it: `data[0]` the bucket starts (ms), then one
 * column per (series, field), nulls for buckets without data. Pure: no I/O.
 */
import type { Agg, RollupBucket } from '../rollups/rollup-bucket.ts';
import { bucketStart } from '../rollups/rollup-fields.ts';
import type { ChipGroup, ChipRef } from './chip-selection.ts';
import { mergeKeys, valueReader, type HistoryField } from './step-buckets.ts';

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

/**
 * Values go out with at most 4 decimals: sources report at most 3, and averages would otherwise
 * carry 17 digits of float noise into every point of the answer.
 */
export function roundValue(v: number | null): number | null {
  return v === null ? null : Math.round(v * 1e4) / 1e4;
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
  const x0 = xs[0] ?? 0;
  const readers = input.fields.map((f) => valueReader(f, input.agg));
  for (const g of input.groups) {
    // One key (a chip, or one fleet group): its buckets as read; several: merged per step.
    const buckets = g.keys.length === 1 ? (input.buckets.get(g.keys[0]) ?? []) : mergeKeys(input.buckets, g.keys).values();
    const columns = input.fields.map((field) => {
      series.push({ label: g.label, ...g.tags, field });
      return new Array<number | null>(xs.length).fill(null);
    });
    // Each bucket goes to its point by index (buckets outside the points are dropped).
    for (const b of buckets) {
      const i = (b.start - x0) / input.stepMs;
      if (!(i >= 0 && i < xs.length && Number.isInteger(i))) continue;
      for (let k = 0; k < readers.length; k++) columns[k][i] = roundValue(readers[k](b));
    }
    data.push(...columns);
  }
  return { series, data };
}
