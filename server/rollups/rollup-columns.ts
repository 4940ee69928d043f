/**
 * Rollup buckets column-wise: what a stored row decodes into when a reader wants values rather
 * than bucket objects (a 30-day series at 1 minute is 43,200 buckets). One RowColumns is reused
 * from row to row: its arrays hold the last row decoded into it. Pure: no I/O.
 */
import type { RollupBucket } from './rollup-bucket.ts';
import { ROLLUP_FIELDS } from './rollup-fields.ts';

/** One field's stats over the buckets of a row; `cnt[j] === 0`: bucket j has no value (the others are then stale). */
export interface FieldColumns {
  cnt: Float64Array;
  sum: Float64Array;
  min: Float64Array;
  max: Float64Array;
  last: Float64Array;
  lastTs: Float64Array;
}

const fieldColumns = (k: number): FieldColumns => ({
  cnt: new Float64Array(k),
  sum: new Float64Array(k),
  min: new Float64Array(k),
  max: new Float64Array(k),
  last: new Float64Array(k),
  lastTs: new Float64Array(k),
});

export class RowColumns {
  /** Buckets in the row. */
  k = 0;
  start = new Float64Array(0);
  n = new Float64Array(0);
  /** Per ROLLUP_FIELDS index: the field's stats, or null when it was not decoded. */
  fields: (FieldColumns | null)[] = ROLLUP_FIELDS.map(() => null);
  /** Whether energyJ / energyPairs hold this row's energy (else not decoded). */
  hasEnergy = false;
  energyJ = new Float64Array(0);
  energyPairs = new Float64Array(0);
  /** Scratch: positions of the buckets that have a field. */
  at = new Int32Array(0);
  private capacity = 0;
  private readonly stats: FieldColumns[] = [];

  /** Make room for `k` buckets with the fields in `only` (all when absent), energy when asked. */
  prepare(k: number, only: ReadonlySet<number> | undefined, energy: boolean): void {
    if (k > this.capacity) {
      this.capacity = Math.max(k, 2 * this.capacity);
      const c = this.capacity;
      this.start = new Float64Array(c);
      this.n = new Float64Array(c);
      this.energyJ = new Float64Array(c);
      this.energyPairs = new Float64Array(c);
      this.at = new Int32Array(c);
      this.stats.length = 0;
    }
    this.k = k;
    this.hasEnergy = energy;
    for (let i = 0; i < ROLLUP_FIELDS.length; i++) {
      this.fields[i] = only && !only.has(i) ? null : (this.stats[i] ??= fieldColumns(this.capacity));
    }
  }
}

/** Bucket j of the row held in `c` as an object (fields not decoded are null; energy 0 when not decoded). */
export function bucketAt(c: RowColumns, j: number): RollupBucket {
  const f: RollupBucket['f'] = new Array(ROLLUP_FIELDS.length).fill(null);
  for (let i = 0; i < f.length; i++) {
    const s = c.fields[i];
    if (s && s.cnt[j] > 0) f[i] = { cnt: s.cnt[j], sum: s.sum[j], min: s.min[j], max: s.max[j], last: s.last[j], lastTs: s.lastTs[j] };
  }
  return { start: c.start[j], n: c.n[j], f, energyJ: c.hasEnergy ? c.energyJ[j] : 0, energyPairs: c.hasEnergy ? c.energyPairs[j] : 0 };
}

/** Bucket objects for the row held in `c` (see bucketAt). */
export function bucketsOf(c: RowColumns): RollupBucket[] {
  const out: RollupBucket[] = new Array(c.k);
  for (let j = 0; j < c.k; j++) out[j] = bucketAt(c, j);
  return out;
}

/** Put bucket `b` at position j of `into` (prepared with every field and energy). */
export function setBucket(into: RowColumns, j: number, b: RollupBucket): void {
  into.start[j] = b.start;
  into.n[j] = b.n;
  into.energyJ[j] = b.energyJ;
  into.energyPairs[j] = b.energyPairs;
  for (let i = 0; i < ROLLUP_FIELDS.length; i++) {
    const s = b.f[i];
    const c = into.fields[i]!;
    if (!s) {
      c.cnt[j] = 0;
      continue;
    }
    c.cnt[j] = s.cnt;
    c.sum[j] = s.sum;
    c.min[j] = s.min;
    c.max[j] = s.max;
    c.last[j] = s.last;
    c.lastTs[j] = s.lastTs;
  }
}

