/**
 * How far V8 lets a heap grow past what its last full collection kept before collecting again.
 * Left to itself, V8 picks a factor of up to 4 when collections are fast, and at full ingest the
 * hub's heaps (event loop, writer, compactor) grew to two or three times what they held: the main
 * heap kept ~100 MB at 10,000 chips and took ~310 MB. The factor is one setting for the whole
 * process (every thread's heap). At 10,000 chips and 4 Hz, a factor of 2 took the hub's peak RSS
 * from ~700 MB to ~540 MB for 1–7 % more CPU; 1.5 to ~510 MB for 11–15 % more
 * (docs/benchmarks.md, "Heap growth").
 */
import { setFlagsFromString } from 'node:v8';

/** A heap grows to this many percent more than it held after a full collection. */
export const HEAP_GROWING_PERCENT = 100;

/** Set the process's heap growth (before its threads start; it applies to every heap). */
export function limitHeapGrowth(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
