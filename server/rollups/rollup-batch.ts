/**
 * Changes to the rollup tiers gathered while folding samples, grouped by stored row: delta
 * buckets that merge into the stored ones (counts and sums add, min/max/last combine, energy
 * changes add, negative ones included). Pure: the fold reads, merges (rollup-row-merge.ts) and writes the rows.
 */
import type { Sample } from '../../schema/sample.ts';
import { addEnergy, addSample, cloneBucket, emptyBucket, mergeBucket, mergeFieldStats, type RollupBucket } from './rollup-bucket.ts';
import type { RowColumns } from './rollup-columns.ts';
import type { EnergyChange } from './energy-pairs.ts';
import { bucketStart, TIERS, type RollupTier } from './rollup-fields.ts';

export interface RollupRowDelta {
  tier: RollupTier;
  key: string;
  rowStart: number;
  /** Delta buckets by bucket start. */
  buckets: Map<number, RollupBucket>;
}

/** Where a batch's buckets go: which stored row, and which 1-hour buckets are kept at all. */
export interface RollupLayout {
  /** The start of the stored row that `key`'s bucket of `tier` at `ts` goes into. */
  rowStart(tier: RollupTier, key: string, ts: number): number;
  /** `key`'s 1-hour buckets are kept for hours before this; later ones are made when their hour is sealed. */
  hoursBefore(key: string): number;
}

/** One row per row span of the tier (TIERS), every 1-hour bucket kept. */
export const SPAN_LAYOUT: RollupLayout = {
  rowStart: (tier, _key, ts) => bucketStart(ts, TIERS[tier].rowSpanMs),
  hoursBefore: () => Number.POSITIVE_INFINITY,
};

export class RollupBatch {
  private readonly rows = new Map<string, RollupRowDelta>();

  /** `layout`: the SQLite fold keeps open hours apart (server/store/writer/hour-seal.ts). */
  constructor(private readonly layout: RollupLayout = SPAN_LAYOUT) {}

  /**
   * One chip's new samples (ascending ts) and energy changes, counted towards every key (the chip
   * and its fleet group). Buckets are built once per chip, then merged per key and tier (1-hour
   * buckets as the layout keeps them).
   */
  addChip(keys: readonly string[], samples: readonly Sample[], energy: readonly EnergyChange[]): void {
    const minute = TIERS['1m'].bucketMs;
    const m1 = new Map<number, RollupBucket>();
    const at = (ts: number) => {
      const start = bucketStart(ts, minute);
      let b = m1.get(start);
      if (!b) m1.set(start, (b = emptyBucket(start)));
      return b;
    };
    let cur: RollupBucket | null = null;
    for (const s of samples) {
      if (!cur || s.ts < cur.start || s.ts >= cur.start + minute) cur = at(s.ts);
      addSample(cur, s);
    }
    for (const c of energy) addEnergy(at(c.ts), c.joules, c.pairs);
    const h1 = new Map<number, RollupBucket>();
    for (const b of m1.values()) {
      const start = bucketStart(b.start, TIERS['1h'].bucketMs);
      const hb = h1.get(start);
      if (hb) mergeBucket(hb, b);
      else h1.set(start, cloneBucket({ ...b, start }));
    }
    for (const key of keys) {
      for (const b of m1.values()) this.mergeInto('1m', key, b);
      const before = this.layout.hoursBefore(key);
      for (const b of h1.values()) if (b.start < before) this.mergeInto('1h', key, b);
    }
  }

  /**
   * One chip's 1-minute buckets held column-wise (every field and energy), counted towards every
   * key as addChip counts its samples; 1-hour buckets as the layout keeps them.
   */
  addMinuteColumns(keys: readonly string[], c: RowColumns): void {
    const hour = TIERS['1h'].bucketMs;
    for (const key of keys) {
      const before = this.layout.hoursBefore(key);
      for (let j = 0; j < c.k; j++) {
        mergeColumnBucket(this.bucket('1m', key, c.start[j]), c, j);
        if (bucketStart(c.start[j], hour) < before) mergeColumnBucket(this.bucket('1h', key, c.start[j]), c, j);
      }
    }
  }

  private mergeInto(tier: RollupTier, key: string, b: RollupBucket): void {
    const dst = this.bucket(tier, key, b.start);
    mergeBucket(dst, b);
  }

  private bucket(tier: RollupTier, key: string, ts: number): RollupBucket {
    const { bucketMs } = TIERS[tier];
    const rowStart = this.layout.rowStart(tier, key, ts);
    const id = `${tier}\u0000${key}\u0000${rowStart}`;
    let row = this.rows.get(id);
    if (!row) {
      row = { tier, key, rowStart, buckets: new Map() };
      this.rows.set(id, row);
    }
    const start = bucketStart(ts, bucketMs);
    let b = row.buckets.get(start);
    if (!b) {
      b = emptyBucket(start);
      row.buckets.set(start, b);
    }
    return b;
  }

  deltas(): IterableIterator<RollupRowDelta> {
    return this.rows.values();
  }
}

/** Fold bucket j of `c` (every field and energy) into `dst`, as mergeBucket folds an object. */
function mergeColumnBucket(dst: RollupBucket, c: RowColumns, j: number): void {
  dst.n += c.n[j];
  for (let i = 0; i < dst.f.length; i++) {
    const s = c.fields[i]!;
    if (s.cnt[j] > 0) mergeFieldStats(dst, i, s.cnt[j], s.sum[j], s.min[j], s.max[j], s.last[j], s.lastTs[j]);
  }
  dst.energyJ += c.energyJ[j];
  dst.energyPairs += c.energyPairs[j];
}
