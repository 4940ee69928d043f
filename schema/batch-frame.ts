/**
 * Binary batch frames: the `batch` message of /ws/agent as one binary WebSocket frame instead of
 * JSON text, so neither side formats or parses numbers as text. A hub that takes them lists
 * `binary-batch` in its `welcome` features; an agent sends them only to such a hub (JSON stays for
 * every other frame, for older hubs and for debugging). Pure, Node and zod free.
 *
 * Decoding gives the very object `JSON.parse` gives for the same batch in JSON (`{ v, type, seq,
 * samples, ... }`), so the hub validates both encodings with the same checks and answers them with
 * the same codes and messages; only what cannot be said in this layout is refused here.
 *
 * Layout (varint: unsigned LEB128 up to 2^53; f64: IEEE 754 little-endian; strings: varint byte
 * length, then UTF-8):
 *   u8 0xB2 (a binary frame; JSON frames start with `{`), u8 1 (batch)
 *   varint seq
 *   u8 frame bits: 1 `backfill` given, 2 its value, 4 a tail follows the samples
 *   varint chip-id count, then each chip id (string)
 *   varint sample count, then each sample:
 *     varint chip index (into the chip ids), f64 ts
 *     u8 which of SAMPLE_FIELDS 0..7 (utilPct … energyJ) hold a number (bit i), the rest null
 *     u8 two bits each for smClockMhz, eccCorrected, eccUncorrected (bits 0-1, 2-3, 4-5): 0 absent,
 *        1 null, 2 a number; bit 6 `flags` present, bit 7 `extras` present
 *     f64 of each field holding a number, in field order
 *     flags: u8, two bits each for powerEstimated, energyDerived, backfill: 0 absent, 1 false, 2 true
 *     extras: varint key count, then each key (string) and its value (f64)
 *   tail: string, a JSON object holding only the batch's `health`, `dropped` and `work`
 */
import type { ErrorCode } from './error-codes.ts';
import type { Sample, SampleFlags } from './sample.ts';
import { MAX_EXTRAS_KEYS, OPTIONAL_SAMPLE_FIELDS, SAMPLE_FIELDS } from './sample-limits.ts';
import type { BatchMessage } from './protocol.ts';
import { MAX_BATCH_SAMPLES, PROTOCOL_VERSION } from './protocol-constants.ts';

/** The `welcome` feature that tells an agent the hub takes binary batch frames. */
export const BINARY_BATCH_FEATURE = 'binary-batch';
/** First byte of every binary frame. */
export const BINARY_FRAME_MARK = 0xb2;
/** Second byte of a batch frame. */
export const KIND_BATCH = 1;

const REQUIRED = SAMPLE_FIELDS.slice(0, 8);
const FLAG_NAMES = ['powerEstimated', 'energyDerived', 'backfill'] as const;
/** Keys a sample may have in this layout (anything else: the batch goes as JSON). */
const SAMPLE_KEYS: ReadonlySet<string> = new Set(['ts', 'chipId', ...SAMPLE_FIELDS, 'flags', 'extras']);
/** Keys a batch may have; those after `backfill` travel in the tail. */
const TAIL_KEYS = ['health', 'dropped', 'work'] as const;
const BATCH_KEYS: ReadonlySet<string> = new Set(['v', 'type', 'seq', 'samples', 'backfill', ...TAIL_KEYS]);
/** Bytes every sample takes at least (chip index, ts, two mask bytes): a count the frame cannot hold is refused before anything is built. */
const MIN_SAMPLE_BYTES = 1 + 8 + 2;

const utf8 = new TextEncoder();
/** Strings up to this many bytes are read byte by byte when they are ASCII. */
const SHORT_STRING = 128;
const fromUtf8 = new TextDecoder();

