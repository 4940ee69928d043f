/**
 * Encoding of one stored rollup row: the buckets of one key (chip or fleet group) within one row
 * span of a tier, columnar with the chunk codec's column encoding (scaled-integer deltas, null
 * bitmaps), then deflate. Lossless up to floating-point noise in sums (rounded away at 1e-9
 * relative). Pure: no I/O.
 */
import { inflateRawSync } from 'node:zlib';
import { deflateFitted } from '../codec/deflate-fitted.ts';
import { prepareScratch, Reader, Writer, readColumnInto, skipColumn, writeScratchColumn } from '../codec/column-codec.ts';
import { bucketsOf, columnsOf, RowColumns } from './rollup-columns.ts';
import { ROLLUP_FIELDS } from './rollup-fields.ts';
import type { RollupBucket } from './rollup-bucket.ts';

/** 2: each field block is prefixed with its byte length (1: no lengths; still read). */
const VERSION = 2;

/** Drop float noise from a sum of decimal values (0.1 + 0.2 → 0.3) so it encodes compactly. */
function clean(v: number): number {
  const r = Math.round(v * 1000) / 1000;
  return Math.abs(r - v) <= 1e-9 * Math.max(1, Math.abs(v)) ? r : v;
}

/** Encode buckets (ascending start, all within [rowStart, rowStart + span)). */
export function encodeRollupRow(rowStart: number, bucketMs: number, buckets: readonly RollupBucket[]): Buffer {
  return encodeRollupColumns(rowStart, bucketMs, columnsOf(buckets, encodeScratch));
}

const encodeScratch = new RowColumns();
/** Reused for each row and each field's block: encoding is synchronous and never re-entered, and what they hold is copied out. */
const rowWriter = new Writer(4096);
const blockWriter = new Writer(1024);

/**
 * Encode the row held in `c` (ascending start, all within [rowStart, rowStart + span), every field
 * and energy decoded): the same bytes as encodeRollupRow of its buckets, without bucket objects.
 * `deflate` false: the encoded bytes as they are, behind a marker byte (decoders read both), in a
 * buffer from `alloc`.
 */
export function encodeRollupColumns(rowStart: number, bucketMs: number, c: RowColumns, deflate = true, alloc: (n: number) => Buffer = Buffer.allocUnsafe): Buffer {
  const k = c.k;
  const w = rowWriter;
  w.reset();
  w.byte(VERSION);
  w.uvar(k);
  let prev = 0;
  for (let j = 0; j < k; j++) {
    const off = (c.start[j] - rowStart) / bucketMs;
    w.uvar(off - prev);
    prev = off;
  }
  putColumn(w, k, c.n, null, PLAIN);
  for (let i = 0; i < ROLLUP_FIELDS.length; i++) {
    // Each field's block is prefixed with its length, so a reader that wants other fields skips it in one step.
    const f = c.fields[i]!;
    const fw = blockWriter;
    fw.reset();
    // The count column: null where the bucket has no value for the field.
    const present = putColumn(fw, k, f.cnt, f.cnt, PLAIN, true);
    if (present > 0) {
      putColumn(fw, k, f.sum, f.cnt, CLEAN);
      putColumn(fw, k, f.min, f.cnt, PLAIN);
      putColumn(fw, k, f.max, f.cnt, PLAIN);
      putColumn(fw, k, f.last, f.cnt, PLAIN);
      putColumn(fw, k, f.lastTs, f.cnt, MINUS_START, false, c.start);
    }
    const block = fw.done();
    w.uvar(block.length);
    w.bytes(block);
  }
  putColumn(w, k, c.energyJ, null, CLEAN);
  putColumn(w, k, c.energyPairs, null, PLAIN);
  if (deflate) return deflateFitted(w.done());
  const encoded = w.done();
  const out = alloc(encoded.length + 1);
  out[0] = NOT_DEFLATED;
  out.set(encoded, 1);
  return out;
}

