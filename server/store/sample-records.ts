/**
 * Sample records: the binary form of a batch of samples as it travels to the writer thread, lies
 * in the sample log until folded, and waits in memory for reads meanwhile. Row-wise and lossless
 * (float64 values, null kept apart from absent), cheap to write and to read back one row at a
 * time — unlike JSON, reading it back needs no text parsing. Pure: no I/O.
 *
 * Layout (little-endian), records self-delimited so a log row holds several back to back:
 *   u8 magic 0xFB | u8 version | u16 string count | u32 record bytes | u32 sample count
 *   | u32 offset of the strings (from the record's start)
 *   rows:    u16 chip string | u16 present mask | u8 defined mask | u8 flag bits | f64 ts
 *            | f64 per present field (SAMPLE_FIELDS order)
 *            | when flag bit 0x80: u16 extras count, then (u16 key string, f64 value) each
 *   strings: u16 byte length + UTF-8 each (chip ids and extras keys), after the rows so that
 *            a record is written in one pass
 * present: bit i = SAMPLE_FIELDS[i] holds a number; defined: bit j = OPTIONAL_FIELDS[j] is not absent
 * (so an optional field is absent, null or a number, as in the sample).
 */
import { SAMPLE_FIELDS, type Sample } from '../../schema/sample.ts';
import { bitsToFlags, flagsToBits } from '../../schema/sample-flags.ts';

export const RECORD_MAGIC = 0xfb;
const VERSION = 1;
const HEADER_BYTES = 16;
const ROW_FIXED_BYTES = 14;
const HAS_EXTRAS = 0x80;
const MAX_STRINGS = 0xffff;

const FIELD_COUNT = SAMPLE_FIELDS.length;
/** Fields a sample may leave out (absent is kept apart from null). */
const OPTIONAL_FIELDS = ['smClockMhz', 'eccCorrected', 'eccUncorrected'] as const;
const OPTIONAL_BIT = new Map<string, number>(OPTIONAL_FIELDS.map((f, j) => [f, 1 << j]));
const FIELD_OPTIONAL_BIT = SAMPLE_FIELDS.map((f) => OPTIONAL_BIT.get(f) ?? 0);

/** A sample's field values in SAMPLE_FIELDS order, read by name (fast property loads, not keyed ones). */
function readFields(s: Sample, out: (number | null | undefined)[]): void {
  out[0] = s.utilPct;
  out[1] = s.memUtilPct;
  out[2] = s.memUsedBytes;
  out[3] = s.memTotalBytes;
  out[4] = s.powerW;
  out[5] = s.powerLimitW;
  out[6] = s.tempC;
  out[7] = s.energyJ;
  out[8] = s.smClockMhz;
  out[9] = s.eccCorrected;
  out[10] = s.eccUncorrected;
}
const READ_ORDER = 'utilPct,memUtilPct,memUsedBytes,memTotalBytes,powerW,powerLimitW,tempC,energyJ,smClockMhz,eccCorrected,eccUncorrected';
if (SAMPLE_FIELDS.join(',') !== READ_ORDER) throw new Error('sample-records: readFields does not follow SAMPLE_FIELDS');

const utf8Decoder = new TextDecoder();
/**
 * UTF-8 bytes of chip ids and extras keys seen lately: bounded, but well above a large hub's
 * 100,000 chips (at 100,000 it started over every few seconds there).
 */
const utf8Cache = new Map<string, Buffer>();
function utf8Of(s: string): Buffer {
  let b = utf8Cache.get(s);
  if (!b) {
    if (utf8Cache.size >= 500_000) utf8Cache.clear();
    utf8Cache.set(s, (b = Buffer.from(s, 'utf8')));
  }
  return b;
}

