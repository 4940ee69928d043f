import { describe, expect, it } from 'vitest';
import { prepareScratch, readColumn, readColumnInto, Reader, skipColumn, Writer, writeScratchColumn } from '../../server/codec/column-codec.ts';
import { createPrng } from '../../agents/sources/prng.ts';

/** A column of `values` written with writeScratchColumn; its bytes. */
function written(values: (number | null)[], secondOrder: boolean): Buffer {
  const n = values.length;
  const { values: scratch, bits } = prepareScratch(n);
  let count = 0;
  values.forEach((v, i) => {
    if (v === null) return;
    scratch[count++] = v;
    bits[i >> 3] |= 1 << (i & 7);
  });
  const w = new Writer(16);
  writeScratchColumn(w, n, count, secondOrder);
  w.byte(0xee); // a marker after the column: readers must stop right before it
  return Buffer.from(w.done());
}

const rng = createPrng(7);
// An energy counter with 3 decimals: rises by 690-691 J a sample (a steady ~690 W).
let e = 28_613_630.172;
const counter = Array.from({ length: 300 }, () => (e = Math.round((e + 690 + rng.next()) * 1000) / 1000));
const walk = Array.from({ length: 300 }, () => Math.round(rng.next() * 70000) / 100);
const withNulls = counter.map((v, i) => (i % 7 === 3 ? null : v));

describe('column codec', () => {
  it.each([
    // name, values, secondOrder allowed, mode byte expected
    ['counter, deltas of deltas allowed', counter, true, 0x33],
    ['counter, deltas only', counter, false, 0x31],
    ['random walk, deltas of deltas allowed: deltas are shorter', walk, true, 0x21],
    ['counter with nulls', withNulls, true, 0x33],
    ['integers that rise by 1000', Array.from({ length: 50 }, (_, i) => i * 1000), true, 0x03],
    ['floats past three decimals', [0.1 + 0.2, 1 / 3, null], true, 0x02],
    ['all null', [null, null], true, 0x00],
  ] as const)('%s: the mode expected, read back exactly by readColumn, readColumnInto and skipColumn', (_name, values, secondOrder, mode) => {
    const bytes = written([...values], secondOrder);
    expect(bytes[0]).toBe(mode);
    const r = new Reader(bytes);
    expect(readColumn(r, values.length)).toEqual(values);
    expect(r.byte()).toBe(0xee);
    const into = new Float64Array(values.length);
    const r2 = new Reader(bytes);
    readColumnInto(r2, values.length, into, -1);
    expect([...into]).toEqual(values.map((v) => v ?? -1));
    expect(r2.byte()).toBe(0xee);
    const r3 = new Reader(bytes);
    expect(skipColumn(r3, values.length)).toBe(values.filter((v) => v !== null).length);
    expect(r3.byte()).toBe(0xee);
  });

  it('takes fewer bytes for a counter with deltas of deltas', () => {
    expect(written(counter, true).length).toBeLessThan(written(counter, false).length * 0.8);
  });

  it('refuses a mode it does not know', () => {
    for (const mode of [0x04, 0x41, 0x43]) {
      expect(() => readColumn(new Reader(Buffer.from([mode, 0, 0])), 1)).toThrow(`unknown column mode ${mode}`);
      expect(() => readColumnInto(new Reader(Buffer.from([mode, 0, 0])), 1, new Float64Array(1), 0)).toThrow(/unknown column mode/);
    }
  });
});
