import { describe, expect, it } from 'vitest';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { deflateFitted } from '../../server/codec/deflate-fitted.ts';

/** Bytes like an encoded column: small deltas with a random byte now and then. */
function columnLike(size: number, seed: number): Buffer {
  const buf = Buffer.alloc(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    buf[i] = i % 4 === 0 ? (x >> 16) & 0xff : (i * 7) % 5;
  }
  return buf;
}

describe('deflateFitted', () => {
  it.each([0, 1, 100, 250, 251, 262, 263, 511, 512, 774, 775, 4096, 32_506, 32_507, 70_000])('%i bytes: inflates back exactly, no bigger than the default window makes it', (size) => {
    const data = columnLike(size, size + 1);
    const out = deflateFitted(data);
    expect(inflateRawSync(out).equals(data)).toBe(true);
    expect(out.length).toBeLessThanOrEqual(deflateRawSync(data, { level: 1 }).length);
  });

  it('finds matches as far back as the input reaches (a repeat at the far end of a 30 KB input)', () => {
    const head = columnLike(2000, 7);
    const data = Buffer.concat([head, Buffer.alloc(28_000, 3), head]);
    // The second copy of `head` is a 30,000-byte match distance away: only a full window finds it.
    expect(deflateFitted(data).length).toBeLessThan(deflateRawSync(data, { level: 1, windowBits: 14 }).length);
  });

  it.each([0, 300, 5_000, 20_000, 70_000])('%i bytes: the result holds only its own bytes (no 16 KB zlib output buffer kept alive behind a small row)', (size) => {
    const out = deflateFitted(columnLike(size, 3));
    // Either its own exact ArrayBuffer, or a slice of Node's shared 8 KB pool for small copies.
    expect(out.buffer.byteLength === out.byteLength || out.buffer.byteLength <= 8192).toBe(true);
    expect(out.buffer.byteLength).toBeLessThan(Math.max(8193, 2 * out.byteLength));
  });
});
