/**
 * Compact, lossless encoding of one chip's samples (a "chunk"): columnar, timestamps as
 * delta-of-delta, each numeric field a column of column-codec.ts (scaled-integer deltas, or deltas
 * of deltas where shorter, when every value has at most three decimals, else raw float64; nulls in
 * a presence bitmap), `extras` as one such column per key, then deflate. Pure: no I/O.
 *
 * Format 2 (written now) differs from format 1 in two places: numeric columns may use deltas of
 * deltas, and extras are columns (format 1 stored them as one JSON array, which format 2 keeps for
 * chunks with more than MAX_EXTRAS_COLUMNS distinct keys). Both are read.
 *
 * The byte format is stored on disk: any change to what is written here must keep old chunks
 * readable (test/unit/chunk-codec.test.ts pins the bytes of both formats). This code runs on the
 * compactor's hot path, so it avoids per-field arrays and closures: columns are gathered into
 * reused scratch buffers and the chunk is built in one reused Writer.
 */
import { inflateRawSync } from 'node:zlib';
import { deflateFitted } from '../codec/deflate-fitted.ts';
import { OPTIONAL_SAMPLE_FIELDS, SAMPLE_FIELDS, type Sample, type SampleField, type SampleFlags } from '../../schema/sample.ts';
import { bitsToFlags } from '../../schema/sample-flags.ts';
import { prepareScratch, readColumn, Reader, Writer, writeScratchColumn } from '../codec/column-codec.ts';

const VERSION = 2;
/** Extras section: none, a JSON array (format 1's only form), or a column per key. */
const EXTRAS_NONE = 0;
const EXTRAS_JSON = 1;
const EXTRAS_COLUMNS = 2;
/** Past this many distinct extras keys in one chunk, extras go as JSON (a column per key would cost more). */
const MAX_EXTRAS_COLUMNS = 64;

/**
 * s[f], written out as named property reads: V8 runs these much faster than s[f] with a key that
 * changes from field to field (measured: encodeChunk about 10% faster).
 */
function fieldValue(s: Sample, f: SampleField): number | null | undefined {
  switch (f) {
    case 'utilPct': return s.utilPct;
    case 'memUtilPct': return s.memUtilPct;
    case 'memUsedBytes': return s.memUsedBytes;
    case 'memTotalBytes': return s.memTotalBytes;
    case 'powerW': return s.powerW;
    case 'powerLimitW': return s.powerLimitW;
    case 'tempC': return s.tempC;
    case 'energyJ': return s.energyJ;
    case 'smClockMhz': return s.smClockMhz;
    case 'eccCorrected': return s.eccCorrected;
    case 'eccUncorrected': return s.eccUncorrected;
    default: {
      const unknown: never = f; // a field added to SAMPLE_FIELDS needs its case here
      throw new Error(`unknown sample field ${String(unknown)}`);
    }
  }
}

/**
 * Flag name for each bit of the stored flags byte, read off schema/sample-flags.ts's mapping, so that
 * flagBits gives flagsToBits's result without its per-call Object.entries (measured: ~10% of
 * encodeChunk when every sample has flags). The unit test checks the two agree.
 */
const FLAG_NAMES = [0, 1, 2, 3, 4, 5, 6, 7].map((k) => Object.keys(bitsToFlags(1 << k) ?? {})[0] as keyof SampleFlags | undefined);

function flagBits(flags: SampleFlags): number {
  let bits = 0;
  for (let k = 0; k < 8; k++) {
    const name = FLAG_NAMES[k];
    if (name !== undefined && flags[name]) bits |= 1 << k;
  }
  return bits;
}

type OptionalField = (typeof OPTIONAL_SAMPLE_FIELDS)[number];

/** The Writer every encodeChunk call builds its chunk in (encoding is synchronous, so calls never overlap). */
let chunkWriter = new Writer(64 * 1024);
/** Past this size, the Writer grown by an unusually large chunk is dropped rather than kept. */
const MAX_KEPT_WRITER = 4 * 1024 * 1024;

/**
 * First byte of a chunk stored without deflate: its low three bits (BFINAL 1, BTYPE 11, a reserved
 * block type) never begin a raw deflate stream, so the two kinds of chunk cannot be confused.
 */
