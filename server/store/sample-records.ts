/**
 * Sample records: the binary form of a batch of samples as it travels to the writer thread, lies
 * in the sample log until folded, and waits in memory for reads meanwhile. Row-wise and lossless
 * (float64 values, null kept apart from absent), cheap to write and to read back one row at a
 * time — unlike JSON, reading it back needs no text parsing. Pure: no I/O.
 *
 * Layout (little-endian), records self-delimited so a log row holds several back to back:
 *   u8 magic 0xFB | u8 version | u16 string count | u32 record bytes | u32 sample count
 *   strings: u16 byte length + UTF-8 (chip ids and extras keys)
 *   rows:    u16 chip string | u16 present mask | u8 defined mask | u8 flag bits | f64 ts
 *            | f64 per present field (SAMPLE_FIELDS order)
 *            | when flag bit 0x80: u16 extras count, then (u16 key string, f64 value) each
 * present: bit i = SAMPLE_FIELDS[i] holds a number; defined: bit j = OPTIONAL_FIELDS[j] is not absent
 * (so an optional field is absent, null or a number, as in the sample).
 */
import { SAMPLE_FIELDS, type Sample } from '../../schema/sample.ts';
import { bitsToFlags, flagsToBits } from './sample-flags.ts';

export const RECORD_MAGIC = 0xfb;
const VERSION = 1;
const HEADER_BYTES = 12;
const ROW_FIXED_BYTES = 14;
const HAS_EXTRAS = 0x80;
const MAX_STRINGS = 0xffff;

const FIELD_COUNT = SAMPLE_FIELDS.length;
/** Fields a sample may leave out (absent is kept apart from null). */
const OPTIONAL_FIELDS = ['smClockMhz', 'eccCorrected', 'eccUncorrected'] as const;
const OPTIONAL_BIT = new Map<string, number>(OPTIONAL_FIELDS.map((f, j) => [f, 1 << j]));
const FIELD_OPTIONAL_BIT = SAMPLE_FIELDS.map((f) => OPTIONAL_BIT.get(f) ?? 0);

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

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
  // Pass 1: string table and size.
  let rowBytes = 0;
  for (const s of samples) {
    stringOf(s.chipId);
    let present = 0;
    for (let f = 0; f < FIELD_COUNT; f++) if (typeof s[SAMPLE_FIELDS[f]] === 'number') present++;
    rowBytes += ROW_FIXED_BYTES + 8 * present;
    if (s.extras) {
      const keys = Object.keys(s.extras);
      if (keys.length) rowBytes += 2 + 10 * keys.length;
      for (const k of keys) stringOf(k);
    }
  }
  const encoded = [...strings.keys()].map((s) => utf8.encode(s));
  const stringBytes = encoded.reduce((n, b) => n + 2 + b.length, 0);
  const size = HEADER_BYTES + stringBytes + rowBytes;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint8(0, RECORD_MAGIC);
  view.setUint8(1, VERSION);
  view.setUint16(2, encoded.length, true);
  view.setUint32(4, size, true);
  view.setUint32(8, samples.length, true);
  let p = HEADER_BYTES;
  for (const b of encoded) {
    view.setUint16(p, b.length, true);
    out.set(b, p + 2);
    p += 2 + b.length;
  }
  // Pass 2: rows.
  for (const s of samples) {
    let present = 0;
    let defined = 0;
    for (let f = 0; f < FIELD_COUNT; f++) {
      const v = s[SAMPLE_FIELDS[f]];
      if (typeof v === 'number') present |= 1 << f;
      if (v !== undefined) defined |= FIELD_OPTIONAL_BIT[f];
    }
    const keys = s.extras ? Object.keys(s.extras) : [];
    view.setUint16(p, strings.get(s.chipId)!, true);
    view.setUint16(p + 2, present, true);
    view.setUint8(p + 4, defined);
    view.setUint8(p + 5, flagsToBits(s.flags) | (keys.length ? HAS_EXTRAS : 0));
    view.setFloat64(p + 6, s.ts, true);
    p += ROW_FIXED_BYTES;
    for (let f = 0; f < FIELD_COUNT; f++) {
      if (!(present & (1 << f))) continue;
      view.setFloat64(p, s[SAMPLE_FIELDS[f]] as number, true);
      p += 8;
    }
    if (keys.length) {
      view.setUint16(p, keys.length, true);
      p += 2;
      for (const k of keys) {
        view.setUint16(p, strings.get(k)!, true);
        view.setFloat64(p + 2, s.extras![k], true);
        p += 10;
      }
    }
  }
  return out;
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
    let p = start + HEADER_BYTES;
    for (let i = 0; i < nStrings; i++) {
      const len = v.getUint16(p, true);
      this.strings[i] = utf8Decoder.decode(bytes.subarray(p + 2, p + 2 + len));
      p += 2 + len;
    }
    this.rowsStart = p;
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
