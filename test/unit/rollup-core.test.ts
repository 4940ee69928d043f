import { describe, expect, it } from 'vitest';
import { deflateRawSync } from 'node:zlib';
import { Writer, writeColumn } from '../../server/codec/column-codec.ts';
import { energyChanges, energyIncrement } from '../../server/rollups/energy-pairs.ts';
import { addSample, aggregate, emptyBucket, mergeBucket } from '../../server/rollups/rollup-bucket.ts';
import { bucketize } from '../../server/rollups/bucketize.ts';
import { decodeRollupRow, encodeRollupRow } from '../../server/rollups/rollup-codec.ts';
import { bucketStart, fleetKey, parseFleetKey, ROLLUP_FIELDS, TIERS } from '../../server/rollups/rollup-fields.ts';
import { sample } from '../helpers/frames.ts';

describe('energy increments', () => {
  it.each([
    ['steady counter', { ts: 0, e: 100 }, { ts: 1000, e: 130 }, 30],
    ['no change', { ts: 0, e: 100 }, { ts: 1000, e: 100 }, 0],
    ['counter reset counts the new value from zero', { ts: 0, e: 5000 }, { ts: 1000, e: 40 }, 40],
    ['exactly 5 minutes apart still pairs', { ts: 0, e: 1 }, { ts: 300_000, e: 11 }, 10],
    ['more than 5 minutes apart: unknown, not paired', { ts: 0, e: 1 }, { ts: 300_001, e: 11 }, null],
  ])('%s', (_name, a, b, want) => {
    expect(energyIncrement(a, b)).toBe(want);
  });

  it.each([
    ['append after the stored readings', [{ ts: 0, e: 0 }, { ts: 10, e: 5 }], [{ ts: 20, e: 9 }], [{ ts: 20, joules: 4, pairs: 1 }]],
    ['insert between two readings splits their pair', [{ ts: 0, e: 0 }, { ts: 20, e: 10 }], [{ ts: 10, e: 4 }], [{ ts: 20, joules: -10, pairs: -1 }, { ts: 10, joules: 4, pairs: 1 }, { ts: 20, joules: 6, pairs: 1 }]],
    ['insert before the first reading', [{ ts: 10, e: 5 }], [{ ts: 0, e: 1 }], [{ ts: 10, joules: 4, pairs: 1 }]],
    ['nothing stored: pairs among the fresh readings only', [], [{ ts: 5, e: 3 }, { ts: 0, e: 1 }], [{ ts: 5, joules: 2, pairs: 1 }]],
  ])('%s', (_name, stored, fresh, want) => {
    expect(energyChanges(stored, fresh)).toEqual(want);
  });
});

describe('rollup buckets', () => {
  it('aggregates avg/min/max/last and skips nulls', () => {
    const b = emptyBucket(0);
    addSample(b, sample('c', 2000, { utilPct: 10, tempC: null }));
    addSample(b, sample('c', 1000, { utilPct: 30, tempC: 40 }));
    expect(b.n).toBe(2);
    expect([aggregate(b, 'utilPct', 'avg'), aggregate(b, 'utilPct', 'min'), aggregate(b, 'utilPct', 'max'), aggregate(b, 'utilPct', 'last')]).toEqual([20, 10, 30, 10]);
    expect(aggregate(b, 'tempC', 'last')).toBe(40);
    expect(aggregate(emptyBucket(0), 'powerW', 'avg')).toBeNull();
  });

  it('merging buckets equals bucketing all the samples at once', () => {
    const samples = [0, 15_000, 30_000, 75_000, 90_000].map((ts, i) => sample('c', ts, { utilPct: i * 10, energyJ: 100 + i * 7 }));
    const whole = bucketize(samples, 120_000)[0];
    const parts = bucketize(samples, 60_000);
    const merged = emptyBucket(0);
    for (const p of parts) mergeBucket(merged, p);
    // The pair that crosses the minute boundary is counted once in either layout.
    expect(merged).toEqual(whole);
    expect(whole.energyJ).toBe(28);
  });

  it('bucket starts align to multiples of the width since epoch, also before 1970', () => {
    expect(bucketStart(125_000, 60_000)).toBe(120_000);
    expect(bucketStart(-1, 60_000)).toBe(-60_000);
  });

  it('fleet keys round-trip and cannot collide with chip ids', () => {
    expect(parseFleetKey(fleetKey('aws', 'Trainium2'))).toEqual({ vendor: 'aws', model: 'Trainium2' });
    expect(parseFleetKey('GPU-123')).toBeNull();
  });
});

