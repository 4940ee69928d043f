/**
 * Compact, lossless encoding of one chip's samples (a "chunk"): columnar, timestamps as
 * delta-of-delta, each numeric field as scaled-integer deltas when every value has at most three
 * decimals (else raw float64), nulls in a presence bitmap, then deflate. Pure: no I/O.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { SAMPLE_FIELDS, type Sample } from '../../schema/sample.ts';
import { bitsToFlags, flagsToBits } from './sample-flags.ts';

const VERSION = 1;
const MODE_ALL_NULL = 0;
const MODE_SCALED = 1;
const MODE_FLOAT = 2;
const MAX_SAFE = 2 ** 52;

export class Writer {
  private buf = Buffer.allocUnsafe(4096);
  len = 0;
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
  /** Unsigned varint for integers up to 2^53 (arithmetic, not 32-bit bitwise). */
  uvar(v: number) {
    this.ensure(8);
    while (v >= 128) {
      this.buf[this.len++] = (v % 128) | 128;
      v = Math.floor(v / 128);
    }
    this.buf[this.len++] = v;
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
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = this.buf[this.pos++];
      v += (b & 127) * mul;
      if (b < 128) return v;
      mul *= 128;
    }
  }
  svar(): number {
    const z = this.uvar();
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

/** Smallest number of decimals (0..3) that represents every value exactly, or -1. */
function decimalsFor(values: number[]): number {
  for (let d = 0; d <= 3; d++) {
    const scale = 10 ** d;
    let ok = true;
    for (const v of values) {
      const s = Math.round(v * scale);
      if (Math.abs(s) >= MAX_SAFE || s / scale !== v) {
        ok = false;
        break;
      }
    }
    if (ok) return d;
  }
  return -1;
}

export function writeColumn(w: Writer, column: (number | null | undefined)[]) {
  const present = column.filter((v): v is number => v !== null && v !== undefined);
  if (present.length === 0) return w.byte(MODE_ALL_NULL);
  const d = decimalsFor(present);
  w.byte(d < 0 ? MODE_FLOAT : MODE_SCALED + 16 * d);
  const hasNull = present.length !== column.length;
  w.byte(hasNull ? 1 : 0);
  if (hasNull) {
    const bits = new Uint8Array(Math.ceil(column.length / 8));
    column.forEach((v, i) => {
      if (v !== null && v !== undefined) bits[i >> 3] |= 1 << (i & 7);
    });
    w.bytes(bits);
  }
  if (d < 0) {
    for (const v of present) w.f64(v);
    return;
  }
  const scale = 10 ** d;
  let prev = 0;
  for (const v of present) {
    const s = Math.round(v * scale);
    w.svar(s - prev);
    prev = s;
  }
}

export function readColumn(r: Reader, n: number): (number | null)[] {
  const mode = r.byte();
  if (mode === MODE_ALL_NULL) return new Array<number | null>(n).fill(null);
  const hasNull = r.byte() === 1;
  const bits = hasNull ? r.bytes(Math.ceil(n / 8)) : null;
  const out = new Array<number | null>(n);
  const scale = mode === MODE_FLOAT ? 0 : 10 ** ((mode - MODE_SCALED) / 16);
  let prev = 0;
  for (let i = 0; i < n; i++) {
    if (bits && !(bits[i >> 3] & (1 << (i & 7)))) {
      out[i] = null;
      continue;
    }
    if (mode === MODE_FLOAT) out[i] = r.f64();
    else {
      prev += r.svar();
      out[i] = prev / scale;
    }
  }
  return out;
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

/** Optional sample fields: absent (undefined) and null are kept apart. */
const OPTIONAL_FIELDS = new Set(['smClockMhz', 'eccCorrected', 'eccUncorrected']);

/** Encode one chip's samples (ascending, unique ts). */
export function encodeChunk(samples: readonly Sample[]): Buffer {
  const w = new Writer();
  w.byte(VERSION);
  w.uvar(samples.length);
  let prevTs = 0;
  let prevDelta = 0;
  samples.forEach((s, i) => {
    if (i === 0) w.uvar(s.ts);
    else {
      const delta = s.ts - prevTs;
      w.svar(delta - prevDelta);
      prevDelta = delta;
    }
    prevTs = s.ts;
  });
  for (const f of SAMPLE_FIELDS) writeColumn(w, samples.map((s) => s[f]));
  // Which optional fields were present (vs absent) per sample: one bitmap per optional field.
  for (const f of OPTIONAL_FIELDS) {
    const bits = new Uint8Array(Math.ceil(samples.length / 8));
    samples.forEach((s, i) => {
      if (s[f as keyof Sample] !== undefined) bits[i >> 3] |= 1 << (i & 7);
    });
    w.bytes(bits);
  }
  for (const s of samples) w.byte(flagsToBits(s.flags));
  const anyExtras = samples.some((s) => s.extras);
  w.byte(anyExtras ? 1 : 0);
  if (anyExtras) {
    const json = Buffer.from(JSON.stringify(samples.map((s) => s.extras ?? null)));
    w.uvar(json.length);
    w.bytes(json);
  }
  return deflateRawSync(w.done(), { level: 1 });
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
  const columns = SAMPLE_FIELDS.map(() => readColumn(r, n));
  const presence = [...OPTIONAL_FIELDS].map(() => r.bytes(Math.ceil(n / 8)));
  const flags = r.bytes(n);
  const extras: (Record<string, number> | null)[] = r.byte() === 1 ? JSON.parse(r.bytes(r.uvar()).toString()) : [];
  const out: Sample[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const s: Record<string, unknown> = { ts: ts[i], chipId };
    let opt = 0;
    SAMPLE_FIELDS.forEach((f, c) => {
      if (OPTIONAL_FIELDS.has(f)) {
        if (presence[opt++][i >> 3] & (1 << (i & 7))) s[f] = columns[c][i];
      } else s[f] = columns[c][i];
    });
    const fl = bitsToFlags(flags[i]);
    if (fl) s.flags = fl;
    if (extras[i]) s.extras = extras[i];
    out[i] = s as Sample;
  }
  return out;
}