/** A growing byte buffer the encoder writes into. */
class Out {
  buf = new Uint8Array(4096);
  view = new DataView(this.buf.buffer);
  n = 0;
  room(k: number) {
    if (this.n + k <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.n + k));
    bigger.set(this.buf.subarray(0, this.n));
    this.buf = bigger;
    this.view = new DataView(bigger.buffer);
  }
  byte(b: number) {
    this.room(1);
    this.buf[this.n++] = b;
  }
  uvar(v: number) {
    this.room(8);
    while (v >= 0x80) {
      this.buf[this.n++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.n++] = v;
  }
  f64(v: number) {
    this.room(8);
    // -0 goes as 0, as in JSON.
    this.view.setFloat64(this.n, v === 0 ? 0 : v, true);
    this.n += 8;
  }
  str(s: string) {
    const len = s.length;
    this.room(len + 8);
    if (!isAscii(s)) {
      const b = utf8.encode(s);
      this.uvar(b.length);
      this.room(b.length);
      this.buf.set(b, this.n);
      this.n += b.length;
      return;
    }
    this.uvar(len);
    for (let i = 0; i < len; i++) this.buf[this.n++] = s.charCodeAt(i);
  }
}

const isNum = (x: unknown): x is number => typeof x === 'number';
const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;

/** 0 absent, 1 null, 2 a number; -1: not representable. */
function optionalCode(x: unknown): number {
  if (x === undefined) return 0;
  if (x === null) return 1;
  return isNum(x) ? 2 : -1;
}

function flagsByte(flags: unknown): number {
  if (typeof flags !== 'object' || flags === null || Array.isArray(flags)) return -1;
  let bits = 0;
  for (const k of Object.keys(flags)) if (!(FLAG_NAMES as readonly string[]).includes(k)) return -1;
  for (let i = 0; i < 3; i++) {
    const f = (flags as Record<string, unknown>)[FLAG_NAMES[i]];
    if (f === undefined) continue;
    if (typeof f !== 'boolean') return -1;
    bits |= (f ? 2 : 1) << (2 * i);
  }
  return bits;
}

/**
 * The batch as one binary frame, or null when it holds something this layout cannot say (a key
 * the protocol does not have, a value of the wrong kind, too many samples or extras): such a batch
 * goes as JSON, and the hub answers it as it answers any JSON batch.
 */
export function encodeBatchFrame(msg: BatchMessage): Uint8Array | null {
  for (const k of Object.keys(msg)) if (!BATCH_KEYS.has(k)) return null;
  const samples: readonly unknown[] = msg.samples;
  if (!Array.isArray(samples) || samples.length > MAX_BATCH_SAMPLES || !isCount(msg.seq)) return null;
  if (msg.backfill !== undefined && typeof msg.backfill !== 'boolean') return null;
  const tail: Record<string, unknown> = {};
  let hasTail = false;
  for (const k of TAIL_KEYS) {
    if (msg[k] !== undefined) {
      tail[k] = msg[k];
      hasTail = true;
    }
  }
  const out = new Out();
  out.byte(BINARY_FRAME_MARK);
  out.byte(KIND_BATCH);
  out.uvar(msg.seq);
  out.byte((msg.backfill !== undefined ? 1 : 0) | (msg.backfill ? 2 : 0) | (hasTail ? 4 : 0));
  const chipIndex = new Map<string, number>();
  for (const s of samples) {
    const id = (s as Partial<Sample> | null)?.chipId;
    if (typeof id !== 'string') return null;
    if (!chipIndex.has(id)) chipIndex.set(id, chipIndex.size);
  }
  out.uvar(chipIndex.size);
  for (const id of chipIndex.keys()) out.str(id);
  out.uvar(samples.length);
  for (const raw of samples) {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
    const s = raw as Record<string, unknown>;
    for (const k of Object.keys(s)) if (!SAMPLE_KEYS.has(k)) return null;
    if (!isNum(s.ts)) return null;
    out.uvar(chipIndex.get(s.chipId as string)!);
    out.f64(s.ts);
    let required = 0;
    for (let i = 0; i < 8; i++) {
      const x = s[REQUIRED[i]];
      if (isNum(x)) required |= 1 << i;
      else if (x !== null) return null;
    }
    let optional = 0;
    for (let i = 0; i < 3; i++) {
      const code = optionalCode(s[OPTIONAL_SAMPLE_FIELDS[i]]);
      if (code < 0) return null;
      optional |= code << (2 * i);
    }
    const flags = s.flags === undefined ? 0 : flagsByte(s.flags);
    if (flags < 0) return null;
    const extras = s.extras;
    let extraKeys: string[] | null = null;
    if (extras !== undefined) {
      if (typeof extras !== 'object' || extras === null || Array.isArray(extras)) return null;
      extraKeys = Object.keys(extras);
      if (extraKeys.length > MAX_EXTRAS_KEYS) return null;
      for (const k of extraKeys) if (!isNum((extras as Record<string, unknown>)[k])) return null;
    }
    out.byte(required);
    out.byte(optional | (s.flags !== undefined ? 0x40 : 0) | (extraKeys ? 0x80 : 0));
    for (let i = 0; i < 8; i++) if (required & (1 << i)) out.f64(s[REQUIRED[i]] as number);
    for (let i = 0; i < 3; i++) if (((optional >> (2 * i)) & 3) === 2) out.f64(s[OPTIONAL_SAMPLE_FIELDS[i]] as number);
    if (s.flags !== undefined) out.byte(flags);
    if (extraKeys) {
      out.uvar(extraKeys.length);
      for (const k of extraKeys) {
        out.str(k);
        out.f64((extras as Record<string, number>)[k]);
      }
    }
  }
  if (hasTail) out.str(JSON.stringify(tail));
  return out.buf.slice(0, out.n);
}

