/**
 * Sample records: the binary form of a batch of samples as it travels to the writer thread, lies
 * in the sample log until folded, and waits in memory for reads meanwhile. Row-wise and lossless
 * (every value exact, null kept apart from absent), cheap to write and to read back one row at a
 * time — unlike JSON, reading it back needs no text parsing. Pure: no I/O.
 *
 * Layout of version 2 (written now; little-endian), records self-delimited so a log row holds
 * several back to back:
 *   u8 magic 0xFB | u8 version | u16 string count | u32 record bytes | u32 sample count
 *   | u32 offset of the strings (from the record's start) | f64 base ts (the first row's)
 *   rows:    u8 row bytes after this one, 0 for longer rows: then a u16 of them
 *            | uvar chip string | u16 present mask | u8 defined mask | u8 flag bits
 *            | value: ts - base ts (exact: timestamps are integer ms)
 *            | value per present field (SAMPLE_FIELDS order)
 *            | when flag bit 0x80: uvar extras count, then (uvar key string, value) each
 *   strings: u16 byte length + UTF-8 each (chip ids and extras keys), after the rows so that
 *            a record is written in one pass; an NVIDIA GPU UUID as the length 0xFFFF and its 16
 *            bytes (record-strings.ts)
 * value: uvar of zigzag(v × 10^d) × 8 + d where v has d ≤ 3 decimals (and fits 2^48), else the
 *   uvar 4 and the f64 (−0, fractions past three decimals, huge values): telemetry's values take
 *   1–6 bytes instead of 8.
 * present: bit i = SAMPLE_FIELDS[i] holds a number; defined: bit j = OPTIONAL_SAMPLE_FIELDS[j] is not absent
 * (so an optional field is absent, null or a number, as in the sample).
 *
 * Version 1 (read, for logs written before): the header without base ts; rows of u16 chip
 * string, u16 present, u8 defined, u8 flag bits, f64 ts, f64 per present field, and with flag bit
 * 0x80 a u16 extras count and (u16 key string, f64 value) each.
 */
import { OPTIONAL_SAMPLE_FIELDS, SAMPLE_FIELDS, type Sample } from '../../schema/sample.ts';
import { bitsToFlags, flagsToBits } from '../../schema/sample-flags.ts';
import { putUvar, Reader, SCALES, unzigzag, zigzag } from '../codec/column-codec.ts';
import { readStringEntry, stringEntry, textEntry } from './record-strings.ts';
import { ByteSlabs } from '../codec/byte-slabs.ts';

export const RECORD_MAGIC = 0xfb;
const VERSION = 2;
const HEADER_BYTES = 24;
/** Version 1's header and the fixed part of its rows. */
const V1_HEADER_BYTES = 16;
const ROW_FIXED_BYTES = 14;
/** A value's code (low 3 bits of its uvar) for an f64 that follows. */
const VALUE_F64 = 4;
/** Largest |v × 10^d| written as an integer (its uvar then fits 2^53). */
const MAX_SCALED = 2 ** 48;
/** The bytes a value may take at most: a uvar of 2^53 (8) or the escape and an f64 (9). */
const MAX_VALUE_BYTES = 9;
const HAS_EXTRAS = 0x80;
const MAX_STRINGS = 0xffff;

const FIELD_COUNT = SAMPLE_FIELDS.length;
/** Fields a sample may leave out (absent is kept apart from null). */
const OPTIONAL_BIT = new Map<string, number>(OPTIONAL_SAMPLE_FIELDS.map((f, j) => [f, 1 << j]));
const FIELD_OPTIONAL_BIT = SAMPLE_FIELDS.map((f) => OPTIONAL_BIT.get(f) ?? 0);
/** The fields before the optional ones, which sampleAt reads by name in this order. */
const REQUIRED_FIELDS = ['utilPct', 'memUtilPct', 'memUsedBytes', 'memTotalBytes', 'powerW', 'powerLimitW', 'tempC', 'energyJ'] as const;
const REQUIRED_COUNT = REQUIRED_FIELDS.length;
if (SAMPLE_FIELDS.some((f, i) => (i < REQUIRED_COUNT ? f !== REQUIRED_FIELDS[i] : !OPTIONAL_BIT.has(f)))) {
  throw new Error('sample-records.ts: SAMPLE_FIELDS is no longer the required fields then the optional ones; update sampleAt');
}

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

