/** Limits of the canonical sample that zod-free code needs too (the agent's work checks). */

/** Earliest timestamp accepted anywhere (2000-01-01). */
export const MIN_TS = 946_684_800_000;
