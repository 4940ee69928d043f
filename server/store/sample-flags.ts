/** Sample flags as a bitmask (1 powerEstimated, 2 energyDerived, 4 backfill), as stored in chunks. */
import type { SampleFlags } from '../../schema/sample.ts';

const FLAG_BITS = { powerEstimated: 1, energyDerived: 2, backfill: 4 } as const;

export function flagsToBits(flags: SampleFlags | undefined): number {
  if (!flags) return 0;
  let bits = 0;
  for (const [name, bit] of Object.entries(FLAG_BITS)) {
    if (flags[name as keyof SampleFlags]) bits |= bit;
  }
  return bits;
}

export function bitsToFlags(bits: number): SampleFlags | undefined {
  if (!bits) return undefined;
  const flags: SampleFlags = {};
  for (const [name, bit] of Object.entries(FLAG_BITS)) {
    if (bits & bit) flags[name as keyof SampleFlags] = true;
  }
  return flags;
}
