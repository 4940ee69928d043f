/**
 * A binary batch frame (schema/batch-frame.ts) read straight into the sample record the store
 * writes (server/store/sample-records.ts), checked on the way exactly as its decoded form would be
 * (schema/fast-batch-check.ts, the time window included), without making a sample object: the hub
 * otherwise decodes every frame into objects, checks them, encodes them into a record and, after
 * the commit, decodes the frame again for the fleet state, live fan-out and alerting.
 *
 * Only the common frame is taken here. Anything else gives null and goes the object way
 * (parseBinaryAgentFrame), which also gives a refused frame its code and message: a backfill
 * flag, a value out of range, a chip id or extras key that is not plain, a duplicate extras key,
 * an extras key that starts with a digit (an object orders such keys first), a tail that is not
 * what the fast check passes, a truncated frame. So a frame taken here is one the object way
 * takes too, and its record has the same bytes (test/unit/frame-record.test.ts).
 */
import { BINARY_FRAME_MARK, FrameReader, KIND_BATCH, KnownChipIds, type ChipIdCache } from '../../schema/batch-frame.ts';
import { isChipId, isPassThroughExtrasKey, isPassThroughTailFast } from '../../schema/fast-batch-check.ts';
import { CANONICAL_FIELDS } from '../line-protocol/line-fields.ts';
import { MAX_BATCH_SAMPLES } from '../../schema/protocol.ts';
import { MAX_EXTRAS_KEYS, SAMPLE_FIELDS } from '../../schema/sample.ts';
import { windowBounds, type TimeWindow } from '../../schema/time-window.ts';
import type { BatchReport } from '../ingest.ts';
import { RecordWriter, type RowExtras } from '../store/sample-records.ts';
import { SampleKeys } from '../store/unfolded-log-index.ts';

/** A frame as the store takes it. */
export interface FrameRecord {
  seq: number;
  /** The samples as one sample record, and the chip id and ts of each of its rows. */
  record: Uint8Array;
  keys: SampleKeys;
  /** The frame's tail: `health`, `dropped`, `work` (each absent when the frame has none). */
  report: BatchReport;
  /** The chip ids its samples name. */
  chips: string[];
  /** The frame's chip ids, for decoding it again (its bytes were compared with the connection's ids here). */
  known: KnownChipIds;
}

/** Fields a frame always carries (SAMPLE_FIELDS 0..7); the three after them are optional. */
const REQUIRED = 8;
const fields: (number | null | undefined)[] = new Array(SAMPLE_FIELDS.length).fill(null);
const extras: RowExtras = { keys: [], values: [], n: 0 };
const extrasNames: string[] = [];

/** The frame's record, or null: the frame goes the object way (see above). Never throws. */
export function frameToRecord(buf: Uint8Array, now: number, window: TimeWindow | undefined, ids: ChipIdCache): FrameRecord | null {
  if (buf.length < 2 || buf[0] !== BINARY_FRAME_MARK || buf[1] !== KIND_BATCH) return null;
  try {
    return readFrame(buf, now, window, ids);
  } catch {
    return null; // truncated, or a varint too long: the object way says so
  }
}

/** Each field's bounds by SAMPLE_FIELDS slot, as sampleSchema declares them (line-fields.ts reads them from it). */
const MIN = new Float64Array(SAMPLE_FIELDS.length);
const MAX = new Float64Array(SAMPLE_FIELDS.length);
for (const f of CANONICAL_FIELDS.values()) {
  MIN[f.slot] = f.min;
  MAX[f.slot] = f.max;
}

/** A number within field `f`'s bounds (NaN is not). */
function inBounds(f: number, v: number): boolean {
  return v >= MIN[f]! && v <= MAX[f]!;
}

