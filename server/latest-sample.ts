/**
 * A chip's latest sample, kept as a copy the fleet state owns and overwrites in place.
 *
 * Keeping the committed sample object itself held it for a whole interval: at 1 Hz every decoded
 * sample outlived the main heap's young generation, and V8 began to allocate the decoder's
 * samples in the old generation, where only full collections free them. A copy updated field by
 * field lets the decoded objects die young; only the copy (one per chip) lives long.
 *
 * The copy has the sample's own fields, flags and extras, with no field the sample lacks (a
 * field missing from the new sample makes a fresh copy, as does a change of its flags' or
 * extras' keys), so it serializes and compares as the sample does.
 */
import type { Sample } from '../schema/sample.ts';
import { OPTIONAL_SAMPLE_FIELDS } from '../schema/sample-limits.ts';

type Numbers = Record<string, number>;
type Flags = NonNullable<Sample['flags']>;

/** A copy of `s` (its flags and extras copied too). */
function copySample(s: Sample): Sample {
  const c: Sample = { ...s };
  if (s.flags !== undefined) c.flags = { ...s.flags };
  if (s.extras !== undefined) c.extras = { ...s.extras };
  return c;
}

/** Whether `a` and `b` have the same own keys (values aside). */
function sameKeys(a: object, b: object): boolean {
  let n = 0;
  for (const k in b) {
    if (!Object.prototype.hasOwnProperty.call(a, k)) return false;
    n++;
  }
  for (const k in a) if (Object.prototype.hasOwnProperty.call(a, k)) n--;
  return n === 0;
}

/** Whether `s` has exactly the optional fields, flags keys and extras keys `into` has. */
function sameShape(into: Sample, s: Sample): boolean {
  for (const f of OPTIONAL_SAMPLE_FIELDS) if ((into[f] === undefined) !== (s[f] === undefined)) return false;
  if ((into.flags === undefined) !== (s.flags === undefined) || (into.extras === undefined) !== (s.extras === undefined)) return false;
  if (s.flags !== undefined && !sameKeys(into.flags!, s.flags)) return false;
  return s.extras === undefined || sameKeys(into.extras!, s.extras);
}

/**
 * `s` kept as a chip's latest: written into `owned` (a copy this function returned before for
 * the same chip, which no one else writes) when it has the same shape, else a fresh copy.
 * Returns the copy that now holds `s`; `s` itself is never kept.
 */
export function keepLatest(owned: Sample | null, s: Sample): Sample {
  if (owned === null || !sameShape(owned, s)) return copySample(s);
  // A value stored where null may also be is a new heap number (one that outlives the young
  // generation here): a value that did not change is left as it is.
  owned.ts = s.ts;
  owned.chipId = s.chipId;
  if (owned.utilPct !== s.utilPct) owned.utilPct = s.utilPct;
  if (owned.memUtilPct !== s.memUtilPct) owned.memUtilPct = s.memUtilPct;
  if (owned.memUsedBytes !== s.memUsedBytes) owned.memUsedBytes = s.memUsedBytes;
  if (owned.memTotalBytes !== s.memTotalBytes) owned.memTotalBytes = s.memTotalBytes;
  if (owned.powerW !== s.powerW) owned.powerW = s.powerW;
  if (owned.powerLimitW !== s.powerLimitW) owned.powerLimitW = s.powerLimitW;
  if (owned.tempC !== s.tempC) owned.tempC = s.tempC;
  if (owned.energyJ !== s.energyJ) owned.energyJ = s.energyJ;
  for (const f of OPTIONAL_SAMPLE_FIELDS) if (s[f] !== undefined && owned[f] !== s[f]) owned[f] = s[f];
  if (s.flags !== undefined) {
    const flags = owned.flags as Record<string, boolean | undefined>;
    for (const k in s.flags) flags[k] = s.flags[k as keyof Flags];
  }
  if (s.extras !== undefined) {
    const extras = owned.extras as Numbers;
    for (const k in s.extras) {
      // An extras key may be `__proto__`: kept as a plain property, as the decoders keep it.
      if (k === '__proto__') Object.defineProperty(extras, k, { value: s.extras[k], enumerable: true, writable: true, configurable: true });
      else if (extras[k] !== s.extras[k]) extras[k] = s.extras[k]!;
    }
  }
  return owned;
}
