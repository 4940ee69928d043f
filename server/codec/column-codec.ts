/**
 * The column encoding shared by the chunk and rollup-row codecs: a byte Writer and Reader
 * (varints, zigzag, float64), and one column of numbers with nulls — scaled-integer deltas when
 * every value has at most three decimals (else raw float64), nulls in a presence bitmap; where the
 * writer allows it, scaled-integer deltas of deltas when those are shorter (counters such as
 * energy, which rise by about the same step each sample). Pure: no I/O. Stored on disk: old
 * columns must stay readable (test/unit/chunk-codec.test.ts pins bytes).
 */

const MODE_ALL_NULL = 0;
const MODE_SCALED = 1;
const MODE_FLOAT = 2;
/** Scaled integers as deltas of deltas (chunk format 2 on). */
const MODE_SCALED_DD = 3;
const MAX_SAFE = 2 ** 52;
/** 10 ** d for the decimals d a scaled column (or value) may have. */
export const SCALES = [1, 10, 100, 1000];

/** Zigzag of a signed integer: 0, -1, 1, -2, … → 0, 1, 2, 3, …. */
export function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

/** The signed integer of a zigzag: with bit ops below 2^31 (same result, much faster), else arithmetic. */
export function unzigzag(z: number): number {
  if (z < 0x80000000) return (z >>> 1) ^ -(z & 1);
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

/** Write the unsigned varint of v (an integer up to 2^53) into buf at p, which has room; returns the offset after it. */
export function putUvar(buf: Uint8Array, p: number, v: number): number {
  // 32-bit bitwise ops would wrap at 2^31, so bytes of larger values are peeled off with arithmetic...
  while (v >= 0x80000000) {
    buf[p++] = (v % 128) | 128;
    v = Math.floor(v / 128);
  }
  // ...and the rest (most values) with shifts, which give the same bytes for 0 <= v < 2^31.
  while (v >= 128) {
    buf[p++] = (v & 127) | 128;
    v >>>= 7;
  }
  buf[p++] = v;
  return p;
}

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
    this.len = putUvar(this.buf, this.len, v);
  }
  svar(v: number) {
    this.uvar(zigzag(v));
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
    return unzigzag(this.uvar());
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
export interface ColumnScratch {
  values: Float64Array;
  bits: Uint8Array;
}
const scratch: ColumnScratch = { values: new Float64Array(1024), bits: new Uint8Array(128) };

/** The scratch, made to fit a column of n values, its bitmap cleared. */
export function prepareScratch(n: number): ColumnScratch {
  if (scratch.values.length < n) scratch.values = new Float64Array(Math.max(n, scratch.values.length * 2));
  const bitBytes = (n + 7) >> 3;
  if (scratch.bits.length < bitBytes) scratch.bits = new Uint8Array(Math.max(bitBytes, scratch.bits.length * 2));
  scratch.bits.fill(0, 0, bitBytes);
  return scratch;
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

/** Bytes of the zigzag varint of v. */
function svarLength(v: number): number {
  const z = zigzag(v);
  return z < 0x80 ? 1 : z < 0x4000 ? 2 : z < 0x200000 ? 3 : z < 0x10000000 ? 4 : Math.ceil(Math.log2(z + 1) / 7);
}

/** Whether deltas of deltas of the first `count` values scaled by `scale` take fewer varint bytes than deltas. */
function secondOrderShorter(values: Float64Array, count: number, scale: number): boolean {
  let first = 0;
  let second = 0;
  let prev = 0;
  let prevDelta = 0;
  for (let i = 0; i < count; i++) {
    const s = Math.round(values[i] * scale);
    const delta = s - prev;
    first += svarLength(delta);
    second += svarLength(delta - prevDelta);
    prev = s;
    prevDelta = delta;
  }
  return second < first;
}

/**
 * Write the column gathered in the scratch: `count` non-null values out of n. With `secondOrder`,
 * scaled values go as deltas of deltas where that is shorter (readers before chunk format 2 do not
 * know that mode: only formats that name it may allow it).
 */
export function writeScratchColumn(w: Writer, n: number, count: number, secondOrder = false) {
  if (count === 0) return w.byte(MODE_ALL_NULL);
  const { values, bits } = scratch;
  const d = decimalsFor(values, count);
  const scale = d < 0 ? 0 : SCALES[d];
  const dd = d >= 0 && secondOrder && secondOrderShorter(values, count, scale);
  w.byte(d < 0 ? MODE_FLOAT : (dd ? MODE_SCALED_DD : MODE_SCALED) + 16 * d);
  const hasNull = count !== n;
  w.byte(hasNull ? 1 : 0);
  if (hasNull) w.bytes(bits.subarray(0, (n + 7) >> 3));
  if (d < 0) {
    for (let i = 0; i < count; i++) w.f64(values[i]);
    return;
  }
  let prev = 0;
  let prevDelta = 0;
  for (let i = 0; i < count; i++) {
    const s = Math.round(values[i] * scale);
    const delta = s - prev;
    w.svar(dd ? delta - prevDelta : delta);
    prev = s;
    prevDelta = delta;
  }
}

/** A column's mode byte read: 0 for raw float64, else the scale of its integers; `dd` for deltas of deltas. */
function columnScale(mode: number): { scale: number; dd: boolean } {
  if (mode === MODE_FLOAT) return { scale: 0, dd: false };
  const kind = mode % 16;
  const d = (mode - kind) / 16;
  if ((kind !== MODE_SCALED && kind !== MODE_SCALED_DD) || d > 3) throw new Error(`unknown column mode ${mode}`);
  return { scale: SCALES[d], dd: kind === MODE_SCALED_DD };
}

export function writeColumn(w: Writer, column: readonly (number | null | undefined)[]) {
  const n = column.length;
  const { values, bits } = prepareScratch(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const v = column[i];
    if (v === null || v === undefined) continue;
    values[count++] = v;
    bits[i >> 3] |= 1 << (i & 7);
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
  const { scale, dd } = columnScale(mode);
  let prev = 0;
  let delta = 0;
  if (!bits) {
    for (let i = 0; i < n; i++) {
      if (dd) prev += delta += r.svar();
      else prev += r.svar();
      out[i] = prev / scale;
    }
    return out;
  }
  for (let i = 0; i < n; i++) {
    if (bits[i >> 3] & (1 << (i & 7))) {
      if (dd) prev += delta += r.svar();
      else prev += r.svar();
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
  const { scale, dd } = columnScale(mode);
  let prev = 0;
  let delta = 0;
  for (let i = 0; i < n; i++) {
    const j = at ? at[i] : i;
    if (bits && !(bits[i >> 3] & (1 << (i & 7)))) out[j] = ifNull;
    else if (scale === 0) out[j] = r.f64();
    else {
      if (dd) prev += delta += r.svar();
      else prev += r.svar();
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
  if (columnScale(mode).scale === 0) r.pos += 8 * present;
  else for (let i = 0; i < present; i++) r.uvar();
  return present;
}
