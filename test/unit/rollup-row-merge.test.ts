import { describe, expect, it } from 'vitest';
import { cloneBucket, emptyBucket, mergeBucket, type RollupBucket } from '../../server/rollups/rollup-bucket.ts';
import { decodeRollupRow, encodeRollupRow } from '../../server/rollups/rollup-codec.ts';
import { mergeRollupRow } from '../../server/rollups/rollup-row-merge.ts';
import { ROLLUP_FIELDS, TIERS } from '../../server/rollups/rollup-fields.ts';
import { bucketsOf, columnsOf, mergeColumns, RowColumns } from '../../server/rollups/rollup-columns.ts';
import { ByteSlabs } from '../../server/codec/byte-slabs.ts';

const MIN = TIERS['1m'].bucketMs;
const ROW = 1_700_000_000_000 - (1_700_000_000_000 % TIERS['1m'].rowSpanMs);

/** A small seeded generator, so a failing case is the same case on every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A bucket at minute `m` of the row with some fields absent, values with and without decimals. */
function bucket(r: () => number, m: number): RollupBucket {
  const b = emptyBucket(ROW + m * MIN);
  b.n = 1 + Math.floor(r() * 60);
  b.f = ROLLUP_FIELDS.map(() => {
    if (r() < 0.25) return null;
    const cnt = 1 + Math.floor(r() * b.n);
    const v = () => (r() < 0.5 ? Math.round(r() * 1000) : Math.round(r() * 1e6) / 1000);
    const [a, c] = [v(), v()];
    return { cnt, sum: v() * cnt, min: Math.min(a, c), max: Math.max(a, c), last: v(), lastTs: b.start + Math.floor(r() * MIN) };
  });
  b.energyJ = r() < 0.3 ? 0 : Math.round(r() * 1e5) / 10;
  b.energyPairs = b.energyJ === 0 ? 0 : Math.floor(r() * 60);
  return b;
}

/** The reference: the merge on bucket objects, as the fold merged before it went column-wise. */
function mergeObjects(stored: RollupBucket[], delta: Map<number, RollupBucket>): RollupBucket[] {
  const byStart = new Map(stored.map((b) => [b.start, cloneBucket(b)]));
  for (const [start, d] of delta) {
    const b = byStart.get(start);
    if (b) mergeBucket(b, d);
    else byStart.set(start, cloneBucket(d));
  }
  return [...byStart.values()].sort((a, b) => a.start - b.start);
}

const minutes = (r: () => number, n: number) => [...new Set(Array.from({ length: n }, () => Math.floor(r() * 60)))].sort((a, b) => a - b);

describe('merging a fold delta into a stored rollup row, column-wise', () => {
  it.each([
    ['the usual step: the newest bucket grows and one follows it', 1, [40, 41]],
    ['late minutes between and before the stored ones', 2, [0, 7, 33]],
    ['a delta wholly after the stored buckets', 3, [50, 51, 52, 53]],
    ['every minute of the hour', 4, Array.from({ length: 60 }, (_, m) => m)],
  ])('%s: same buckets and bytes as merging objects', (_name, seed, deltaMinutes) => {
    const r = rng(seed);
    const stored = minutes(r, 40).filter((m) => m <= 41).map((m) => bucket(r, m));
    const delta = new Map(deltaMinutes.map((m) => [ROW + m * MIN, bucket(r, m)] as const));
    const want = mergeObjects(stored, delta);
    const got = mergeRollupRow(encodeRollupRow(ROW, MIN, stored), ROW, MIN, delta);
    expect(decodeRollupRow(got, ROW, MIN)).toEqual(decodeRollupRow(encodeRollupRow(ROW, MIN, want), ROW, MIN));
    expect(got.equals(encodeRollupRow(ROW, MIN, want))).toBe(true);
  });

  it('200 random rows and deltas agree with the object merge', () => {
    const r = rng(99);
    for (let c = 0; c < 200; c++) {
      const stored = minutes(r, Math.floor(r() * 60)).map((m) => bucket(r, m));
      const delta = new Map(minutes(r, 1 + Math.floor(r() * 5)).map((m) => [ROW + m * MIN, bucket(r, m)] as const));
      const want = encodeRollupRow(ROW, MIN, mergeObjects(stored, delta));
      const data = stored.length ? encodeRollupRow(ROW, MIN, stored) : null;
      expect(mergeRollupRow(data, ROW, MIN, delta).equals(want), `case ${c}`).toBe(true);
    }
  });

  it('no stored row: the delta alone, and the delta buckets are left as they were', () => {
    const r = rng(7);
    const d = bucket(r, 12);
    const before = cloneBucket(d);
    const delta = new Map([[d.start, d]]);
    expect(decodeRollupRow(mergeRollupRow(null, ROW, MIN, delta), ROW, MIN)).toEqual(decodeRollupRow(encodeRollupRow(ROW, MIN, [d]), ROW, MIN));
    mergeRollupRow(encodeRollupRow(ROW, MIN, [bucket(r, 12)]), ROW, MIN, delta);
    expect(d).toEqual(before);
  });

  it('counts and sums add, min and max combine, the later `last` wins', () => {
    const a = emptyBucket(ROW);
    a.n = 2;
    a.f[0] = { cnt: 2, sum: 30, min: 10, max: 20, last: 20, lastTs: ROW + 1000 };
    const b = emptyBucket(ROW);
    b.n = 1;
    b.f[0] = { cnt: 1, sum: 5, min: 5, max: 5, last: 5, lastTs: ROW + 2000 };
    b.energyJ = 12.5;
    b.energyPairs = 1;
    const [m] = decodeRollupRow(mergeRollupRow(encodeRollupRow(ROW, MIN, [a]), ROW, MIN, new Map([[ROW, b]])), ROW, MIN);
    expect(m.n).toBe(3);
    expect(m.f[0]).toEqual({ cnt: 3, sum: 35, min: 5, max: 20, last: 5, lastTs: ROW + 2000 });
    expect(m.f.slice(1).every((f) => f === null)).toBe(true);
    expect([m.energyJ, m.energyPairs]).toEqual([12.5, 1]);
  });
});