export type DecodedBinaryFrame = { ok: true; rec: Record<string, unknown> } | { ok: false; code: ErrorCode; message: string };

class Truncated extends Error {}
/** A refusal found while reading, thrown to the frame's decode and answered there. */
class Refusal extends Error {
  constructor(readonly code: ErrorCode, message: string) {
    super(message);
  }
}

/** Reads a frame; reading past its end throws (Truncated), as does a varint over 8 bytes. */
export class FrameReader {
  private readonly view: DataView;
  at = 0;
  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  get left(): number {
    return this.buf.length - this.at;
  }
  byte(): number {
    if (this.at >= this.buf.length) throw new Truncated();
    return this.buf[this.at++];
  }
  uvar(): number {
    let v = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      v += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 0x80;
      if (scale > 2 ** 49) throw new Refusal('bad_frame', 'a varint of the binary frame is longer than 8 bytes');
    }
    return v;
  }
  f64(): number {
    if (this.at + 8 > this.buf.length) throw new Truncated();
    const v = this.view.getFloat64(this.at, true);
    this.at += 8;
    return v;
  }
  str(): string {
    const n = this.uvar();
    if (n > this.left) throw new Truncated();
    const bytes = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return text(bytes);
  }
  /** A chip id: the string `ids` made for the same bytes at position `i` of an earlier frame, or a new one. */
  chipId(i: number, ids: ChipIdSource): string {
    const n = this.uvar();
    if (n > this.left) throw new Truncated();
    const at = this.at;
    this.at += n;
    return ids.get(i, this.buf, at, n);
  }

  /** The `k`th extras key of a sample: the string made for the same bytes before (any frame's), or a new one. */
  extrasKey(k: number): string {
    return this.chipId(k, extrasKeys);
  }
}

/** Whether every char of `s` is ASCII (its UTF-8 bytes are its char codes). */
function isAscii(s: string): boolean {
  for (let k = 0; k < s.length; k++) if (s.charCodeAt(k) >= 0x80) return false;
  return true;
}