function readFrame(buf: Uint8Array, now: number, window: TimeWindow | undefined, ids: ChipIdCache): FrameRecord | null {
  const r = new FrameReader(buf);
  r.at = 2;
  const seq = r.uvar();
  if (!Number.isSafeInteger(seq)) return null;
  const bits = r.byte();
  if (bits & ~4) return null; // a backfill flag, or bits the layout does not have
  const chipCount = r.uvar();
  if (chipCount > MAX_BATCH_SAMPLES) return null;
  const chipIds = new Array<string>(chipCount);
  for (let i = 0; i < chipCount; i++) {
    const id = r.chipId(i, ids);
    if (!ids.checked(i, id, isChipId)) return null;
    chipIds[i] = id;
  }
  const n = r.uvar();
  if (n < 1 || n > MAX_BATCH_SAMPLES) return null;
  const { lo, hi } = windowBounds(now, window);
  /** Each frame chip index's string number in the record (-1: not named yet). */
  const chipString = new Int32Array(chipCount).fill(-1);
  const chips: string[] = [];
  const keyIds = new Array<string>(n);
  const keyTs = new Array<number>(n);
  let w: RecordWriter | null = null;
  for (let i = 0; i < n; i++) {
    const c = r.uvar();
    if (c >= chipCount) return null;
    const ts = r.f64();
    if (!Number.isSafeInteger(ts) || ts < lo || ts > hi) return null;
    w ??= new RecordWriter(ts);
    // The chip's string is numbered before its extras keys', as encodeSampleRecord numbers them.
    let chip = chipString[c]!;
    if (chip < 0) {
      chip = chipString[c] = w.string(chipIds[c]!);
      chips.push(chipIds[c]!);
    }
    const required = r.byte();
    const optional = r.byte();
    for (let f = 0; f < REQUIRED; f++) {
      if (required & (1 << f)) {
        const v = r.f64();
        if (!inBounds(f, v)) return null;
        fields[f] = v;
      } else fields[f] = null;
    }
    for (let j = 0; j < 3; j++) {
      const code = (optional >> (2 * j)) & 3;
      const f = REQUIRED + j;
      if (code === 0) fields[f] = undefined;
      else if (code === 1) fields[f] = null;
      else if (code === 2) {
        const v = r.f64();
        if (!inBounds(f, v)) return null;
        fields[f] = v;
      } else return null;
    }
    let flagBits = 0;
    if (optional & 0x40) {
      // Two bits per flag in SAMPLE_FLAG_BITS order (0 absent, 1 false, 2 true); the record keeps the true ones.
      const fb = r.byte();
      for (let j = 0; j < 3; j++) {
        const code = (fb >> (2 * j)) & 3;
        if (code === 3) return null;
        if (code === 2) flagBits |= 1 << j;
      }
    }
    extras.n = 0;
    if (optional & 0x80) {
      const k = r.uvar();
      if (k > MAX_EXTRAS_KEYS) return null;
      for (let e = 0; e < k; e++) {
        const name = r.extrasKey(e);
        const first = name.charCodeAt(0);
        if (!isPassThroughExtrasKey(name) || (first >= 0x30 && first <= 0x39)) return null;
        for (let d = 0; d < e; d++) if (extrasNames[d] === name) return null;
        const v = r.f64();
        if (!Number.isFinite(v)) return null;
        extrasNames[e] = name;
        extras.keys[e] = w.string(name);
        extras.values[e] = v;
      }
      extras.n = k;
    }
    w.row(chip, ts, fields, flagBits, extras.n > 0 ? extras : null);
    keyIds[i] = chipIds[c]!;
    keyTs[i] = ts;
  }
  const report: BatchReport = {};
  if (bits & 4) {
    const tail: unknown = JSON.parse(r.str());
    if (!isPassThroughTailFast(tail)) return null;
    const t = tail as BatchReport;
    if (t.health !== undefined) report.health = t.health;
    if (t.dropped !== undefined) report.dropped = t.dropped;
    if (t.work !== undefined) report.work = t.work;
  }
  if (r.left !== 0) return null;
  return { seq, record: w!.finish(), keys: new SampleKeys(keyIds, keyTs), report, chips, known: new KnownChipIds(chipIds) };
}
