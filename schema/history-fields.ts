/**
 * The fields history keeps and answers: the rollup tiers' gauges (their order is the rollup rows'
 * storage format) and, for queries, energy used (`energyJ`).
 */
import type { SampleField } from './sample.ts';

/**
 * Fields rolled up as count/sum/min/max/last. Written out rather than derived from SAMPLE_FIELDS:
 * this order is the rollup rows' storage format and must not move when the sample schema does.
 */
export const ROLLUP_FIELDS = [
  'utilPct',
  'memUtilPct',
  'memUsedBytes',
  'memTotalBytes',
  'powerW',
  'powerLimitW',
  'tempC',
  'smClockMhz',
  'eccCorrected',
  'eccUncorrected',
] as const satisfies readonly SampleField[];
export type RollupField = (typeof ROLLUP_FIELDS)[number];

/** Fields a history query can ask for: the rolled-up gauges, and energy used (`energyJ`). */
export const HISTORY_FIELDS = [...ROLLUP_FIELDS, 'energyJ'] as const;
