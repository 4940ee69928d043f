/**
 * Reads what the history queries need from the store besides /series' rollup rows: raw samples
 * bucketized, and each chip's figures over a range (/energy, /top) from whichever tier answers it.
 */
import type { RollupBucket } from '../rollups/rollup-bucket.ts';
import { bucketize } from '../rollups/bucketize.ts';
import type { EnergyReading } from '../rollups/energy-pairs.ts';
import { bucketStart, MAX_ENERGY_GAP_MS, type RollupField } from '../rollups/rollup-fields.ts';
import type { Store } from '../store/store.ts';
import { pacer } from '../event-loop-pacing.ts';
import { chooseRangeTier, rawSampleEstimate, tierBucketMs, type Tier } from './tier-choice.ts';
import { RangeSummaries, summarize, type RangeSummary } from './range-summary.ts';

/** Most raw samples read per chip (48 h at 10 per second). */
export const RAW_SAMPLE_LIMIT = 2_000_000;
/** The raw tier reports whole-range figures (energy, chip-hours) in buckets of this width. */
export const RAW_RANGE_BUCKET_MS = 60_000;

/**
 * Raw samples of each chip bucketized into buckets of `stepMs` covering [from, to] (inclusive;
 * starts aligned to multiples of the step); the energy reading just before `from` (within
 * MAX_ENERGY_GAP_MS) pairs with the first one in range. Chips without data are absent.
 */
export async function readRawBuckets(store: Store, chipIds: readonly string[], stepMs: number, from: number, to: number): Promise<Map<string, RollupBucket[]>> {
  const out = new Map<string, RollupBucket[]>();
  // Each chip's read is whole (its chunks and unfolded samples together); between chips the
  // event loop gets its turns.
  const pace = pacer();
  for (const chipId of chipIds) {
    await pace.maybePause();
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

/** Each chip's figures over [from, to) (/energy, /top): the tier chosen for the range and what it covers. */
export interface RangeRead {
  tier: Tier;
  bucketMs: number;
  /** The range the buckets cover, [coveredFrom, coveredTo): [from, to) widened to whole buckets (raw: exact). */
  coveredFrom: number;
  coveredTo: number;
  summaries: ReadonlyMap<string, RangeSummary>;
}

/**
 * The chips' summaries over [from, to), reading only `fields` (and energy when `energyJ` is
 * among them). Rollup tiers go from stored rows straight into the summaries.
 */
export async function readRangeSummaries(
  store: Store,
  chips: readonly { chipId: string; intervalMs: number }[],
  from: number,
  to: number,
  now: number,
  fields: readonly (RollupField | 'energyJ')[],
): Promise<RangeRead> {
  const chipIds = chips.map((c) => c.chipId);
  const tier = chooseRangeTier(from, to, now, store.retention, { chips: chips.length, rawSamples: rawSampleEstimate(chips.map((c) => c.intervalMs), from, to) });
  if (tier === 'raw') {
    const summaries = summarize(await readRawBuckets(store, chipIds, RAW_RANGE_BUCKET_MS, from, to - 1), RAW_RANGE_BUCKET_MS, from, to);
    return { tier, bucketMs: RAW_RANGE_BUCKET_MS, coveredFrom: from, coveredTo: to, summaries };
  }
  const bucketMs = tierBucketMs(tier);
  const coveredFrom = bucketStart(from, bucketMs);
  const coveredTo = bucketStart(to - 1, bucketMs) + bucketMs;
  const s = new RangeSummaries(bucketMs, coveredFrom, coveredTo);
  if (chipIds.length) await store.rollupsInto(tier, chipIds, coveredFrom, coveredTo - 1, fields, (chipId, cols) => s.add(chipId, cols));
  return { tier, bucketMs, coveredFrom, coveredTo, summaries: s.byChip };
}