/**
 * First byte of a row stored without deflate (a short-lived row rewritten at every fold: an open
 * hour's 10-minute row, server/store/writer/hour-seal.ts). No raw deflate stream starts with it: it
 * would be a final block of the reserved type 3.
 */
const NOT_DEFLATED = 0xff;

const PLAIN = 0;
const CLEAN = 1;
const MINUS_START = 2;

/**
 * Write one column from `src[0..k)`. With `mask`, only the buckets whose mask is > 0 count:
 * `withNulls` writes a column of k with nulls for the others, else a column of just those values.
 * Returns how many values were written.
 */
function putColumn(w: Writer, k: number, src: Float64Array, mask: Float64Array | null, op: number, withNulls = false, start?: Float64Array): number {
  const { values, bits } = prepareScratch(k);
  let count = 0;
  for (let j = 0; j < k; j++) {
    if (mask !== null && !(mask[j] > 0)) continue;
    const v = src[j];
    values[count++] = op === CLEAN ? clean(v) : op === MINUS_START ? v - start![j] : v;
    if (withNulls) bits[j >> 3] |= 1 << (j & 7);
  }
  writeScratchColumn(w, withNulls ? k : count, count);
  return count;
}

/**
 * Decode a row into `into` (see RowColumns). With `only` (indexes into ROLLUP_FIELDS), other
 * fields are skipped and left undecoded; with `energy` false the energy columns are not read:
 * a query for two fields does not decode the other eight.
 */
export function decodeRollupColumns(data: Buffer, rowStart: number, bucketMs: number, into: RowColumns, only?: ReadonlySet<number>, energy = true): RowColumns {
  const r = new Reader(data[0] === NOT_DEFLATED ? data.subarray(1) : inflateRawSync(data));
  const version = r.byte();
  if (version !== 1 && version !== VERSION) throw new Error(`rollup row version ${version} is not supported`);
  const k = r.uvar();
  into.prepare(k, only, energy);
  let off = 0;
  for (let j = 0; j < k; j++) {
    off += r.uvar();
    into.start[j] = rowStart + off * bucketMs;
  }
  readColumnInto(r, k, into.n, 0);
  const at = into.at;
  for (let i = 0; i < ROLLUP_FIELDS.length; i++) {
    const blockLength = version >= 2 ? r.uvar() : -1;
    const c = into.fields[i];
    if (!c) {
      if (blockLength >= 0) r.pos += blockLength;
      else {
        // Version 1: the count column says how many buckets have the field; its five stats columns follow.
        const present = skipColumn(r, k);
        if (present > 0) for (let s = 0; s < 5; s++) skipColumn(r, present);
      }
      continue;
    }
    readColumnInto(r, k, c.cnt, 0);
    let p = 0;
    for (let j = 0; j < k; j++) if (c.cnt[j] > 0) at[p++] = j;
    if (p === 0) continue;
    readColumnInto(r, p, c.sum, 0, at);
    readColumnInto(r, p, c.min, 0, at);
    readColumnInto(r, p, c.max, 0, at);
    readColumnInto(r, p, c.last, 0, at);
    readColumnInto(r, p, c.lastTs, 0, at);
    for (let q = 0; q < p; q++) c.lastTs[at[q]] += into.start[at[q]];
  }
  if (energy) {
    readColumnInto(r, k, into.energyJ, 0);
    readColumnInto(r, k, into.energyPairs, 0);
  }
  return into;
}

/** Columns decodeRollupRow decodes into before it builds the objects (reused: decoding is synchronous). */
const scratch = new RowColumns();

/** Decode a row into bucket objects (see decodeRollupColumns for `only` and `energy`). */
export function decodeRollupRow(data: Buffer, rowStart: number, bucketMs: number, only?: ReadonlySet<number>, energy = true): RollupBucket[] {
  return bucketsOf(decodeRollupColumns(data, rowStart, bucketMs, scratch, only, energy));
}
