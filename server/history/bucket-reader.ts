/**
 * Reads the buckets a history query needs from the store: the raw tier bucketizes samples, the
 * rollup tiers merge stored buckets into the query's step. The only module of server/history that
 * talks to the store.
 */
import type { RollupBucket } from '../rollups/rollup-bucket.ts';
import { bucketize } from '../rollups/bucketize.ts';
import type { EnergyReading } from '../rollups/energy-pairs.ts';
import { bucketStart, MAX_ENERGY_GAP_MS, type RollupField } from '../rollups/rollup-fields.ts';
import type { Store } from '../store/store.ts';
import { coarsen } from './step-buckets.ts';
import { chooseRangeTier, rawSampleEstimate, tierBucketMs, type Tier } from './tier-choice.ts';

/** Most raw samples read per chip (48 h at 10 per second). */
export const RAW_SAMPLE_LIMIT = 2_000_000;
/** The raw tier reports whole-range figures (energy, chip-hours) in buckets of this width. */
export const RAW_RANGE_BUCKET_MS = 60_000;

/**
 * Buckets of `stepMs` per key covering [from, to] (from and to inclusive; bucket starts aligned to
 * multiples of the step). Raw tier: keys are chip ids; the energy reading just before `from`
 * (within MAX_ENERGY_GAP_MS) pairs with the first one in range. Rollup tiers: keys are chip ids
 * or fleet keys, `stepMs` a multiple of the tier's bucket. Keys without data are absent.
 */
export async function readBuckets(store: Store, tier: Tier, keys: readonly string[], stepMs: number, from: number, to: number, fields?: readonly (RollupField | 'energyJ')[]): Promise<Map<string, RollupBucket[]>> {
  const out = new Map<string, RollupBucket[]>();
  if (keys.length === 0) return out;
  if (tier !== 'raw') {
    const stored = await store.rollups(tier, keys, bucketStart(from, tierBucketMs(tier)), to, fields);
    for (const [key, buckets] of stored) out.set(key, stepMs === tierBucketMs(tier) ? buckets : coarsen(buckets, stepMs));
    return out;
  }
  for (const chipId of keys) {
    const samples = await store.chipSamples(chipId, from - MAX_ENERGY_GAP_MS, to, RAW_SAMPLE_LIMIT);
    let first = 0;
    let before: EnergyReading | undefined;
    for (; first < samples.length && samples[first].ts < from; first++) {
      const e = samples[first].energyJ;
      if (e !== null && e !== undefined) before = { ts: samples[first].ts, e };
    }
    const buckets = bucketize(samples.slice(first), stepMs, before);
    if (buckets.length > 0) out.set(chipId, buckets);
  }
  return out;
}

/** Buckets per chip for one figure over [from, to): the tier chosen for the range and what it covers. */
export interface RangeBuckets {
  tier: Tier;
  bucketMs: number;
  /** The range the buckets cover, [coveredFrom, coveredTo): [from, to) widened to whole buckets (raw: exact). */
  coveredFrom: number;
  coveredTo: number;
  buckets: Map<string, RollupBucket[]>;
}

export async function readRangeBuckets(store: Store, chips: readonly { chipId: string; intervalMs: number }[], from: number, to: number, now: number): Promise<RangeBuckets> {
  const chipIds = chips.map((c) => c.chipId);
  const tier = chooseRangeTier(from, to, now, store.retention, rawSampleEstimate(chips.map((c) => c.intervalMs), from, to));
  if (tier === 'raw') {
    const buckets = await readBuckets(store, 'raw', chipIds, RAW_RANGE_BUCKET_MS, from, to - 1);
    return { tier, bucketMs: RAW_RANGE_BUCKET_MS, coveredFrom: from, coveredTo: to, buckets };
  }
  const bucketMs = tierBucketMs(tier);
  const coveredFrom = bucketStart(from, bucketMs);
  const coveredTo = bucketStart(to - 1, bucketMs) + bucketMs;
  const buckets = await readBuckets(store, tier, chipIds, bucketMs, coveredFrom, coveredTo - 1);
  return { tier, bucketMs, coveredFrom, coveredTo, buckets };
}
