/**
 * Changes to the rollup tiers gathered while folding samples, grouped by stored row: delta
 * buckets that merge into the stored ones (counts and sums add, min/max/last combine, energy
 * changes add, negative ones included). Pure: the writer reads, merges and writes the rows.
 */
import type { Sample } from '../../schema/sample.ts';
import { addEnergy, addSample, emptyBucket, mergeBucket, type RollupBucket } from './rollup-bucket.ts';
import { bucketStart, ROLLUP_TIERS, TIERS, type RollupTier } from './rollup-fields.ts';

export interface RollupRowDelta {
  tier: RollupTier;
  key: string;
  rowStart: number;
  /** Delta buckets by bucket start. */
  buckets: Map<number, RollupBucket>;
}

export class RollupBatch {
  private readonly rows = new Map<string, RollupRowDelta>();

  private bucket(tier: RollupTier, key: string, ts: number): RollupBucket {
    const { bucketMs, rowSpanMs } = TIERS[tier];
    const rowStart = bucketStart(ts, rowSpanMs);
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

  /** A new sample of `keys` (the chip and its fleet group). */
  addSample(keys: readonly string[], s: Sample): void {
    for (const tier of ROLLUP_TIERS) for (const key of keys) addSample(this.bucket(tier, key, s.ts), s);
  }

  addEnergy(keys: readonly string[], ts: number, joules: number, pairs: number): void {
    for (const tier of ROLLUP_TIERS) for (const key of keys) addEnergy(this.bucket(tier, key, ts), joules, pairs);
  }

  get size(): number {
    return this.rows.size;
  }

  deltas(): IterableIterator<RollupRowDelta> {
    return this.rows.values();
  }
}

/** Merge delta buckets into a stored row's buckets; result ascending by start. */
export function applyDelta(stored: readonly RollupBucket[], delta: Map<number, RollupBucket>): RollupBucket[] {
  const byStart = new Map<number, RollupBucket>();
  for (const b of stored) byStart.set(b.start, b);
  for (const [start, d] of delta) {
    const b = byStart.get(start);
    if (b) mergeBucket(b, d);
    else byStart.set(start, d);
  }
  return [...byStart.values()].sort((a, b) => a.start - b.start);
}