/** UTF-8 bytes as a string; short ASCII ones (chip ids, extras keys) built from their bytes: TextDecoder's call costs more than they do. */
function text(bytes: Uint8Array): string {
  const n = bytes.length;
  if (n <= SHORT_STRING) {
    let ascii = true;
    for (let i = 0; i < n; i++) {
      if (bytes[i] >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  }
  return fromUtf8.decode(bytes);
}

/** Where a frame's chip-id strings come from: the string for the `n` UTF-8 bytes of `buf` at `at`, chip id `i` of the frame. */
export interface ChipIdSource {
  get(i: number, buf: Uint8Array, at: number, n: number): string;
}

/** The chip ids of a frame read before: its strings, by position, taken as they are (the frame's bytes are not looked at again). */
export class KnownChipIds implements ChipIdSource {
  constructor(private readonly ids: readonly string[]) {}
  get(i: number): string {
    return this.ids[i]!;
  }
}

/**
 * The chip ids of one connection's last frames, by position: an agent names the same chips in the
 * same order in every batch, so a frame's ids are the strings made before (no new strings per
 * frame, and strings whose hashes the hub's maps have already computed). An ASCII id (every chip
 * id agents report) is compared with the frame's bytes through its own char codes, which are its
 * UTF-8; any other is decoded again each time. Keeping each id's bytes beside it took ~300 B a
 * chip (a typed array and its buffer).
 */
export class ChipIdCache implements ChipIdSource {
  private readonly strings: string[] = [];
  /** Whether the string at each position is ASCII. */
  private readonly ascii: boolean[] = [];
  /** Whether the string at each position passed `checked`'s test (undefined: not tested since it was made). */
  private readonly passed: (boolean | undefined)[] = [];

  /** `test(id)` for `id`, the string `get` gave for position `i`: tested once per string kept at `i`. */
  checked(i: number, id: string, test: (id: string) => boolean): boolean {
    if (this.strings[i] !== id) return test(id);
    return (this.passed[i] ??= test(id));
  }

  /** The string of chip id `i` whose UTF-8 bytes are the `n` of `buf` at `at` (compared in place: no view made when known). */
  get(i: number, buf: Uint8Array, at: number, n: number): string {
    const known = this.strings[i];
    if (known !== undefined && known.length === n && this.ascii[i]) {
      let same = true;
      for (let k = 0; k < n; k++) {
        if (known.charCodeAt(k) !== buf[at + k]) {
          same = false;
          break;
        }
      }
      if (same) return known;
    }
    const s = text(buf.subarray(at, at + n));
    if (i < MAX_CACHED_IDS) {
      this.strings[i] = s;
      this.ascii[i] = isAscii(s);
      this.passed[i] = undefined;
    }
    return s;
  }
}

/**
 * Extras keys by their place in a sample, shared by every frame (a source names the same keys in
 * the same order in every sample): no new strings per sample.
 */
const extrasKeys = new ChipIdCache();
/** Positions a ChipIdCache keeps (an agent announces at most 1,024 chips). */
const MAX_CACHED_IDS = 1024;

/** Set `key` on `o` as JSON.parse would: a key `__proto__` becomes an own property, not the prototype. */
function put(o: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  else o[key] = value;
}

function readSample(r: FrameReader, chipIds: readonly string[]): Sample {
  const chip = r.uvar();
  if (chip >= chipIds.length) throw new Refusal('bad_frame', `a sample names chip ${chip} of the frame's ${chipIds.length} chip ids`);
  const ts = r.f64();
  const required = r.byte();
  const optional = r.byte();
  const s: Sample = {
    ts,
    chipId: chipIds[chip],
    utilPct: required & 1 ? r.f64() : null,
    memUtilPct: required & 2 ? r.f64() : null,
    memUsedBytes: required & 4 ? r.f64() : null,
    memTotalBytes: required & 8 ? r.f64() : null,
    powerW: required & 16 ? r.f64() : null,
    powerLimitW: required & 32 ? r.f64() : null,
    tempC: required & 64 ? r.f64() : null,
    energyJ: required & 128 ? r.f64() : null,
  };
  if (optional & 0x3f) {
    for (let i = 0; i < 3; i++) {
      const code = (optional >> (2 * i)) & 3;
      if (code === 3) throw new Refusal('bad_frame', `a sample's ${OPTIONAL_SAMPLE_FIELDS[i]} has the unknown presence code 3`);
      if (code !== 0) s[OPTIONAL_SAMPLE_FIELDS[i]] = code === 2 ? r.f64() : null;
    }
  }
  if (optional & 0x40) {
    const bits = r.byte();
    const flags: SampleFlags = {};
    for (let i = 0; i < 3; i++) {
      const code = (bits >> (2 * i)) & 3;
      if (code === 3) throw new Refusal('bad_frame', `a sample's flag ${FLAG_NAMES[i]} has the unknown code 3`);
      if (code !== 0) flags[FLAG_NAMES[i]] = code === 2;
    }
    s.flags = flags;
  }
  if (optional & 0x80) {
    const n = r.uvar();
    if (n > MAX_EXTRAS_KEYS) throw new Refusal('out_of_range', `a sample has ${n} extras keys; at most ${MAX_EXTRAS_KEYS}`);
    const extras: Record<string, number> = {};
    for (let k = 0; k < n; k++) put(extras, r.extrasKey(k), r.f64());
    s.extras = extras;
  }
  return s;
}

/**
 * The batch a binary frame holds, as the object JSON.parse gives for its JSON form (with `ids`, a
 * connection's chip-id strings are reused from its earlier frames); refused with
 * `bad_frame` (not this layout, truncated, bytes left over), `unknown_type`, `bad_json` (its tail)
 * or `out_of_range` (more samples or extras than the protocol allows).
 */
export function decodeBatchFrame(buf: Uint8Array, ids?: ChipIdSource): DecodedBinaryFrame {
  if (buf.length < 2 || buf[0] !== BINARY_FRAME_MARK) return { ok: false, code: 'bad_frame', message: 'binary frames must be fleetscope binary batch frames (first byte 0xB2)' };
  if (buf[1] !== KIND_BATCH) return { ok: false, code: 'unknown_type', message: `unknown binary frame kind ${buf[1]}; expected 1 (batch)` };
  const r = new FrameReader(buf);
  r.at = 2;
  try {
    const seq = r.uvar();
    const bits = r.byte();
    if (bits & ~7) throw new Refusal('bad_frame', `unknown frame bits ${bits & ~7}`);
    const chipCount = r.uvar();
    if (chipCount > MAX_BATCH_SAMPLES) throw new Refusal('out_of_range', `${chipCount} chip ids; at most ${MAX_BATCH_SAMPLES}`);
    const chipIds: string[] = [];
    for (let i = 0; i < chipCount; i++) chipIds.push(ids ? r.chipId(i, ids) : r.str());
    const n = r.uvar();
    if (n > MAX_BATCH_SAMPLES) throw new Refusal('out_of_range', `samples: ${n} samples; at most ${MAX_BATCH_SAMPLES} per batch`);
    if (n * MIN_SAMPLE_BYTES > r.left) throw new Truncated();
    const samples: Sample[] = new Array<Sample>(n);
    for (let i = 0; i < n; i++) samples[i] = readSample(r, chipIds);
    const rec: Record<string, unknown> = { v: PROTOCOL_VERSION, type: 'batch', seq, samples };
    if (bits & 1) rec.backfill = (bits & 2) !== 0;
    if (bits & 4) {
      let tail: unknown;
      try {
        tail = JSON.parse(r.str());
      } catch (err) {
        if (err instanceof Truncated) throw err;
        return { ok: false, code: 'bad_json', message: 'the binary frame\'s tail is not valid JSON' };
      }
      if (typeof tail !== 'object' || tail === null || Array.isArray(tail)) throw new Refusal('bad_frame', 'the binary frame\'s tail must be a JSON object');
      for (const k of Object.keys(tail)) {
        if (!(TAIL_KEYS as readonly string[]).includes(k)) throw new Refusal('bad_frame', `the binary frame's tail may hold only ${TAIL_KEYS.join(', ')}; it holds ${JSON.stringify(k)}`);
        rec[k] = (tail as Record<string, unknown>)[k];
      }
    }
    if (r.left !== 0) throw new Refusal('bad_frame', `${r.left} bytes after the end of the binary batch frame`);
    return { ok: true, rec };
  } catch (err) {
    if (err instanceof Truncated) return { ok: false, code: 'bad_frame', message: `the binary batch frame is truncated (${buf.length} bytes)` };
    if (err instanceof Refusal) return { ok: false, code: err.code, message: err.message };
    throw err;
  }
}