/**
 * Up to this many strings a record finds a string's number by scanning them (a frame's chip ids
 * and extras keys): a Map per record, grown as it filled, was ~3 % of what the main thread
 * allocated at 100,000 chips.
 */
const SCANNED_STRINGS = 32;

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

/** Below this magnitude `v * 1000` is exact to well under 0.5, so one rounding finds every scale `v` has. */
const SCALE_AT_ONCE_BELOW = 2 ** 40;

/**
 * Write one value (see the layout) at p; returns the offset after it: scaled by the smallest power
 * of ten d (0–3) that gives back exactly `v`, or as an f64 where none does or the scaled value is
 * out of range. One multiplication by 1000 and the remainders of its rounding tell d (a value
 * exact at d is exact at every larger one), instead of a multiplication, rounding and division per
 * d tried: the record rows are written on the hub's main thread, ~10 values a sample.
 */
export function putValue(buf: Buffer, view: DataView, p: number, v: number): number {
  let scaled: number;
  let d: number;
  if (Number.isInteger(v)) {
    scaled = v;
    d = 0;
  } else if (v < SCALE_AT_ONCE_BELOW && v > -SCALE_AT_ONCE_BELOW) {
    const m = Math.round(v * 1000);
    if (m / 1000 !== v) return putF64(buf, view, p, v);
    if (m % 100 === 0) (scaled = m / 100), (d = 1);
    else if (m % 10 === 0) (scaled = m / 10), (d = 2);
    else (scaled = m), (d = 3);
  } else return putScaledByTrial(buf, view, p, v);
  if (scaled > MAX_SCALED || scaled < -MAX_SCALED || Object.is(v, -0)) return putF64(buf, view, p, v);
  return putUvar(buf, p, zigzag(scaled) * 8 + d);
}

/** putValue for large magnitudes: each scale tried in turn. */
function putScaledByTrial(buf: Buffer, view: DataView, p: number, v: number): number {
  for (let d = 1; d < 4; d++) {
    const scaled = Math.round(v * SCALES[d]);
    if (scaled / SCALES[d] !== v) continue;
    if (scaled > MAX_SCALED || scaled < -MAX_SCALED) break;
    return putUvar(buf, p, zigzag(scaled) * 8 + d);
  }
  return putF64(buf, view, p, v);
}

function putF64(buf: Buffer, view: DataView, p: number, v: number): number {
  buf[p] = VALUE_F64;
  view.setFloat64(p + 1, v, true);
  return p + 9;
}

/** A row's extras: string numbers of their keys and their values, the first `n` of each. */
export interface RowExtras {
  keys: number[];
  values: number[];
  n: number;
}

/**
 * Writes one record row by row into the module's scratch (one writer at a time): `string` numbers
 * the chip ids and extras keys in order of first use, `row` adds a row, `finish` writes the header
 * and the strings and returns the record. Samples (encodeSampleRecord) and binary batch frames
 * (server/ws/frame-record.ts) are written through it, so both give the same bytes.
 */
export class RecordWriter {
  /** The record's strings by number; looked up by a scan while few (a frame's 16 chip ids), by `index` beyond. */
  private readonly strings: string[] = [];
  private index: Map<string, number> | null = null;
  private p = HEADER_BYTES;
  private count = 0;

  /** `baseTs`: the first row's ts, which rows are stored against. */
  constructor(private readonly baseTs: number) {}

  /** The number of chip id or extras key `s` in this record. */
  string(s: string): number {
    const { strings } = this;
    if (this.index === null) {
      for (let i = 0; i < strings.length; i++) if (strings[i] === s) return i;
      if (strings.length < SCANNED_STRINGS) return strings.push(s) - 1;
      this.index = new Map(strings.map((x, i) => [x, i]));
    }
    let i = this.index.get(s);
    if (i === undefined) {
      if (strings.length === MAX_STRINGS) throw new Error(`a sample record holds at most ${MAX_STRINGS} distinct chip ids and extras keys`);
      this.index.set(s, (i = strings.push(s) - 1));
    }
    return i;
  }

