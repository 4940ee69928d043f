/**
 * Reads what the history queries need from the store besides /series' rollup rows: raw samples
 * bucketized, and each chip's figures over a range (/energy, /top) from whichever tier answers it.
 */
import type { RollupBucket } from '../rollups/rollup-bucket.ts';
import { bucketize } from '../rollups/bucketize.ts';
import type { EnergyReading } from '../rollups/energy-pairs.ts';
import { bucketStart, MAX_ENERGY_GAP_MS, ROLLUP_FIELDS, type RollupField } from '../rollups/rollup-fields.ts';
import type { Store } from '../store/store.ts';
import { bucketizeInto } from '../rollups/bucketize-columns.ts';
import { RowColumns } from '../rollups/rollup-columns.ts';
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

/** Raw samples aimed at per read of one chip: about 10-20 ms of decoding and bucketing. */
export const RAW_READ_SLICE_SAMPLES = 4_096;
/** The first read of a chip assumes at most one sample a second (later reads adapt to what came). */
const FIRST_SLICE_MAX_INTERVAL_MS = 1_000;

/**
 * The raw tier's buckets for /series, handed to `sink` column-wise (rollupsInto's contract: a
 * bucket start may come again, the sink merges) a slice of the range at a time: about
 * RAW_READ_SLICE_SAMPLES samples of one chip per read, the slice width adapting to how dense the
 * chip's samples are, with turns of the event loop in between as pacing wants. Neither a chip's
 * whole range of samples nor anyone's bucket objects are held. Only `fields` (and energy when
 * `energyJ` is among them) are filled in. The energy reading just before `from` (within
 * MAX_ENERGY_GAP_MS) pairs with the first one in range, and pairing carries across slices.
 */
export async function readRawInto(
  store: Store,
  chips: readonly { chipId: string; intervalMs: number }[],
  stepMs: number,
  from: number,
  to: number,
  fields: readonly (RollupField | 'energyJ')[],
  sink: (chipId: string, cols: RowColumns) => void,
): Promise<void> {
  const pace = pacer();
  const cols = new RowColumns();
  const only = new Set(fields.filter((f): f is RollupField => f !== 'energyJ').map((f) => ROLLUP_FIELDS.indexOf(f)));
  const energy = fields.includes('energyJ');
  const alignUp = (ms: number) => Math.max(stepMs, Math.ceil(ms / stepMs) * stepMs);
  for (const { chipId, intervalMs } of chips) {
    let width = alignUp(RAW_READ_SLICE_SAMPLES * Math.min(FIRST_SLICE_MAX_INTERVAL_MS, Math.max(1, intervalMs)));
    let before: EnergyReading | undefined;
    let a = from;
    let lead = true;
    while (a <= to) {
      const b = Math.min(to, bucketStart(a, stepMs) + width - 1);
      await pace.maybePause();
      const samples = await store.chipSamples(chipId, lead ? a - MAX_ENERGY_GAP_MS : a, b, RAW_SAMPLE_LIMIT);
      let first = 0;
      if (lead) {
        for (; first < samples.length && samples[first].ts < from; first++) {
          const e = samples[first].energyJ;
          if (e !== null && e !== undefined) before = { ts: samples[first].ts, e };
        }
        lead = false;
      }
      const n = samples.length - first;
      if (n > 0) {
        await pace.maybePause();
        before = bucketizeInto(first === 0 ? samples : samples.slice(first), stepMs, before, cols, only, energy);
        if (cols.k > 0) sink(chipId, cols);
      }
      // Denser (or sparser) than assumed: narrow (widen) the next slices.
      if (n > 2 * RAW_READ_SLICE_SAMPLES) width = alignUp(Math.floor((width * RAW_READ_SLICE_SAMPLES) / n));
      else if (n < RAW_READ_SLICE_SAMPLES / 4 && width < to - from) width = alignUp(width * 2);
      a = b + 1;
    }
  }
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
  const intervals = new Map(chips.map((c) => [c.chipId, c.intervalMs]));
  const intervalOf = (chipId: string) => intervals.get(chipId) ?? 1000;
  const tier = chooseRangeTier(from, to, now, store.retention, { chips: chips.length, rawSamples: rawSampleEstimate(chips.map((c) => c.intervalMs), from, to) });
  if (tier === 'raw') {
    const summaries = summarize(await readRawBuckets(store, chipIds, RAW_RANGE_BUCKET_MS, from, to - 1), RAW_RANGE_BUCKET_MS, from, to, intervalOf);
    return { tier, bucketMs: RAW_RANGE_BUCKET_MS, coveredFrom: from, coveredTo: to, summaries };
  }
  const bucketMs = tierBucketMs(tier);
  const coveredFrom = bucketStart(from, bucketMs);
  const coveredTo = bucketStart(to - 1, bucketMs) + bucketMs;
  const s = new RangeSummaries(bucketMs, coveredFrom, coveredTo, intervalOf);
  if (chipIds.length) await store.rollupsInto(tier, chipIds, coveredFrom, coveredTo - 1, fields, (chipId, cols) => s.add(chipId, cols));
  return { tier, bucketMs, coveredFrom, coveredTo, summaries: s.byChip };
}
