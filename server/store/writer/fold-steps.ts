/**
 * How much of the sample log one fold step takes. A step rewrites the newest chunk and rollup
 * rows of every chip it touches, a cost per chip and step, so steps grow with the chip count
 * until each brings about PER_CHIP samples per chip (within MIN_STEP..MAX_STEP). A step holds
 * its log rows' bytes (~60 B per simulated sample in sample records version 2, ~150 B in
 * version 1) while it runs, which bounds MAX_STEP.
 */
export const MIN_STEP = 50_000;
export const MAX_STEP = 2_400_000;
export const PER_CHIP = 100;

/** The step size for a fold that last touched `chips` chips. */
export function stepFor(chips: number): number {
  return Math.min(MAX_STEP, Math.max(MIN_STEP, PER_CHIP * chips));
}

/**
 * Samples that may wait in the log for folding before ingest is slowed: a whole step waiting
 * while the step before it is folded. Reads of recent data read the unfolded log rows they need.
 */
export const UNFOLDED_ALLOWANCE = 2 * MAX_STEP;
