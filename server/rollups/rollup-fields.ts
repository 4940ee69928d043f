/**
 * What the rollup tiers keep: per bucket, for each gauge-like field, count/sum/min/max/last; and
 * energy as the joules used in the bucket (from the monotonic energyJ counter). Pure constants.
 */
import { ROLLUP_FIELDS, type RollupField } from '../../schema/history-fields.ts';

export { ROLLUP_FIELDS, type RollupField };

/** Rollup tiers: bucket width and how many buckets one stored row holds. */
export const TIERS = {
  '1m': { bucketMs: 60_000, rowSpanMs: 3_600_000 },
  '1h': { bucketMs: 3_600_000, rowSpanMs: 86_400_000 },
} as const;
export type RollupTier = keyof typeof TIERS;

/**
 * Two consecutive energy readings further apart than this are not paired: the energy used in
 * between (agent down, chip gone) is unknown, and is not attributed to the next bucket.
 */
export const MAX_ENERGY_GAP_MS = 5 * 60_000;

/** Rollup key of the fleet-level rollup of one vendor and model (chip ids cannot contain '@' or '/'). */
export function fleetKey(vendor: string, model: string): string {
  return `@${vendor}/${model}`;
}

export function parseFleetKey(key: string): { vendor: string; model: string } | null {
  if (!key.startsWith('@')) return null;
  const slash = key.indexOf('/');
  return slash < 0 ? null : { vendor: key.slice(1, slash), model: key.slice(slash + 1) };
}

export function bucketStart(ts: number, bucketMs: number): number {
  return ts - (((ts % bucketMs) + bucketMs) % bucketMs);
}