describe('rows stored without deflate', () => {
  it('decode as the deflated row does, and merge into either form', () => {
    const r = rng(11);
    const stored = [3, 4, 5].map((m) => bucket(r, m));
    const delta = new Map([[ROW + 5 * MIN, bucket(r, 5)], [ROW + 6 * MIN, bucket(r, 6)]] as const);
    const deflated = mergeRollupRow(encodeRollupRow(ROW, MIN, stored), ROW, MIN, delta);
    const plain = mergeRollupRow(encodeRollupRow(ROW, MIN, stored), ROW, MIN, delta, false, false);
    expect(plain[0]).toBe(0xff);
    expect(plain.length).toBeGreaterThan(deflated.length);
    expect(decodeRollupRow(plain, ROW, MIN)).toEqual(decodeRollupRow(deflated, ROW, MIN));
    // A plain row merged again and deflated: the same bytes as merging the deflated one.
    const next = new Map([[ROW + 7 * MIN, bucket(r, 7)]]);
    expect(mergeRollupRow(plain, ROW, MIN, next).equals(mergeRollupRow(deflated, ROW, MIN, next))).toBe(true);
  });
});

describe('merging delta columns into a row\'s columns (a chip\'s open row, open-chip-rows.ts)', () => {
  it.each([
    ['the usual step: the newest bucket grows and one follows it', 21, [40, 41], 0, 2],
    ['late minutes between and before the stored ones', 22, [0, 7, 33], 0, 3],
    ['only part of the delta: the buckets of one row', 23, [38, 39, 40, 41, 42], 1, 4],
    ['no stored buckets', 24, [5, 6], 0, 2],
  ])('%s: the buckets the object merge makes', (_name, seed, deltaMinutes, from, to) => {
    const r = rng(seed);
    const stored = seed === 24 ? [] : minutes(r, 40).filter((m) => m <= 41).map((m) => bucket(r, m));
    const deltaBuckets = deltaMinutes.map((m) => bucket(r, m));
    const want = mergeObjects(stored, new Map(deltaBuckets.slice(from, to).map((b) => [b.start, b] as const)));
    const storedCols = stored.length ? columnsOf(stored, new RowColumns()) : null;
    const got = mergeColumns(storedCols, columnsOf(deltaBuckets, new RowColumns()), from, to, new RowColumns());
    expect(bucketsOf(got)).toEqual(want);
  });

  it('200 random rows and deltas agree with the object merge', () => {
    const r = rng(199);
    const [a, b, out] = [new RowColumns(), new RowColumns(), new RowColumns()];
    for (let c = 0; c < 200; c++) {
      const stored = minutes(r, Math.floor(r() * 60)).map((m) => bucket(r, m));
      const delta = minutes(r, 1 + Math.floor(r() * 5)).map((m) => bucket(r, m));
      const want = mergeObjects(stored, new Map(delta.map((d) => [d.start, d] as const)));
      expect(bucketsOf(mergeColumns(stored.length ? columnsOf(stored, a) : null, columnsOf(delta, b), 0, delta.length, out)), `case ${c}`).toEqual(want);
    }
  });
});

describe('byte slabs', () => {
  it('hand out slices that do not overlap, and a new slab when one is full', () => {
    const slabs = new ByteSlabs(1024);
    const got = [100, 200, 250, 256, 240, 10].map((n, i) => slabs.take(n).fill(i + 1));
    got.forEach((b, i) => expect([b.length, b.every((x) => x === i + 1)]).toEqual([[100, 200, 250, 256, 240, 10][i], true]));
    expect(got[0].buffer).toBe(got[2].buffer);
    // 100 + 200 + 250 + 256 = 806 bytes: the next 240 start a new slab.
    expect(got[4].buffer).not.toBe(got[0].buffer);
    expect(got[5].buffer).toBe(got[4].buffer);
  });

  it('a string over a quarter of a slab gets a buffer of its own', () => {
    const slabs = new ByteSlabs(1024);
    const small = slabs.take(10);
    const big = slabs.take(257);
    expect(big.length).toBe(257);
    expect(big.buffer).not.toBe(small.buffer);
    expect(big.byteLength).toBe(big.buffer.byteLength);
  });
});
