/** Conversion between the canonical Sample and its stored row (flags as a bitmask, extras as JSON). */
import type { Sample, SampleFlags } from '../../schema/sample.ts';
import type { samples } from '../../schema/tables.ts';

export type SampleRow = typeof samples.$inferSelect;

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

export function sampleToRow(s: Sample): SampleRow {
  return {
    chipId: s.chipId,
    ts: s.ts,
    utilPct: s.utilPct,
    memUtilPct: s.memUtilPct,
    memUsedBytes: s.memUsedBytes,
    memTotalBytes: s.memTotalBytes,
    powerW: s.powerW,
    powerLimitW: s.powerLimitW,
    tempC: s.tempC,
    energyJ: s.energyJ,
    smClockMhz: s.smClockMhz ?? null,
    eccCorrected: s.eccCorrected ?? null,
    eccUncorrected: s.eccUncorrected ?? null,
    flags: flagsToBits(s.flags),
    extras: s.extras && Object.keys(s.extras).length ? JSON.stringify(s.extras) : null,
  };
}

export function rowToSample(r: SampleRow): Sample {
  const s: Sample = {
    ts: r.ts,
    chipId: r.chipId,
    utilPct: r.utilPct,
    memUtilPct: r.memUtilPct,
    memUsedBytes: r.memUsedBytes,
    memTotalBytes: r.memTotalBytes,
    powerW: r.powerW,
    powerLimitW: r.powerLimitW,
    tempC: r.tempC,
    energyJ: r.energyJ,
  };
  if (r.smClockMhz !== null) s.smClockMhz = r.smClockMhz;
  if (r.eccCorrected !== null) s.eccCorrected = r.eccCorrected;
  if (r.eccUncorrected !== null) s.eccUncorrected = r.eccUncorrected;
  const flags = bitsToFlags(r.flags);
  if (flags) s.flags = flags;
  if (r.extras) s.extras = JSON.parse(r.extras) as Record<string, number>;
  return s;
}