/** Reused output buffer: a record is written here in one pass, then copied out at its exact size. */
let scratch = Buffer.allocUnsafe(64 << 10);
let scratchView = new DataView(scratch.buffer, scratch.byteOffset, scratch.byteLength);
/** Grow the scratch to hold `bytes`, keeping the first `used` bytes written so far. */
function ensureScratch(bytes: number, used: number): void {
  if (bytes <= scratch.length) return;
  const bigger = Buffer.allocUnsafe(Math.max(bytes, scratch.length * 2));
  scratch.copy(bigger, 0, 0, used);
  scratch = bigger;
  scratchView = new DataView(scratch.buffer, scratch.byteOffset, scratch.byteLength);
}
const values: (number | null | undefined)[] = new Array(FIELD_COUNT).fill(null);

/** Encode samples (any chips, any order) as one record. */
export function encodeSampleRecord(samples: readonly Sample[]): Uint8Array {
  const strings = new Map<string, number>();
  const stringOf = (s: string): number => {
    let i = strings.get(s);
    if (i === undefined) {
      if (strings.size === MAX_STRINGS) throw new Error(`a sample record holds at most ${MAX_STRINGS} distinct chip ids and extras keys`);
      strings.set(s, (i = strings.size));
    }
    return i;
  };
  let p = HEADER_BYTES;
  for (const s of samples) {
    readFields(s, values);
    const extras = s.extras;
    const keys = extras ? Object.keys(extras) : null;
    const nExtras = keys ? keys.length : 0;
    ensureScratch(p + ROW_FIXED_BYTES + 8 * FIELD_COUNT + 2 + 10 * nExtras, p);
    const view = scratchView;
    let present = 0;
    let defined = 0;
    let q = p + ROW_FIXED_BYTES;
    for (let f = 0; f < FIELD_COUNT; f++) {
      const v = values[f];
      if (typeof v === 'number') {
        present |= 1 << f;
        view.setFloat64(q, v, true);
        q += 8;
      }
      if (v !== undefined) defined |= FIELD_OPTIONAL_BIT[f];
    }
    view.setUint16(p, stringOf(s.chipId), true);
    view.setUint16(p + 2, present, true);
    view.setUint8(p + 4, defined);
    view.setUint8(p + 5, flagsToBits(s.flags) | (nExtras ? HAS_EXTRAS : 0));
    view.setFloat64(p + 6, s.ts, true);
    if (nExtras) {
      view.setUint16(q, nExtras, true);
      q += 2;
      for (const k of keys!) {
        view.setUint16(q, stringOf(k), true);
        view.setFloat64(q + 2, extras![k], true);
        q += 10;
      }
    }
    p = q;
  }
  const stringsAt = p;
  for (const str of strings.keys()) {
    const b = utf8Of(str);
    ensureScratch(p + 2 + b.length, p);
    scratchView.setUint16(p, b.length, true);
    scratch.set(b, p + 2);
    p += 2 + b.length;
  }
  const view = scratchView;
  view.setUint8(0, RECORD_MAGIC);
  view.setUint8(1, VERSION);
  view.setUint16(2, strings.size, true);
  view.setUint32(4, p, true);
  view.setUint32(8, samples.length, true);
  view.setUint32(12, stringsAt, true);
  return Uint8Array.prototype.slice.call(scratch, 0, p);
}