  /**
   * One row: the chip's string number, its ts, `fields` in SAMPLE_FIELDS order (a number, null, or
   * undefined for an optional field left out), its flag bits (schema/sample-flags.ts) and extras.
   */
  row(chip: number, ts: number, fields: ArrayLike<number | null | undefined>, flagBits: number, extras: RowExtras | null): void {
    const nExtras = extras === null ? 0 : extras.n;
    let p = this.p;
    // At most: the length's 3-byte gap, the chip's uvar (3), the masks (4), ts and every field, the
    // extras count (3) and each extra's key uvar (3) and value.
    ensureScratch(p + 3 + 3 + 4 + MAX_VALUE_BYTES * (1 + FIELD_COUNT) + 3 + (3 + MAX_VALUE_BYTES) * nExtras, p);
    const buf = scratch;
    const view = scratchView;
    // The row's length goes first: a u8 where it fits (nearly always), else 0 and a u16; rows are
    // written after a 1-byte gap and moved on by 2 in the rare case the long form is needed.
    const rowStart = p + 1;
    let q = putUvar(buf, rowStart, chip);
    const masks = q;
    q = putValue(buf, view, q + 4, ts - this.baseTs);
    let present = 0;
    let defined = 0;
    for (let f = 0; f < FIELD_COUNT; f++) {
      const v = fields[f];
      if (typeof v === 'number') {
        present |= 1 << f;
        q = putValue(buf, view, q, v);
      }
      if (v !== undefined) defined |= FIELD_OPTIONAL_BIT[f];
    }
    view.setUint16(masks, present, true);
    view.setUint8(masks + 2, defined);
    view.setUint8(masks + 3, flagBits | (nExtras ? HAS_EXTRAS : 0));
    if (nExtras) {
      q = putUvar(buf, q, nExtras);
      for (let k = 0; k < nExtras; k++) {
        q = putUvar(buf, q, extras!.keys[k]);
        q = putValue(buf, view, q, extras!.values[k]);
      }
    }
    const len = q - rowStart;
    if (len > 0xffff) throw new Error(`a sample record row holds at most ${0xffff} bytes`);
    if (len < 256) {
      buf[p] = len;
      p = q;
    } else {
      buf.copyWithin(p + 3, rowStart, q);
      buf[p] = 0;
      view.setUint16(p + 1, len, true);
      p = q + 2;
    }
    this.p = p;
    this.count++;
  }

  /** The record: its header, rows and strings, copied out of the scratch at its exact size (a slab's slice). */
  finish(): Uint8Array {
    let p = this.p;
    const stringsAt = p;
    for (const str of this.strings) {
      const b = stringEntry(str);
      ensureScratch(p + b.length, p);
      scratch.set(b, p);
      p += b.length;
    }
    const view = scratchView;
    view.setUint8(0, RECORD_MAGIC);
    view.setUint8(1, VERSION);
    view.setUint16(2, this.strings.length, true);
    view.setUint32(4, p, true);
    view.setUint32(8, this.count, true);
    view.setUint32(12, stringsAt, true);
    view.setFloat64(16, this.baseTs, true);
    const out = recordSlabs.take(p);
    scratch.copy(out, 0, 0, p);
    return out;
  }
}

/**
 * Where finished records are copied to: slices of shared slabs, not a buffer each (a record lives
 * only until the writer's message of its turn copies it; one allocation per record was ~1 % of the
 * main thread at full ingest).
 */
const recordSlabs = new ByteSlabs();

const sampleExtras: RowExtras = { keys: [], values: [], n: 0 };