const PLAIN = 0xff;
/** SQL true for a stored plain chunk in `sample_chunks` (its first byte is PLAIN). */
export const PLAIN_CHUNK_SQL = `substr(data, 1, 1) = x'${PLAIN.toString(16)}'`;

/** Whether a stored chunk is plain (not deflated): written so by a fold, deflated when merged. */
export function isPlainChunk(data: Uint8Array): boolean {
  return data[0] === PLAIN;
}

/**
 * Encode one chip's samples (ascending, unique ts). `plain`: skip deflate (the PLAIN byte, then
 * the columns as they are), for a chunk that will be rewritten soon: deflating a few dozen
 * samples costs more than encoding them (zlib's setup per call).
 */
export function encodeChunk(samples: readonly Sample[], plain = false): Buffer {
  const w = chunkWriter;
  w.reset();
  const n = samples.length;
  if (plain) w.byte(PLAIN);
  w.byte(VERSION);
  w.uvar(n);
  let prevTs = 0;
  let prevDelta = 0;
  for (let i = 0; i < n; i++) {
    const ts = samples[i].ts;
    if (i === 0) w.uvar(ts);
    else {
      const delta = ts - prevTs;
      w.svar(delta - prevDelta);
      prevDelta = delta;
    }
    prevTs = ts;
  }
  for (const f of SAMPLE_FIELDS) {
    const { values, bits } = prepareScratch(n);
    let count = 0;
    for (let i = 0; i < n; i++) {
      const v = fieldValue(samples[i], f);
      if (v === null || v === undefined) continue;
      values[count++] = v;
      bits[i >> 3] |= 1 << (i & 7);
    }
    writeScratchColumn(w, n, count, true);
  }
  // Which optional fields were present (vs absent) per sample: one bitmap per optional field.
  for (const f of OPTIONAL_SAMPLE_FIELDS) {
    const { bits } = prepareScratch(n);
    for (let i = 0; i < n; i++) if (samples[i][f] !== undefined) bits[i >> 3] |= 1 << (i & 7);
    w.bytes(bits.subarray(0, (n + 7) >> 3));
  }
  let anyExtras = false;
  for (let i = 0; i < n; i++) {
    const s = samples[i];
    w.byte(s.flags ? flagBits(s.flags) : 0);
    if (s.extras) anyExtras = true;
  }
  if (!anyExtras) w.byte(EXTRAS_NONE);
  else writeExtras(w, samples);
  // deflateFitted reads its input before returning, so the Writer's buffer can be reused after.
  const out = plain ? Buffer.from(w.done()) : deflateFitted(w.done());
  if (w.capacity > MAX_KEPT_WRITER) chunkWriter = new Writer(64 * 1024);
  return out;
}

/** Extras keys of the chunk in order of first appearance, or null where they must go as JSON. */
function extrasKeys(samples: readonly Sample[]): string[] | null {
  const keys = new Set<string>();
  for (const s of samples) {
    if (!s.extras) continue;
    for (const k in s.extras) {
      // JSON keeps such a key an own property; a column's object built by assignment would not.
      if (k === '__proto__') return null;
      keys.add(k);
    }
    if (keys.size > MAX_EXTRAS_COLUMNS) return null;
  }
  return [...keys];
}

/** The extras section: which samples carry an extras object, the keys, then a column per key. */
function writeExtras(w: Writer, samples: readonly Sample[]): void {
  const n = samples.length;
  const keys = extrasKeys(samples);
  if (keys === null) {
    w.byte(EXTRAS_JSON);
    const json = Buffer.from(JSON.stringify(samples.map((s) => s.extras ?? null)));
    w.uvar(json.length);
    w.bytes(json);
    return;
  }
  w.byte(EXTRAS_COLUMNS);
  const carries = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) if (samples[i].extras) carries[i >> 3] |= 1 << (i & 7);
  w.bytes(carries);
  w.uvar(keys.length);
  for (const k of keys) {
    const b = Buffer.from(k);
    w.uvar(b.length);
    w.bytes(b);
  }
  for (const k of keys) {
    const { values, bits } = prepareScratch(n);
    let count = 0;
    for (let i = 0; i < n; i++) {
      const v = samples[i].extras?.[k];
      if (v === undefined) continue;
      values[count++] = v;
      bits[i >> 3] |= 1 << (i & 7);
    }
    writeScratchColumn(w, n, count, true);
  }
}

