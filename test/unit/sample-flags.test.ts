/**
 * The one flag bitmask (schema/sample-flags.ts): written into stored records and chunks and carried
 * by the live `fleet-update` frame, so the bits are pinned here and both conversions are checked
 * on every combination.
 */
import { describe, expect, it } from 'vitest';
import type { SampleFlags } from '../../schema/sample.ts';
import { SAMPLE_FLAG_BITS, bitsToFlags, flagsToBits } from '../../schema/sample-flags.ts';

describe('sample flag bits', () => {
  it('are pinned (they are stored on disk)', () => {
    expect(SAMPLE_FLAG_BITS).toEqual({ powerEstimated: 1, energyDerived: 2, backfill: 4 });
  });

  // Every combination of the three flags: the flags object (only the set ones, in declaration order) and its bits.
  const combos: [number, SampleFlags | undefined][] = [
    [0, undefined],
    [1, { powerEstimated: true }],
    [2, { energyDerived: true }],
    [3, { powerEstimated: true, energyDerived: true }],
    [4, { backfill: true }],
    [5, { powerEstimated: true, backfill: true }],
    [6, { energyDerived: true, backfill: true }],
    [7, { powerEstimated: true, energyDerived: true, backfill: true }],
  ];

  it.each(combos)('bits %i <-> %j', (bits, flags) => {
    expect(flagsToBits(flags)).toBe(bits);
    expect(bitsToFlags(bits)).toEqual(flags);
    // keys come out in declaration order (what the JSON of a decoded sample shows)
    expect(JSON.stringify(bitsToFlags(bits))).toBe(JSON.stringify(flags));
    // round trips, both directions
    expect(flagsToBits(bitsToFlags(bits))).toBe(bits);
    expect(bitsToFlags(flagsToBits(flags))).toEqual(flags);
  });

  const toBits: [string, SampleFlags | undefined, number][] = [
    ['undefined', undefined, 0],
    ['empty', {}, 0],
    ['all false', { powerEstimated: false, energyDerived: false, backfill: false }, 0],
    ['explicit false', { powerEstimated: false, energyDerived: true }, 2],
    ['undefined values', { powerEstimated: undefined, backfill: true }, 4],
  ];
  it.each(toBits)('flagsToBits: %s', (_name, flags, bits) => {
    expect(flagsToBits(flags)).toBe(bits);
  });

  const toFlags: [string, number, SampleFlags | undefined][] = [
    ['zero', 0, undefined],
    ['NaN', NaN, undefined],
    ['a bit that names no flag', 8, {}],
    ['unknown bits are ignored', 8 | 16 | 2, { energyDerived: true }],
    ['a whole byte', 0xff, { powerEstimated: true, energyDerived: true, backfill: true }],
  ];
  it.each(toFlags)('bitsToFlags: %s', (_name, bits, flags) => {
    expect(bitsToFlags(bits)).toEqual(flags);
  });

  it('gives a fresh object each call', () => {
    const a = bitsToFlags(1)!;
    a.backfill = true;
    expect(bitsToFlags(1)).toEqual({ powerEstimated: true });
  });
});
