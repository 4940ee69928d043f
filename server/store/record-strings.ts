/**
 * The strings section of a sample record (sample-records.ts): chip ids and extras keys, each as a
 * u16 byte length and its UTF-8, or — from version 2 — an NVIDIA GPU UUID (`GPU-` and 32 lowercase
 * hex digits in 8-4-4-4-12, the form agents report chip ids in) as the length 0xFFFF and its 16
 * bytes: 18 bytes instead of 42 for most GPU chips. Any other text, an uppercase UUID included,
 * stays text. Pure: no I/O.
 */

/** The length that marks a GPU UUID entry (no chip id or extras key is that long). */
const GPU_UUID = 0xffff;
const GPU_UUID_TEXT = /^GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));
const utf8Decoder = new TextDecoder();

/** The entry of `s` as version 2 writes it. */
function entryBytes(s: string): Buffer {
  if (GPU_UUID_TEXT.test(s)) {
    const b = Buffer.allocUnsafe(18);
    b.writeUInt16LE(GPU_UUID, 0);
    b.write(s.slice(4).replaceAll('-', ''), 2, 'hex');
    return b;
  }
  return textEntry(s);
}

/** `s`'s entry as text: its u16 byte length and UTF-8 (every entry in version 1, all but GPU UUIDs from version 2). */
export function textEntry(s: string): Buffer {
  const utf8 = Buffer.from(s, 'utf8');
  const b = Buffer.allocUnsafe(2 + utf8.length);
  b.writeUInt16LE(utf8.length, 0);
  utf8.copy(b, 2);
  return b;
}

/**
 * Entries of chip ids and extras keys seen lately: bounded, but well above a large hub's 100,000
 * chips (at 100,000 it started over every few seconds there).
 */
const entryCache = new Map<string, Buffer>();

/** The bytes of `s`'s entry (shared: copy them, do not change them). */
export function stringEntry(s: string): Buffer {
  let b = entryCache.get(s);
  if (!b) {
    if (entryCache.size >= 500_000) entryCache.clear();
    entryCache.set(s, (b = entryBytes(s)));
  }
  return b;
}

/** The GPU UUID text of 16 bytes at p. */
function gpuUuid(bytes: Uint8Array, p: number): string {
  let t = 'GPU-';
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) t += '-';
    t += HEX[bytes[p + i]];
  }
  return t;
}

/** What readStringEntry read (one object, reused: read it before the next call). */
const read = { text: '', end: 0 };

/** The entry at p: its text and the offset after it. `uuids`: the record's version writes GPU UUID entries. */
export function readStringEntry(bytes: Uint8Array, p: number, uuids: boolean): { readonly text: string; readonly end: number } {
  const len = bytes[p] | (bytes[p + 1] << 8);
  if (len === GPU_UUID && uuids) {
    read.text = gpuUuid(bytes, p + 2);
    read.end = p + 18;
  } else {
    read.text = utf8Decoder.decode(bytes.subarray(p + 2, p + 2 + len));
    read.end = p + 2 + len;
  }
  return read;
}