describe('rollup row codec', () => {
  it('round-trips buckets exactly, with gaps, nulls and float noise in sums', () => {
    const rowStart = Date.UTC(2026, 10, 26, 10);
    const samples = [0, 1, 2, 7, 59].flatMap((m) =>
      [0, 20_000, 40_000].map((o, k) => sample('c', rowStart + m * 60_000 + o, { utilPct: 0.1 * (k + 1), tempC: m === 7 ? null : 50 + k, powerW: 123.456789 + k, smClockMhz: 1980 })),
    );
    const buckets = bucketize(samples, TIERS['1m'].bucketMs);
    const back = decodeRollupRow(encodeRollupRow(rowStart, 60_000, buckets), rowStart, 60_000);
    expect(back.map((b) => b.start)).toEqual(buckets.map((b) => b.start));
    back.forEach((b, i) => {
      expect(b.n).toBe(buckets[i].n);
      expect(b.energyJ).toBeCloseTo(buckets[i].energyJ, 9);
      b.f.forEach((f, k) => {
        const e = buckets[i].f[k];
        if (!e) return expect(f).toBeNull();
        expect({ ...f!, sum: 0 }).toEqual({ ...e, sum: 0 });
        expect(f!.sum).toBeCloseTo(e.sum, 9);
      });
    });
  });

  it('decodes only the asked fields, leaving the others null and the rest intact', () => {
    const rowStart = Date.UTC(2026, 10, 26, 10);
    const samples = [0, 30_000, 90_000].map((o, k) => sample('c', rowStart + o, { utilPct: 10 * k, tempC: k === 1 ? null : 40 + k, smClockMhz: 1980 }));
    const buckets = bucketize(samples, 60_000);
    const data = encodeRollupRow(rowStart, 60_000, buckets);
    const util = ROLLUP_FIELDS.indexOf('utilPct');
    const power = ROLLUP_FIELDS.indexOf('powerW');
    const back = decodeRollupRow(data, rowStart, 60_000, new Set([util, power]));
    back.forEach((b, i) => {
      b.f.forEach((st, k) => (k === util || k === power ? expect(st).toEqual(buckets[i].f[k]) : expect(st).toBeNull()));
      expect([b.start, b.n, b.energyJ, b.energyPairs]).toEqual([buckets[i].start, buckets[i].n, buckets[i].energyJ, buckets[i].energyPairs]);
    });
  });

  it('still reads rows of the first format (no field block lengths)', () => {
    const rowStart = Date.UTC(2026, 10, 26, 10);
    const buckets = bucketize([0, 30_000, 90_000].map((o, k) => sample('c', rowStart + o, { utilPct: 10 * k, powerW: 100.5 + k })), 60_000);
    // Version 1 as it was written: the same columns, without the per-field length prefix.
    const w = new Writer();
    w.byte(1);
    w.uvar(buckets.length);
    let prev = 0;
    for (const b of buckets) {
      const off = (b.start - rowStart) / 60_000;
      w.uvar(off - prev);
      prev = off;
    }
    writeColumn(w, buckets.map((b) => b.n));
    ROLLUP_FIELDS.forEach((_, i) => {
      writeColumn(w, buckets.map((b) => b.f[i]?.cnt ?? null));
      const present = buckets.filter((b) => b.f[i]);
      if (present.length === 0) return;
      for (const pick of [(b: typeof buckets[0]) => b.f[i]!.sum, (b: typeof buckets[0]) => b.f[i]!.min, (b: typeof buckets[0]) => b.f[i]!.max, (b: typeof buckets[0]) => b.f[i]!.last, (b: typeof buckets[0]) => b.f[i]!.lastTs - b.start]) writeColumn(w, present.map(pick));
    });
    writeColumn(w, buckets.map((b) => b.energyJ));
    writeColumn(w, buckets.map((b) => b.energyPairs));
    const v1 = deflateRawSync(w.done(), { level: 1 });
    expect(decodeRollupRow(v1, rowStart, 60_000)).toEqual(buckets);
    const power = ROLLUP_FIELDS.indexOf('powerW');
    expect(decodeRollupRow(v1, rowStart, 60_000, new Set([power])).map((b) => b.f[power])).toEqual(buckets.map((b) => b.f[power]));
  });

  it('keeps a row of an hour of minute buckets small', () => {
    const rowStart = Date.UTC(2026, 10, 26, 10);
    const samples = Array.from({ length: 3600 }, (_, i) => sample('c', rowStart + i * 1000, { utilPct: 90 + (i % 7), powerW: 600 + (i % 13) * 1.25, energyJ: 1e6 + i * 600 }));
    const bytes = encodeRollupRow(rowStart, 60_000, bucketize(samples, 60_000)).length;
    expect(bytes).toBeLessThan(60 * 60);
  });
});