/** Copy bucket i of `from` (every field and energy decoded) to position j of `into` (prepared likewise). */
export function copyBucket(from: RowColumns, i: number, into: RowColumns, j: number): void {
  into.start[j] = from.start[i];
  into.n[j] = from.n[i];
  into.energyJ[j] = from.energyJ[i];
  into.energyPairs[j] = from.energyPairs[i];
  for (let f = 0; f < ROLLUP_FIELDS.length; f++) {
    const s = from.fields[f]!;
    const d = into.fields[f]!;
    d.cnt[j] = s.cnt[i];
    if (s.cnt[i] === 0) continue;
    d.sum[j] = s.sum[i];
    d.min[j] = s.min[i];
    d.max[j] = s.max[i];
    d.last[j] = s.last[i];
    d.lastTs[j] = s.lastTs[i];
  }
}

/** The buckets column-wise, in `into` (every field, energy included). */
export function columnsOf(buckets: readonly RollupBucket[], into: RowColumns): RowColumns {
  into.prepare(buckets.length, undefined, true);
  for (let j = 0; j < buckets.length; j++) setBucket(into, j, buckets[j]);
  return into;
}

/**
 * Fold bucket i of `from` into bucket j of `into` (both with every field and energy): counts, sums
 * and energy add, min of mins, max of maxes, `last` from the latest sample (on equal times, `from`
 * wins), as mergeBucket does on objects.
 */
export function mergeBucketInto(from: RowColumns, i: number, into: RowColumns, j: number): void {
  into.n[j] += from.n[i];
  into.energyJ[j] += from.energyJ[i];
  into.energyPairs[j] += from.energyPairs[i];
  for (let f = 0; f < ROLLUP_FIELDS.length; f++) {
    const s = from.fields[f]!;
    if (s.cnt[i] === 0) continue;
    const d = into.fields[f]!;
    if (d.cnt[j] === 0) {
      d.cnt[j] = s.cnt[i];
      d.sum[j] = s.sum[i];
      d.min[j] = s.min[i];
      d.max[j] = s.max[i];
      d.last[j] = s.last[i];
      d.lastTs[j] = s.lastTs[i];
      continue;
    }
    d.cnt[j] += s.cnt[i];
    d.sum[j] += s.sum[i];
    if (s.min[i] < d.min[j]) d.min[j] = s.min[i];
    if (s.max[i] > d.max[j]) d.max[j] = s.max[i];
    if (s.lastTs[i] >= d.lastTs[j]) {
      d.last[j] = s.last[i];
      d.lastTs[j] = s.lastTs[i];
    }
  }
}

/**
 * The buckets of `stored` (null: none) and buckets [from, to) of `delta` merged, ascending by
 * start, in `out` (every field and energy in all three; each ascending with unique starts). With
 * `replace`, a delta bucket takes the place of the stored bucket with its start instead of merging.
 */
export function mergeColumns(stored: RowColumns | null, delta: RowColumns, from: number, to: number, out: RowColumns, replace = false): RowColumns {
  const k0 = stored?.k ?? 0;
  out.prepare(k0 + to - from, undefined, true);
  let i = 0;
  let d = from;
  let j = 0;
  while (i < k0 || d < to) {
    if (d >= to || (i < k0 && stored!.start[i] < delta.start[d])) copyBucket(stored!, i++, out, j++);
    else if (i < k0 && stored!.start[i] === delta.start[d] && !replace) {
      copyBucket(stored!, i++, out, j);
      mergeBucketInto(delta, d++, out, j++);
    } else {
      if (i < k0 && stored!.start[i] === delta.start[d]) i++;
      copyBucket(delta, d++, out, j++);
    }
  }
  out.k = j;
  return out;
}