/** A record opened for reading: its strings decoded, its rows reachable by offset. */
export class SampleRecord {
  readonly strings: string[];
  readonly count: number;
  /** Offset of the first row. */
  readonly rowsStart: number;
  /** Offset just past the record. */
  readonly end: number;
  private readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    readonly start = 0,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const v = this.view;
    if (bytes.byteLength - start < HEADER_BYTES || v.getUint8(start) !== RECORD_MAGIC) throw new Error('not a sample record');
    if (v.getUint8(start + 1) !== VERSION) throw new Error(`sample record version ${v.getUint8(start + 1)} is not supported`);
    const nStrings = v.getUint16(start + 2, true);
    this.end = start + v.getUint32(start + 4, true);
    if (this.end > bytes.byteLength) throw new Error('sample record is truncated');
    this.count = v.getUint32(start + 8, true);
    this.strings = new Array<string>(nStrings);
    let p = start + v.getUint32(start + 12, true);
    for (let i = 0; i < nStrings; i++) {
      const len = v.getUint16(p, true);
      this.strings[i] = utf8Decoder.decode(bytes.subarray(p + 2, p + 2 + len));
      p += 2 + len;
    }
    this.rowsStart = start + HEADER_BYTES;
  }

  /** Calls `visit(chipId, rowOffset)` for each row in order. */
  forEachRow(visit: (chipId: string, row: number) => void): void {
    let p = this.rowsStart;
    for (let i = 0; i < this.count; i++) {
      visit(this.strings[this.view.getUint16(p, true)], p);
      p = this.rowEnd(p);
    }
  }

  /** All samples in order. */
  samples(): Sample[] {
    const out = new Array<Sample>(this.count);
    let p = this.rowsStart;
    for (let i = 0; i < this.count; i++) {
      out[i] = this.sampleAt(p);
      p = this.rowEnd(p);
    }
    return out;
  }

  tsAt(row: number): number {
    return this.view.getFloat64(row + 6, true);
  }

  /** The energy reading of a row (null when it has none). */
  energyAt(row: number): number | null {
    const present = this.view.getUint16(row + 2, true);
    if (!(present & (1 << ENERGY))) return null;
    return this.view.getFloat64(row + ROW_FIXED_BYTES + 8 * popcount(present & ((1 << ENERGY) - 1)), true);
  }

  sampleAt(row: number): Sample {
    const v = this.view;
    const present = v.getUint16(row + 2, true);
    const defined = v.getUint8(row + 4);
    const bits = v.getUint8(row + 5);
    const s: Record<string, unknown> = { ts: v.getFloat64(row + 6, true), chipId: this.strings[v.getUint16(row, true)] };
    let p = row + ROW_FIXED_BYTES;
    for (let f = 0; f < FIELD_COUNT; f++) {
      if (present & (1 << f)) {
        s[SAMPLE_FIELDS[f]] = v.getFloat64(p, true);
        p += 8;
      } else if (FIELD_OPTIONAL_BIT[f] === 0 || defined & FIELD_OPTIONAL_BIT[f]) s[SAMPLE_FIELDS[f]] = null;
    }
    const flags = bitsToFlags(bits & ~HAS_EXTRAS);
    if (flags) s.flags = flags;
    if (bits & HAS_EXTRAS) {
      const n = v.getUint16(p, true);
      p += 2;
      const extras: Record<string, number> = {};
      for (let i = 0; i < n; i++, p += 10) extras[this.strings[v.getUint16(p, true)]] = v.getFloat64(p + 2, true);
      s.extras = extras;
    }
    return s as Sample;
  }

  private rowEnd(row: number): number {
    const v = this.view;
    let p = row + ROW_FIXED_BYTES + 8 * popcount(v.getUint16(row + 2, true));
    if (v.getUint8(row + 5) & HAS_EXTRAS) p += 2 + 10 * v.getUint16(p, true);
    return p;
  }
}

const ENERGY = SAMPLE_FIELDS.indexOf('energyJ');

function popcount(x: number): number {
  let n = 0;
  for (; x; x &= x - 1) n++;
  return n;
}

/** True when `bytes` starts with a sample record (a log row written as JSON text does not). */
export function isSampleRecords(bytes: Uint8Array): boolean {
  return bytes.byteLength > 0 && bytes[0] === RECORD_MAGIC;
}

/** Every record of a buffer holding records back to back. */
export function readSampleRecords(bytes: Uint8Array): SampleRecord[] {
  const out: SampleRecord[] = [];
  for (let p = 0; p < bytes.byteLength; ) {
    const r = new SampleRecord(bytes, p);
    out.push(r);
    p = r.end;
  }
  return out;
}
