/**
 * Limits and field names of the canonical sample that zod-free code needs too (the agent: its work
 * checks and binary batch frames). schema/sample.ts re-exports them.
 */

/** Earliest timestamp accepted anywhere (2000-01-01). */
export const MIN_TS = 946_684_800_000;

/** Most `extras` keys one sample may carry, and the longest key (characters). */
export const MAX_EXTRAS_KEYS = 64;
export const MAX_EXTRA_KEY_LENGTH = 64;

/** Numeric sample fields, in storage order. */
export const SAMPLE_FIELDS = [
  'utilPct',
  'memUtilPct',
  'memUsedBytes',
  'memTotalBytes',
  'powerW',
  'powerLimitW',
  'tempC',
  'energyJ',
  'smClockMhz',
  'eccCorrected',
  'eccUncorrected',
] as const;
export type SampleField = (typeof SAMPLE_FIELDS)[number];

/**
 * The fields a sample may leave out (absent is kept apart from null), in the order the stored and
 * wire formats give them their bits: never reordered.
 */
export const OPTIONAL_SAMPLE_FIELDS = ['smClockMhz', 'eccCorrected', 'eccUncorrected'] as const;
