/**
 * One rollup bucket and the arithmetic on it: adding a sample, adding energy, merging buckets
 * (for coarser steps, groups and fleet rollups) and reading an aggregate out. Pure: no I/O.
 */
import type { Sample } from '../../schema/sample.ts';
import { ROLLUP_FIELDS, type RollupField } from './rollup-fields.ts';

export interface FieldStats {
  cnt: number;
  sum: number;
  min: number;
  max: number;
  /** Value of the latest sample in the bucket that had this field, and that sample's ts. */
  last: number;
  lastTs: number;
}

export interface RollupBucket {
  /** Bucket start, ms since epoch. */
  start: number;
  /** Samples in the bucket. */
  n: number;
  /** Stats per ROLLUP_FIELDS entry; null when no sample had the field. */
  f: (FieldStats | null)[];
  /** Joules used in the bucket: increments of consecutive energy readings ending in it. */
  energyJ: number;
  /** Number of such increments (0: no energy data for the bucket). */
  energyPairs: number;
}

export type Agg = 'avg' | 'min' | 'max' | 'last';

export function emptyBucket(start: number): RollupBucket {
  return { start, n: 0, f: ROLLUP_FIELDS.map(() => null), energyJ: 0, energyPairs: 0 };
}

export function addSample(b: RollupBucket, s: Sample): void {
  b.n++;
  for (let i = 0; i < ROLLUP_FIELDS.length; i++) {
    const v = s[ROLLUP_FIELDS[i]];
    if (v === null || v === undefined) continue;
    const st = b.f[i];
    if (!st) b.f[i] = { cnt: 1, sum: v, min: v, max: v, last: v, lastTs: s.ts };
    else {
      st.cnt++;
      st.sum += v;
      if (v < st.min) st.min = v;
      if (v > st.max) st.max = v;
      if (s.ts >= st.lastTs) {
        st.last = v;
        st.lastTs = s.ts;
      }
    }
  }
}

export function addEnergy(b: RollupBucket, joules: number, pairs: number): void {
  b.energyJ += joules;
  b.energyPairs += pairs;
}

/** Fold `src` into `dst` (same or coarser bucket). */
export function mergeBucket(dst: RollupBucket, src: RollupBucket): void {
  dst.n += src.n;
  for (let i = 0; i < src.f.length; i++) {
    const s = src.f[i];
    if (s) mergeFieldStats(dst, i, s.cnt, s.sum, s.min, s.max, s.last, s.lastTs);
  }
  dst.energyJ += src.energyJ;
  dst.energyPairs += src.energyPairs;
}

/**
 * Fold one field's stats (ROLLUP_FIELDS index `i`) into `dst`: counts and sums add, min of mins,
 * max of maxes, `last` from the latest sample (on equal times, the stats folded in later win).
 */
export function mergeFieldStats(dst: RollupBucket, i: number, cnt: number, sum: number, min: number, max: number, last: number, lastTs: number): void {
  const d = dst.f[i];
  if (!d) {
    dst.f[i] = { cnt, sum, min, max, last, lastTs };
    return;
  }
  d.cnt += cnt;
  d.sum += sum;
  if (min < d.min) d.min = min;
  if (max > d.max) d.max = max;
  if (lastTs >= d.lastTs) {
    d.last = last;
    d.lastTs = lastTs;
  }
}

export function cloneBucket(b: RollupBucket): RollupBucket {
  return { start: b.start, n: b.n, f: b.f.map((s) => (s ? { ...s } : null)), energyJ: b.energyJ, energyPairs: b.energyPairs };
}

const FIELD_INDEX = new Map<string, number>(ROLLUP_FIELDS.map((f, i) => [f, i]));

export function fieldIndex(field: RollupField): number {
  return FIELD_INDEX.get(field)!;
}

/** The aggregate of one field in a bucket, or null when the bucket has no value for it. */
export function aggregate(b: RollupBucket, field: RollupField, agg: Agg): number | null {
  const st = b.f[FIELD_INDEX.get(field)!];
  if (!st) return null;
  switch (agg) {
    case 'avg':
      return st.sum / st.cnt;
    case 'min':
      return st.min;
    case 'max':
      return st.max;
    case 'last':
      return st.last;
  }
}
