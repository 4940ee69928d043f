/**
 * Limits of work reports (schema/work.ts), in a module of their own without zod: the agent's
 * sources import them, and the agent loads zod only when its work endpoint or job labels are on.
 */

/** Most reports one batch carries; most chips, counters and labels one report names. */
export const MAX_WORK_PER_BATCH = 1000;
export const MAX_WORK_CHIPS = 1024;
export const MAX_WORK_COUNTERS = 16;
export const MAX_WORK_LABELS = 32;
