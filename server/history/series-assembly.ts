/**
 * A /series answer in columnar form, as uPlot takes it: `data[0]` the bucket starts (ms), then one
 * column per (series, field), nulls for buckets without data. Pure: no I/O.
 */
import type { SeriesAnswer, SeriesColumn } from '../../schema/api-answers.ts';
import { fieldIndex, type Agg, type RollupBucket } from '../rollups/rollup-bucket.ts';
import { bucketStart } from '../rollups/rollup-fields.ts';
import type { ChipGroup } from './chip-selection.ts';
import { columnsOf, RowColumns } from '../rollups/rollup-columns.ts';
import type { HistoryField } from './step-buckets.ts';

/** One column after the x column: the group's label and tags, and the field (schema/api-answers.ts). */
export type { SeriesColumn };

/** The columns of a /series answer. */
export type SeriesColumns = Pick<SeriesAnswer, 'series' | 'data'>;

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

/** Running stats of one (group, field) over the points: only the arrays its aggregate reads. */
interface StepStats {
  cnt: Float64Array;
  /** avg: sums; min: minima; max: maxima; last: latest values. */
  acc: Float64Array;
  /** last: the latest value's ts, and the rank of the key it came from (ties go to the later key). */
  lastTs?: Float64Array;
  lastRank?: Float64Array;
}

const ENERGY = -1;

/**
 * Builds a /series answer from buckets fed one key at a time, column-wise: each bucket lands in
 * the point of the step that holds it (tier buckets fold into coarser steps, a group's keys into
 * one column) with the arithmetic of mergeBucket, without a bucket object per point. Buckets
 * outside the points are dropped.
 */
export class SeriesBuilder {
  readonly xs: number[];
  private readonly x0: number;
  private readonly slots: number[];
  private readonly stats: StepStats[][] = [];
  private readonly byKey = new Map<string, { group: number; rank: number }[]>();
  private readonly scratch = new RowColumns();

  constructor(private readonly input: Omit<AssembleInput, 'buckets'>) {
    this.xs = stepStarts(input.from, input.to, input.stepMs);
    this.x0 = this.xs[0] ?? 0;
    this.slots = input.fields.map((f) => (f === 'energyJ' ? ENERGY : fieldIndex(f)));
    const points = this.xs.length;
    input.groups.forEach((g, group) => {
      this.stats.push(
        this.slots.map(() => ({
          cnt: new Float64Array(points),
          acc: new Float64Array(points),
          ...(input.agg === 'last' ? { lastTs: new Float64Array(points), lastRank: new Float64Array(points) } : {}),
        })),
      );
      g.keys.forEach((key, rank) => {
        const to = this.byKey.get(key);
        if (to) to.push({ group, rank });
        else this.byKey.set(key, [{ group, rank }]);
      });
    });
  }

  /** Keys some group wants. */
  keys(): string[] {
    return [...this.byKey.keys()];
  }

  /** Add the buckets held in `cols` (one stored row, say) for `key`. */
  add(key: string, cols: RowColumns): void {
    const targets = this.byKey.get(key);
    if (!targets) return;
    const { stepMs, agg } = this.input;
    const points = this.xs.length;
    for (const { group, rank } of targets) {
      const stats = this.stats[group];
      for (let s = 0; s < this.slots.length; s++) {
        const st = stats[s];
        const { cnt, acc } = st;
        if (this.slots[s] === ENERGY) {
          if (!cols.hasEnergy) continue;
          for (let j = 0; j < cols.k; j++) {
            const i = Math.floor((cols.start[j] - this.x0) / stepMs);
            if (i < 0 || i >= points) continue;
            cnt[i] += cols.energyPairs[j];
            acc[i] += cols.energyJ[j];
          }
          continue;
        }
        const f = cols.fields[this.slots[s]];
        if (!f) continue;
        const src = agg === 'avg' ? f.sum : agg === 'min' ? f.min : agg === 'max' ? f.max : f.last;
        for (let j = 0; j < cols.k; j++) {
          const c = f.cnt[j];
          if (c === 0) continue;
          const i = Math.floor((cols.start[j] - this.x0) / stepMs);
          if (i < 0 || i >= points) continue;
          const v = src[j];
          const first = cnt[i] === 0;
          cnt[i] += c;
          if (agg === 'avg') acc[i] = first ? v : acc[i] + v;
          else if (agg === 'min') acc[i] = first || v < acc[i] ? v : acc[i];
          else if (agg === 'max') acc[i] = first || v > acc[i] ? v : acc[i];
          else {
            const ts = f.lastTs[j];
            if (first || ts > st.lastTs![i] || (ts === st.lastTs![i] && rank >= st.lastRank![i])) {
              acc[i] = v;
              st.lastTs![i] = ts;
              st.lastRank![i] = rank;
            }
          }
        }
      }
    }
  }

  /** Add bucket objects for `key` (the raw tier's, or a test's). */
  addBuckets(key: string, buckets: readonly RollupBucket[]): void {
    if (buckets.length) this.add(key, columnsOf(buckets, this.scratch));
  }

  /** The answer: the x column, then one column per (group, field), values rounded, nulls where empty. */
  columns(): SeriesColumns {
    const lazy = this.lazyColumns();
    return { series: lazy.series, data: [this.xs, ...lazy.series.map((_, c) => lazy.column(c))] };
  }

  /**
   * The same columns, each built only when asked for (a large answer is serialised a column at a
   * time without holding every column as an array of numbers).
   */
  lazyColumns(): LazyColumns {
    const series: SeriesColumn[] = [];
    const at: { stats: StepStats; energy: boolean }[] = [];
    this.input.groups.forEach((g, group) => {
      this.input.fields.forEach((field, s) => {
        series.push({ label: g.label, ...g.tags, field });
        at.push({ stats: this.stats[group][s], energy: this.slots[s] === ENERGY });
      });
    });
    const avg = this.input.agg === 'avg';
    const cell = (c: number, i: number): number | null => {
      const { stats, energy } = at[c];
      const n = stats.cnt[i];
      return n === 0 ? null : roundValue(avg && !energy ? stats.acc[i] / n : stats.acc[i]);
    };
    const points = this.xs.length;
    return {
      series,
      xs: this.xs,
      cell,
      column(c) {
        const col = new Array<number | null>(points);
        for (let i = 0; i < points; i++) col[i] = cell(c, i);
        return col;
      },
    };
  }
}

/** A /series answer's columns read on demand: no array per column until one is asked for. */
export interface LazyColumns {
  series: SeriesColumn[];
  /** The x column (bucket starts). */
  xs: number[];
  /** Column c after the x column (the answer's data[c + 1]). */
  column(c: number): (number | null)[];
  /** Its value at point i. */
  cell(c: number, i: number): number | null;
}

/** LazyColumns over columns already built. */
export function lazyOf({ series, data }: SeriesColumns): LazyColumns {
  return { series, xs: (data[0] ?? []) as number[], column: (c) => data[c + 1], cell: (c, i) => data[c + 1][i] };
}

/** The answer for buckets already read (per key; any width that divides the step). */
export function assembleSeries(input: AssembleInput): SeriesColumns {
  const builder = new SeriesBuilder(input);
  for (const key of builder.keys()) builder.addBuckets(key, input.buckets.get(key) ?? []);
  return builder.columns();
}
