/**
 * Compact, lossless encoding of one chip's samples (a "chunk"): columnar, timestamps as
 * delta-of-delta, each numeric field as scaled-integer deltas when every value has at most three
 * decimals (else raw float64), nulls in a presence bitmap, then deflate. Pure: no I/O.
 *
 * The byte format is stored on disk: any change to what is written here must keep old chunks
 * readable (test/unit/chunk-codec.test.ts pins the bytes). This code runs on the compactor's hot
 * path, so it avoids per-field arrays and closures: columns are gathered into reused scratch
 * buffers and the chunk is built in one reused Writer.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { SAMPLE_FIELDS, type Sample, type SampleField, type SampleFlags } from '../../schema/sample.ts';
import { bitsToFlags } from './sample-flags.ts';

const VERSION = 1;
const MODE_ALL_NULL = 0;
const MODE_SCALED = 1;
const MODE_FLOAT = 2;
const MAX_SAFE = 2 ** 52;
/** 10 ** d for the decimals d a scaled column may have. */
const SCALES = [1, 10, 100, 1000];
const DEFLATE_OPTIONS = { level: 1 };

export class Writer {
  private buf: Buffer;
  len = 0;
  constructor(size = 4096) {
    this.buf = Buffer.allocUnsafe(size);
  }
  /** Bytes the buffer holds before it must grow. */
  get capacity(): number {
    return this.buf.length;
  }
  /** Start over, keeping the buffer (what done() returned earlier is overwritten). */
  reset() {
    this.len = 0;
  }
  private ensure(n: number) {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  byte(b: number) {
    this.ensure(1);
    this.buf[this.len++] = b;
  }
  /** Unsigned varint for integers up to 2^53. */
  uvar(v: number) {
    this.ensure(8);
    const buf = this.buf;
    let len = this.len;
    // 32-bit bitwise ops would wrap at 2^31, so bytes of larger values are peeled off with arithmetic...
    while (v >= 0x80000000) {
      buf[len++] = (v % 128) | 128;
      v = Math.floor(v / 128);
    }
    // ...and the rest (most values) with shifts, which give the same bytes for 0 <= v < 2^31.
    while (v >= 128) {
      buf[len++] = (v & 127) | 128;
      v >>>= 7;
    }
    buf[len++] = v;
    this.len = len;
  }
  svar(v: number) {
    this.uvar(v >= 0 ? v * 2 : -v * 2 - 1);
  }
  f64(v: number) {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.len);
    this.len += 8;
  }
  bytes(b: Uint8Array) {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  done(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

export class Reader {
  pos = 0;
  constructor(private readonly buf: Buffer) {}
  byte(): number {
    return this.buf[this.pos++];
  }
  uvar(): number {
    const buf = this.buf;
    let pos = this.pos;
    // Up to four bytes (28 bits) with shifts: cannot overflow 32 bits.
    let v = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      const b = buf[pos++];
      v |= (b & 127) << shift;
      if (b < 128) {
        this.pos = pos;
        return v;
      }
    }
    // Longer values (up to 2^53) with arithmetic.
    let mul = 2 ** 28;
    for (;;) {
      const b = buf[pos++];
      if (b === undefined) throw new Error('data ends inside a varint');
      v += (b & 127) * mul;
      if (b < 128) {
        this.pos = pos;
        return v;
      }
      mul *= 128;
    }
  }
  svar(): number {
    const z = this.uvar();
    // Zigzag back to signed: with bit ops below 2^31 (same result, much faster), else arithmetic.
    if (z < 0x80000000) return (z >>> 1) ^ -(z & 1);
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }
  f64(): number {
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }
  bytes(n: number): Buffer {
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
}

/**
 * Scratch for the column being written, reused across calls: its non-null values (in order) and
 * its presence bitmap. Safe because writing is synchronous and never re-entered.
 */
let colValues = new Float64Array(1024);
let colBits = new Uint8Array(128);

/** Make the scratch fit a column of n values and clear its bitmap. */
function prepareScratch(n: number) {
  if (colValues.length < n) colValues = new Float64Array(Math.max(n, colValues.length * 2));
  const bitBytes = (n + 7) >> 3;
  if (colBits.length < bitBytes) colBits = new Uint8Array(Math.max(bitBytes, colBits.length * 2));
  colBits.fill(0, 0, bitBytes);
}

/** Smallest number of decimals (0..3) that represents every value exactly, or -1. */
function decimalsFor(values: Float64Array, count: number): number {
  // Candidates in order, each stopping at its first failing value: a column of integers passes at
  // d = 0 in one pass, and one with decimals usually fails the smaller d within its first few
  // values, so this costs about one pass over the values either way.
  next: for (let d = 0; d <= 3; d++) {
    const scale = SCALES[d];
    for (let i = 0; i < count; i++) {
      const v = values[i];
      const s = Math.round(v * scale);
      if (Math.abs(s) >= MAX_SAFE || s / scale !== v) continue next;
    }
    return d;
  }
  return -1;
}

/** Write the column gathered in the scratch: `count` non-null values out of n. */
function writeScratchColumn(w: Writer, n: number, count: number) {
  if (count === 0) return w.byte(MODE_ALL_NULL);
  const values = colValues;
  const d = decimalsFor(values, count);
  w.byte(d < 0 ? MODE_FLOAT : MODE_SCALED + 16 * d);
  const hasNull = count !== n;
  w.byte(hasNull ? 1 : 0);
  if (hasNull) w.bytes(colBits.subarray(0, (n + 7) >> 3));
  if (d < 0) {
    for (let i = 0; i < count; i++) w.f64(values[i]);
    return;
  }
  const scale = SCALES[d];
  let prev = 0;
  for (let i = 0; i < count; i++) {
    const s = Math.round(values[i] * scale);
    w.svar(s - prev);
    prev = s;
  }
}

export function writeColumn(w: Writer, column: readonly (number | null | undefined)[]) {
  const n = column.length;
  prepareScratch(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const v = column[i];
    if (v === null || v === undefined) continue;
    colValues[count++] = v;
    colBits[i >> 3] |= 1 << (i & 7);
  }
  writeScratchColumn(w, n, count);
}

export function readColumn(r: Reader, n: number): (number | null)[] {
  const mode = r.byte();
  const out = new Array<number | null>(n);
  if (mode === MODE_ALL_NULL) return out.fill(null);
  const bits = r.byte() === 1 ? r.bytes(Math.ceil(n / 8)) : null;
  if (mode === MODE_FLOAT) {
    for (let i = 0; i < n; i++) out[i] = bits && !(bits[i >> 3] & (1 << (i & 7))) ? null : r.f64();
    return out;
  }
  const scale = 10 ** ((mode - MODE_SCALED) / 16);
  let prev = 0;
  if (!bits) {
    for (let i = 0; i < n; i++) {
      prev += r.svar();
      out[i] = prev / scale;
    }
    return out;
  }
  for (let i = 0; i < n; i++) {
    if (bits[i >> 3] & (1 << (i & 7))) {
      prev += r.svar();
      out[i] = prev / scale;
    } else out[i] = null;
  }
  return out;
}

/**
 * readColumn without building an array: value p goes to out[at ? at[p] : p], a null becomes
 * `ifNull`. For decoders that fill reusable typed arrays.
 */
export function readColumnInto(r: Reader, n: number, out: Float64Array, ifNull: number, at?: Int32Array): void {
  const mode = r.byte();
  if (mode === MODE_ALL_NULL) {
    for (let i = 0; i < n; i++) out[at ? at[i] : i] = ifNull;
    return;
  }
  const bits = r.byte() === 1 ? r.bytes(Math.ceil(n / 8)) : null;
  const scale = mode === MODE_FLOAT ? 0 : 10 ** ((mode - MODE_SCALED) / 16);
  let prev = 0;
  for (let i = 0; i < n; i++) {
    const j = at ? at[i] : i;
    if (bits && !(bits[i >> 3] & (1 << (i & 7)))) out[j] = ifNull;
    else if (scale === 0) out[j] = r.f64();
    else {
      prev += r.svar();
      out[j] = prev / scale;
    }
  }
}

/** Move past a column written by writeColumn without building it; returns its non-null count. */
export function skipColumn(r: Reader, n: number): number {
  const mode = r.byte();
  if (mode === MODE_ALL_NULL) return 0;
  let present = n;
  if (r.byte() === 1) {
    const bits = r.bytes(Math.ceil(n / 8));
    present = 0;
    for (let i = 0; i < n; i++) if (bits[i >> 3] & (1 << (i & 7))) present++;
  }
  if (mode === MODE_FLOAT) r.pos += 8 * present;
  else for (let i = 0; i < present; i++) r.uvar();
  return present;
}

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
 * Flag name for each bit of the stored flags byte, read off sample-flags.ts's own mapping, so that
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

/** Optional sample fields, in storage order: absent (undefined) and null are kept apart. */
const OPTIONAL_FIELDS = ['smClockMhz', 'eccCorrected', 'eccUncorrected'] as const;
type OptionalField = (typeof OPTIONAL_FIELDS)[number];

/** The Writer every encodeChunk call builds its chunk in (encoding is synchronous, so calls never overlap). */
let chunkWriter = new Writer(64 * 1024);
/** Past this size, the Writer grown by an unusually large chunk is dropped rather than kept. */
const MAX_KEPT_WRITER = 4 * 1024 * 1024;

/** Encode one chip's samples (ascending, unique ts). */
export function encodeChunk(samples: readonly Sample[]): Buffer {
  const w = chunkWriter;
  w.reset();
  const n = samples.length;
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
    prepareScratch(n);
    let count = 0;
    for (let i = 0; i < n; i++) {
      const v = fieldValue(samples[i], f);
      if (v === null || v === undefined) continue;
      colValues[count++] = v;
      colBits[i >> 3] |= 1 << (i & 7);
    }
    writeScratchColumn(w, n, count);
  }
  // Which optional fields were present (vs absent) per sample: one bitmap per optional field.
  for (const f of OPTIONAL_FIELDS) {
    prepareScratch(n);
    for (let i = 0; i < n; i++) if (samples[i][f] !== undefined) colBits[i >> 3] |= 1 << (i & 7);
    w.bytes(colBits.subarray(0, (n + 7) >> 3));
  }
  let anyExtras = false;
  for (let i = 0; i < n; i++) {
    const s = samples[i];
    w.byte(s.flags ? flagBits(s.flags) : 0);
    if (s.extras) anyExtras = true;
  }
  w.byte(anyExtras ? 1 : 0);
  if (anyExtras) {
    const json = Buffer.from(JSON.stringify(samples.map((s) => s.extras ?? null)));
    w.uvar(json.length);
    w.bytes(json);
  }
  // deflateRawSync reads its input before returning, so the Writer's buffer can be reused after.
  const out = deflateRawSync(w.done(), DEFLATE_OPTIONS);
  if (w.capacity > MAX_KEPT_WRITER) chunkWriter = new Writer(64 * 1024);
  return out;
}

/** Decode a chunk back into the exact samples it was made from. */
export function decodeChunk(data: Buffer, chipId: string): Sample[] {
  const r = new Reader(inflateRawSync(data));
  const version = r.byte();
  if (version !== VERSION) throw new Error(`chunk version ${version} is not supported`);
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
  for (const f of OPTIONAL_FIELDS) present[f] = r.bytes(Math.ceil(n / 8));
  const flags = r.bytes(n);
  const extras: (Record<string, number> | null)[] = r.byte() === 1 ? JSON.parse(r.bytes(r.uvar()).toString()) : [];
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
