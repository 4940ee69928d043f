/**
 * Raw deflate at level 1 with zlib's window and hash table sized to the input. Most of what the
 * store deflates is small (a chip's rollup row is 100–400 bytes, a fold's chunk a few KB), and
 * setting up the default 32 KB window and 64K-entry hash table then costs more than compressing:
 * fitted, a 400-byte row deflates in ~10 µs instead of ~14 µs, to the same bytes. A window never
 * needs to exceed the input plus zlib's lookahead (262 bytes). Any inflater reads the result
 * (inflateRawSync's default window takes every smaller one).
 *
 * The result is copied out at its exact size: zlib writes into an output buffer of `chunkSize`
 * (16 KB by default) and returns a view of it, so a 300-byte row kept until its fold step
 * commits held 16 KB — a step's 30,000 rows and chunks held ~500 MB.
 */
import { deflateRawSync } from 'node:zlib';

/** zlib's minimum lookahead: a window this much bigger than the input finds every match in it. */
const LOOKAHEAD = 262;

export function deflateFitted(data: Uint8Array): Buffer {
  const windowBits = Math.min(15, Math.max(9, Math.ceil(Math.log2(data.byteLength + LOOKAHEAD))));
  // Level 1 output exceeds its input by at most a few bytes per 16 KB block.
  const chunkSize = Math.max(64, data.byteLength + 64);
  const out = deflateRawSync(data, { level: 1, windowBits, memLevel: Math.min(8, Math.max(1, windowBits - 6)), chunkSize });
  return out.byteLength === out.buffer.byteLength ? out : Buffer.from(out);
}