/** Each sample's extras (null: none) from the section written by writeExtras or by format 1. */
function readExtras(r: Reader, n: number): (Record<string, number> | null)[] {
  const mode = r.byte();
  if (mode === EXTRAS_NONE) return [];
  if (mode === EXTRAS_JSON) return JSON.parse(r.bytes(r.uvar()).toString());
  if (mode !== EXTRAS_COLUMNS) throw new Error(`unknown extras section ${mode}`);
  const carries = r.bytes((n + 7) >> 3);
  const keys = new Array<string>(r.uvar());
  for (let k = 0; k < keys.length; k++) keys[k] = r.bytes(r.uvar()).toString();
  const columns = keys.map(() => readColumn(r, n));
  const out = new Array<Record<string, number> | null>(n);
  for (let i = 0; i < n; i++) {
    if (!(carries[i >> 3] & (1 << (i & 7)))) {
      out[i] = null;
      continue;
    }
    const extras: Record<string, number> = {};
    for (let k = 0; k < keys.length; k++) {
      const v = columns[k][i];
      if (v !== null) extras[keys[k]] = v;
    }
    out[i] = extras;
  }
  return out;
}

/** Decode a chunk back into the exact samples it was made from. */
export function decodeChunk(data: Buffer, chipId: string): Sample[] {
  const r = new Reader(isPlainChunk(data) ? data.subarray(1) : inflateRawSync(data));
  const version = r.byte();
  if (version !== 1 && version !== VERSION) throw new Error(`chunk version ${version} is not supported`);
  const n = r.uvar();
  const ts = new Array<number>(n);
  let delta = 0;
  for (let i = 0; i < n; i++) {
    if (i === 0) ts[0] = r.uvar();
    else {
      delta += r.svar();
      ts[i] = ts[i - 1] + delta;
    }
  }
  const columns = {} as Record<SampleField, (number | null)[]>;
  for (const f of SAMPLE_FIELDS) columns[f] = readColumn(r, n);
  const present = {} as Record<OptionalField, Buffer>;
  for (const f of OPTIONAL_SAMPLE_FIELDS) present[f] = r.bytes(Math.ceil(n / 8));
  const flags = r.bytes(n);
  // Format 1 knows EXTRAS_NONE and EXTRAS_JSON only, with the same bytes.
  const extras = readExtras(r, n);
  // Flags objects by bit pattern, built once per chunk; each sample gets its own copy.
  const flagsByBits: (SampleFlags | undefined)[] = [];
  const { utilPct, memUtilPct, memUsedBytes, memTotalBytes, powerW, powerLimitW, tempC, energyJ } = columns;
  const { smClockMhz, eccCorrected, eccUncorrected } = columns;
  const out: Sample[] = new Array(n);
  for (let i = 0; i < n; i++) {
    // Fields by name, the required ones in one object literal: far faster than setting s[f] in a
    // loop over the fields (measured: decodeChunk about 40% faster).
    const s: Sample = {
      ts: ts[i],
      chipId,
      utilPct: utilPct[i],
      memUtilPct: memUtilPct[i],
      memUsedBytes: memUsedBytes[i],
      memTotalBytes: memTotalBytes[i],
      powerW: powerW[i],
      powerLimitW: powerLimitW[i],
      tempC: tempC[i],
      energyJ: energyJ[i],
    };
    const byte = i >> 3;
    const mask = 1 << (i & 7);
    if (present.smClockMhz[byte] & mask) s.smClockMhz = smClockMhz[i];
    if (present.eccCorrected[byte] & mask) s.eccCorrected = eccCorrected[i];
    if (present.eccUncorrected[byte] & mask) s.eccUncorrected = eccUncorrected[i];
    const bits = flags[i];
    if (bits) s.flags = { ...(flagsByBits[bits] ??= bitsToFlags(bits)) };
    if (extras[i]) s.extras = extras[i]!;
    out[i] = s;
  }
  return out;
}
