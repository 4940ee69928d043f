/**
 * What a line-protocol line may carry: the canonical fields (snake_case on the wire, camelCase in
 * the Sample) with their bounds, read from `sampleSchema` itself so the fast per-field check is
 * exactly the schema's check; plus the number and id syntax checks the parser uses.
 */
import { z } from 'zod';
import { SAMPLE_FIELDS, sampleSchema, type SampleField } from '../../schema/sample.ts';

/** A canonical field: where it goes in the Sample and its inclusive bounds. */
export interface FieldSpec {
  prop: SampleField;
  min: number;
  max: number;
}

/** Wire name -> Sample property, in the order of SAMPLE_FIELDS. */
const WIRE_NAMES: Record<string, SampleField> = {
  util_pct: 'utilPct',
  mem_util_pct: 'memUtilPct',
  mem_used_bytes: 'memUsedBytes',
  mem_total_bytes: 'memTotalBytes',
  power_w: 'powerW',
  power_limit_w: 'powerLimitW',
  temp_c: 'tempC',
  energy_j: 'energyJ',
  sm_clock_mhz: 'smClockMhz',
  ecc_corrected: 'eccCorrected',
  ecc_uncorrected: 'eccUncorrected',
};

// Slots (and seen-bits) follow SAMPLE_FIELDS; the parser builds samples by slot.
Object.values(WIRE_NAMES).forEach((prop, slot) => {
  if (SAMPLE_FIELDS[slot] !== prop) throw new Error(`line-fields.ts: wire field order must follow SAMPLE_FIELDS (slot ${slot}: ${prop})`);
});

/** Bounds of a numeric sample field as declared in sampleSchema (through optional/nullable). */
function schemaBounds(prop: SampleField): { min: number; max: number } {
  let t: z.ZodType = sampleSchema.shape[prop];
  while (t instanceof z.ZodOptional || t instanceof z.ZodNullable) t = t.unwrap() as z.ZodType;
  if (!(t instanceof z.ZodNumber) || t.minValue === null || t.maxValue === null) {
    throw new Error(`sampleSchema.${prop} is not a bounded number; update line-fields.ts`);
  }
  return { min: t.minValue, max: t.maxValue };
}

/** Canonical fields by wire name. A Map, so user-supplied keys never hit Object.prototype. */
export const CANONICAL_FIELDS: ReadonlyMap<string, FieldSpec & { slot: number; bit: number }> = new Map(
  Object.entries(WIRE_NAMES).map(([wire, prop], slot) => [wire, { prop, slot, bit: 1 << slot, ...schemaBounds(prop) }]),
);

const BY_LENGTH: (FieldSpec & { wire: string; slot: number; bit: number })[][] = [];
for (const [wire, spec] of CANONICAL_FIELDS) (BY_LENGTH[wire.length] ??= []).push({ wire, ...spec });

/** The canonical field whose wire name is exactly s[a..b), without slicing a string; or undefined. */
export function canonicalFieldAt(s: string, a: number, b: number): (FieldSpec & { slot: number; bit: number }) | undefined {
  const candidates = BY_LENGTH[b - a];
  if (candidates === undefined) return undefined;
  for (let k = 0; k < candidates.length; k++) if (s.startsWith(candidates[k].wire, a)) return candidates[k];
  return undefined;
}

/** Longest extras key sampleSchema accepts. */
export const MAX_EXTRA_KEY = 64;
/** Longest chip id (chipIdSchema). */
const MAX_CHIP_ID = 128;

/** letters, digits, . _ : - (the chipIdSchema alphabet). */
function isIdChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 58) || c === 45 || c === 46 || c === 95;
}

/**
 * Why `id` is not a valid chip id, or null when it is; the same rule as chipIdSchema
 * (1..128 chars of letters, digits, `.`, `_`, `:`, `-`), checked without a regex.
 */
export function chipIdProblem(id: string, maxLen = MAX_CHIP_ID): string | null {
  if (id.length === 0) return 'is empty';
  if (id.length > maxLen) return `is longer than ${maxLen} characters`;
  for (let i = 0; i < id.length; i++) {
    if (!isIdChar(id.charCodeAt(i))) return 'may only contain letters, digits, ".", "_", ":" and "-"';
  }
  return null;
}

const BOOLEANS = new Set(['t', 'T', 'true', 'True', 'TRUE', 'f', 'F', 'false', 'False', 'FALSE']);

/** True when s[a..b) is 1+ ASCII digits (field integers and timestamps). */
export function allDigits(s: string, a: number, b: number): boolean {
  if (a >= b) return false;
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * Parse an unquoted Influx field value s[a..b): float (`-1.5`, `.5`, `3.`, `1e-3`), integer
 * (`42i`, `-42i`) or unsigned (`42u`). Returns the number, or a string saying what is wrong.
 */
export function parseFieldNumber(s: string, a: number, b: number): number | string {
  const last = s.charCodeAt(b - 1);
  if (last === 105 /* i */ || last === 117 /* u */) {
    const start = last === 105 && s.charCodeAt(a) === 45 /* - */ ? a + 1 : a;
    if (!allDigits(s, start, b - 1)) return notANumber(s, a, b);
    const n = Number(s.slice(a, b - 1));
    return Number.isSafeInteger(n) ? n : `${s.slice(a, b)} is outside the exactly representable integer range`;
  }
  const neg = s.charCodeAt(a) === 45;
  let i = neg ? a + 1 : a;
  // Accumulate the mantissa while it is exact (Clinger's fast path, below).
  let m = 0;
  let digits = 0;
  let fracDigits = 0;
  let c = s.charCodeAt(i);
  while (i < b && c >= 48 && c <= 57) {
    m = m * 10 + (c - 48);
    digits++;
    c = s.charCodeAt(++i);
  }
  if (i < b && c === 46 /* . */) {
    c = s.charCodeAt(++i);
    while (i < b && c >= 48 && c <= 57) {
      m = m * 10 + (c - 48);
      digits++;
      fracDigits++;
      c = s.charCodeAt(++i);
    }
  }
  if (digits === 0) return notANumber(s, a, b);
  let exp = 0;
  if (i < b && (c | 32) === 101 /* e */) {
    c = s.charCodeAt(++i);
    const expNeg = c === 45;
    if (c === 43 || c === 45) i++;
    if (!allDigits(s, i, b)) return notANumber(s, a, b);
    if (b - i > 4) exp = 99_999; // far outside the fast path; Number() below decides
    else for (; i < b; i++) exp = exp * 10 + (s.charCodeAt(i) - 48);
    if (expNeg) exp = -exp;
  }
  if (i !== b) return notANumber(s, a, b);
  // An exact integer mantissa (< 2^53) times/divided by an exact power of ten (<= 1e22) is one
  // correctly rounded IEEE operation: the same double Number() gives, without the string.
  const e10 = exp - fracDigits;
  if (digits <= 15 && e10 >= -22 && e10 <= 22) {
    const v = e10 < 0 ? m / POW10[-e10] : m * POW10[e10];
    return neg ? -v : v;
  }
  const n = Number(s.slice(a, b));
  return Number.isFinite(n) ? n : `${s.slice(a, b)} is not a finite number`;
}

const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

function notANumber(s: string, a: number, b: number): string {
  const raw = s.slice(a, b);
  if (BOOLEANS.has(raw)) return `boolean values are not accepted (got ${raw}); send a number`;
  return `${JSON.stringify(raw)} is not a number`;
}

