/**
 * Sample flags as a bitmask: the one encoding of `SampleFlags` in a number. The store writes it
 * into sample records and chunks (so the bits are on disk and must never change), and the live
 * `fleet-update` frame carries it to the browser. Zod-free: the browser bundle imports it.
 */
import type { SampleFlags } from './sample.ts';

/** The bit of each flag. A flag added to `SampleFlags` must get a new bit here (never reuse one). */
export const SAMPLE_FLAG_BITS = { powerEstimated: 1, energyDerived: 2, backfill: 4 } as const satisfies Record<keyof SampleFlags, number>;

/** (name, bit) pairs in declaration order, computed once (no per-call Object.entries on hot paths). */
const FLAG_ENTRIES = Object.entries(SAMPLE_FLAG_BITS) as [keyof SampleFlags, number][];

/** `s` flagged as delivered late (itself when it already is). */
export function withBackfill<S extends { flags?: SampleFlags }>(s: S): S {
  return s.flags?.backfill ? s : { ...s, flags: { ...s.flags, backfill: true } };
}

/** The bitmask of `flags`: the bits of the flags that are set (truthy); 0 when none is or `flags` is undefined. */
export function flagsToBits(flags: SampleFlags | undefined): number {
  if (!flags) return 0;
  let bits = 0;
  for (const [name, bit] of FLAG_ENTRIES) {
    if (flags[name]) bits |= bit;
  }
  return bits;
}

/**
 * The flags of a bitmask, each set one `true`, in declaration order; undefined for 0. Bits that
 * name no flag are ignored (so such a mask alone gives `{}`).
 */
export function bitsToFlags(bits: number): SampleFlags | undefined {
  if (!bits) return undefined;
  const flags: SampleFlags = {};
  for (const [name, bit] of FLAG_ENTRIES) {
    if (bits & bit) flags[name] = true;
  }
  return flags;
}