/** Encode samples (any chips, any order) as one record. */
export function encodeSampleRecord(samples: readonly Sample[]): Uint8Array {
  const w = new RecordWriter(samples.length > 0 ? samples[0].ts : 0);
  for (const s of samples) {
    readFields(s, values);
    const chip = w.string(s.chipId);
    const extras = s.extras;
    let rowExtras: RowExtras | null = null;
    if (extras) {
      let n = 0;
      for (const k of Object.keys(extras)) {
        sampleExtras.keys[n] = w.string(k);
        sampleExtras.values[n++] = extras[k];
      }
      sampleExtras.n = n;
      if (n > 0) rowExtras = sampleExtras;
    }
    w.row(chip, s.ts, values, flagsToBits(s.flags), rowExtras);
  }
  return w.finish();
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
  private readonly version: number;
  /** Version 2: the ts rows are stored against. */
  private readonly baseTs: number = 0;
  /** Where the last readValue/skip left off. */
  private pos = 0;
  /** Varints of three bytes or more are read through column-codec's Reader (made when first needed). */
  private reader: Reader | null = null;

  constructor(
    readonly bytes: Uint8Array,
    readonly start = 0,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const v = this.view;
    if (bytes.byteLength - start < V1_HEADER_BYTES || v.getUint8(start) !== RECORD_MAGIC) throw new Error('not a sample record');
    this.version = v.getUint8(start + 1);
    if (this.version !== 1 && this.version !== VERSION) throw new Error(`sample record version ${this.version} is not supported`);
    const nStrings = v.getUint16(start + 2, true);
    this.end = start + v.getUint32(start + 4, true);
    if (this.end > bytes.byteLength) throw new Error('sample record is truncated');
    this.count = v.getUint32(start + 8, true);
    this.strings = new Array<string>(nStrings);
    let p = start + v.getUint32(start + 12, true);
    for (let i = 0; i < nStrings; i++) {
      const entry = readStringEntry(bytes, p, this.version !== 1);
      this.strings[i] = entry.text;
      p = entry.end;
    }
    if (this.version === 1) this.rowsStart = start + V1_HEADER_BYTES;
    else {
      this.baseTs = v.getFloat64(start + 16, true);
      this.rowsStart = start + HEADER_BYTES;
    }
  }

  /** Calls `visit(chipId, rowOffset, chipIndex)` for each row in order (`chipId` is `strings[chipIndex]`). */
  forEachRow(visit: (chipId: string, row: number, chipIndex: number) => void): void {
    let p = this.rowsStart;
    for (let i = 0; i < this.count; i++) {
      const chip = this.chipIndexAt(p);
      visit(this.strings[chip], p, chip);
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
    if (this.version === 1) return this.view.getFloat64(row + 6, true);
    this.pos = this.masksAt(row) + 4;
    return this.baseTs + this.readValue();
  }

  /** The energy reading of a row (null when it has none). */
  energyAt(row: number): number | null {
    const v = this.view;
    if (this.version === 1) {
      const present = v.getUint16(row + 2, true);
      if (!(present & (1 << ENERGY))) return null;
      return v.getFloat64(row + ROW_FIXED_BYTES + 8 * popcount(present & ((1 << ENERGY) - 1)), true);
    }
    const masks = this.masksAt(row);
    const present = v.getUint16(masks, true);
    if (!(present & (1 << ENERGY))) return null;
    this.pos = masks + 4;
    this.skipValue(); // ts
    for (let before = popcount(present & ((1 << ENERGY) - 1)); before > 0; before--) this.skipValue();
    return this.readValue();
  }

  sampleAt(row: number): Sample {
    if (this.version === 1) return this.sampleAtV1(row);
    const v = this.view;
    const chip = this.chipIndexAt(row);
    const masks = this.pos;
    const present = v.getUint16(masks, true);
    const defined = v.getUint8(masks + 2);
    const bits = v.getUint8(masks + 3);
    this.pos = masks + 4;
    // One literal for the fields every sample has, in SAMPLE_FIELDS order (its initializers run in
    // order, as the values lie): every sample gets the same shape, not one built key by key.
    const s: Record<string, unknown> = {
      ts: this.baseTs + this.readValue(),
      chipId: this.strings[chip],
      utilPct: present & 1 ? this.readValue() : null,
      memUtilPct: present & 2 ? this.readValue() : null,
      memUsedBytes: present & 4 ? this.readValue() : null,
      memTotalBytes: present & 8 ? this.readValue() : null,
      powerW: present & 16 ? this.readValue() : null,
      powerLimitW: present & 32 ? this.readValue() : null,
      tempC: present & 64 ? this.readValue() : null,
      energyJ: present & 128 ? this.readValue() : null,
    };
    for (let f = REQUIRED_COUNT; f < FIELD_COUNT; f++) {
      if (present & (1 << f)) s[SAMPLE_FIELDS[f]] = this.readValue();
      else if (defined & FIELD_OPTIONAL_BIT[f]) s[SAMPLE_FIELDS[f]] = null;
    }
    const flags = bitsToFlags(bits & ~HAS_EXTRAS);
    if (flags) s.flags = flags;
    if (bits & HAS_EXTRAS) {
      const n = this.readUvar();
      const extras: Record<string, number> = {};
      for (let i = 0; i < n; i++) {
        const key = this.strings[this.readUvar()];
        extras[key] = this.readValue();
      }
      s.extras = extras;
    }
    return s as Sample;
  }

  private sampleAtV1(row: number): Sample {
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

  /** Offset of a version 2 row's chip uvar: after its length (u8, or 0 and a u16). */
  private bodyAt(row: number): number {
    return row + (this.bytes[row] === 0 ? 3 : 1);
  }

  /** The row's chip string index; leaves `pos` at its masks (version 2). */
  private chipIndexAt(row: number): number {
    if (this.version === 1) return this.view.getUint16(row, true);
    this.pos = this.bodyAt(row);
    return this.readUvar();
  }

  /** Offset of a version 2 row's masks (u16 present, u8 defined, u8 flag bits). */
  private masksAt(row: number): number {
    this.pos = this.bodyAt(row);
    this.skipUvar();
    return this.pos;
  }

  private rowEnd(row: number): number {
    const v = this.view;
    if (this.version === 1) {
      let p = row + ROW_FIXED_BYTES + 8 * popcount(v.getUint16(row + 2, true));
      if (v.getUint8(row + 5) & HAS_EXTRAS) p += 2 + 10 * v.getUint16(p, true);
      return p;
    }
    const short = this.bytes[row];
    return this.bodyAt(row) + (short === 0 ? v.getUint16(row + 1, true) : short);
  }

  private readUvar(): number {
    // Most take one or two bytes (chip and key indexes, small values): read here.
    const b = this.bytes;
    const p = this.pos;
    const x = b[p];
    if (x < 128) {
      this.pos = p + 1;
      return x;
    }
    const y = b[p + 1];
    if (y < 128) {
      this.pos = p + 2;
      return (x & 127) | (y << 7);
    }
    const r = (this.reader ??= new Reader(Buffer.from(b.buffer, b.byteOffset, b.byteLength)));
    r.pos = p;
    const v = r.uvar();
    this.pos = r.pos;
    return v;
  }

  private skipUvar(): void {
    const b = this.bytes;
    let p = this.pos;
    while (b[p++] >= 128);
    this.pos = p;
  }

  private readValue(): number {
    const u = this.readUvar();
    // u = zigzag(scaled) * 8 + d: split with bit operations while they are exact.
    const d = u < 0x80000000 ? u & 7 : u % 8;
    if (d === VALUE_F64) {
      const v = this.view.getFloat64(this.pos, true);
      this.pos += 8;
      return v;
    }
    const scaled = unzigzag(u < 0x80000000 ? u >>> 3 : (u - d) / 8);
    return d === 0 ? scaled : scaled / SCALES[d];
  }

  private skipValue(): void {
    const first = this.bytes[this.pos];
    this.skipUvar();
    if (first === VALUE_F64) this.pos += 8;
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

/**
 * What a chip id's record names it by: its string entry as version 2 writes it and, for a GPU
 * UUID, as version 1 wrote it (plain text). For recordsNaming.
 */
export function chipEntries(chipIds: Iterable<string>): Buffer[] {
  const out: Buffer[] = [];
  for (const id of chipIds) {
    const entry = stringEntry(id);
    const text = textEntry(id);
    out.push(entry);
    if (!text.equals(entry)) out.push(text);
  }
  return out;
}

/**
 * The records of a buffer holding records back to back that may hold samples of some chips: those
 * whose bytes contain one of the chips' entries (chipEntries; a record names each of its chips
 * once, in its strings section). The others are stepped over by their length, their strings never
 * decoded: a log row holds 16 agents' records, and a read of one chip's recent samples wants one
 * of them. A record returned may still hold none of the chips (the bytes may also occur among its
 * values); the caller checks its strings.
 */
export function recordsNaming(bytes: Uint8Array, entries: readonly Buffer[]): SampleRecord[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hits: number[] = [];
  for (const entry of entries) for (let at = buf.indexOf(entry); at >= 0; at = buf.indexOf(entry, at + 1)) hits.push(at);
  if (hits.length === 0) return [];
  hits.sort((a, b) => a - b);
  const out: SampleRecord[] = [];
  let h = 0;
  for (let p = 0; p < buf.byteLength && h < hits.length; ) {
    if (buf.byteLength - p < V1_HEADER_BYTES || buf[p] !== RECORD_MAGIC) throw new Error('not a sample record');
    const end = p + buf.readUInt32LE(p + 4);
    if (end <= p || end > buf.byteLength) throw new Error('sample record is truncated');
    while (h < hits.length && hits[h] < p) h++;
    if (h < hits.length && hits[h] < end) out.push(new SampleRecord(bytes, p));
    p = end;
  }
  return out;
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
