/**
 * Buckets computed straight from raw samples: how the raw tier answers aggregate queries, and the
 * reference the stored rollups must equal. Pure: no I/O.
 */
import type { Sample } from '../../schema/sample.ts';
import { addEnergy, addSample, emptyBucket, type RollupBucket } from './rollup-bucket.ts';
import { energyIncrement, type EnergyReading } from './energy-pairs.ts';
import { bucketStart } from './rollup-fields.ts';

/**
 * Buckets of `stepMs` over one chip's samples (ascending ts, unique). `before` is the chip's
 * energy reading just before the first sample, if known, so the first increment counts too.
 */
export function bucketize(samples: readonly Sample[], stepMs: number, before?: EnergyReading): RollupBucket[] {
  const out: RollupBucket[] = [];
  let cur: RollupBucket | null = null;
  let prev = before ?? null;
  for (const s of samples) {
    const start = bucketStart(s.ts, stepMs);
    if (!cur || cur.start !== start) {
      cur = emptyBucket(start);
      out.push(cur);
    }
    addSample(cur, s);
    if (s.energyJ !== null && s.energyJ !== undefined) {
      const r = { ts: s.ts, e: s.energyJ };
      if (prev) {
        const inc = energyIncrement(prev, r);
        if (inc !== null) addEnergy(cur, inc, 1);
      }
      prev = r;
    }
  }
  return out;
}
