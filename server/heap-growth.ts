/**
 * How far V8 lets a heap grow past what its last full collection kept before collecting again.
 * Left to itself, V8 picks a factor of up to 4 when collections are fast, and at full ingest the
 * hub's three heaps (event loop, writer, compactor) each grew to two or three times what they
 * held: the main heap kept ~100 MB at 10,000 chips and took ~310 MB. The factor is one setting
 * for the whole process (every thread's heap); 1.5 took the hub's peak RSS at 10,000 chips from
 * ~830–870 MB to ~620–680 MB with the main thread's share of time in the collector unchanged
 * (11–12 %; docs/benchmarks.md).
 */
import { setFlagsFromString } from 'node:v8';

/** The heap grows to this many percent more than it held after a full collection. */
export const HEAP_GROWING_PERCENT = 50;

/** Set the process's heap growth (before its threads start; it applies to every heap). */
export function limitHeapGrowth(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
