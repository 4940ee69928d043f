import { describe, expect, it } from 'vitest';
import { encodeSampleRecord, isSampleRecords, readSampleRecords, SampleRecord } from '../../server/store/sample-records.ts';
import { RecentSamples } from '../../server/store/recent-samples.ts';
import { loggedSamples } from '../../server/store/writer/compaction.ts';
import { createSimNeuronSource } from '../../agents/sources/sim-neuron.ts';
import { createSimNvmlSource } from '../../agents/sources/sim-nvml.ts';
import { createPrng } from '../../agents/sources/prng.ts';
import type { Sample } from '../../schema/sample.ts';

const T0 = Date.UTC(2026, 10, 26);
const base = { memUtilPct: null, memUsedBytes: null, memTotalBytes: null, powerW: null, powerLimitW: null, tempC: null, energyJ: null };
/** What a sample looks like after a trip through JSON (undefined keys gone), which the record must reproduce. */
const clean = (s: Sample[]): Sample[] => JSON.parse(JSON.stringify(s));

function randomSamples(seed: number, n: number): Sample[] {
  const rng = createPrng(seed);
  const maybe = (v: number) => (rng.chance(0.15) ? null : v);
  const out: Sample[] = [];
  for (let i = 0; i < n; i++) {
    const s: Sample = {
      ts: T0 + rng.int(0, 1e9),
      chipId: `chip-${rng.int(0, 7)}`,
      utilPct: maybe(rng.next() * 100),
      memUtilPct: maybe(rng.int(0, 100)),
      memUsedBytes: maybe(rng.int(0, 2 ** 40) * 1024),
      memTotalBytes: maybe(85_899_345_920),
      powerW: maybe(rng.next() * 700),
      powerLimitW: maybe(700),
      tempC: maybe(rng.int(-40, 150)),
      energyJ: maybe(rng.next() * 1e12),
    };
    // Optional fields: absent, null or a number, each kept apart.
    if (rng.chance(0.6)) s.smClockMhz = maybe(rng.int(0, 2000));
    if (rng.chance(0.6)) s.eccCorrected = maybe(rng.int(0, 10));
    if (rng.chance(0.6)) s.eccUncorrected = maybe(0);
    if (rng.chance(0.3)) s.flags = { powerEstimated: rng.chance(0.5) || undefined, energyDerived: true, backfill: rng.chance(0.5) || undefined };
    if (rng.chance(0.3)) s.extras = Object.fromEntries(Array.from({ length: rng.int(1, 8) }, (_, k) => [`nc${k}_util`, rng.next() * 100]));
    out.push(s);
  }
  return clean(out);
}

describe('sample records', () => {
  it.each([
    ['empty', [] as Sample[]],
    ['one sample, all null', [{ ts: T0, chipId: 'c', utilPct: null, ...base }]],
    ['extremes', [{ ts: T0 + 0.5, chipId: 'GPU-ü-1', utilPct: 0.1 + 0.2, ...base, memUsedBytes: 2 ** 50, tempC: -40, energyJ: 1e15, smClockMhz: null, eccCorrected: 0 }]],
    ['flags without extras, extras without flags', [
      { ts: T0, chipId: 'a', utilPct: 1, ...base, flags: { backfill: true } },
      { ts: T0 + 1, chipId: 'b', utilPct: 2, ...base, extras: { nc0_util: 50, nc1_util: -0 } },
    ]],
  ])('round-trips %s exactly', (_name, samples) => {
    const want = clean(samples as Sample[]);
    expect(new SampleRecord(encodeSampleRecord(want)).samples()).toEqual(want);
  });

  it('round-trips random samples exactly (nulls, absent optional fields, flags, extras)', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const samples = randomSamples(seed, 1 + (seed * 37) % 300);
      expect(new SampleRecord(encodeSampleRecord(samples)).samples()).toEqual(samples);
    }
  });

  it('round-trips a record bigger than its reused buffer, and small ones after it', () => {
    const big = randomSamples(21, 5_000);
    const small = randomSamples(22, 3);
    expect(new SampleRecord(encodeSampleRecord(small)).samples()).toEqual(small);
    const bytes = encodeSampleRecord(big);
    expect(bytes.byteLength).toBeGreaterThan(256 << 10);
    expect(new SampleRecord(bytes).samples()).toEqual(big);
    expect(new SampleRecord(encodeSampleRecord(small)).samples()).toEqual(small);
    expect(new SampleRecord(bytes).samples()).toEqual(big); // not overwritten by the later encode
  });

  it('round-trips what the simulated sources produce', () => {
    const nvml = createSimNvmlSource({ seed: 3, intervalMs: 1000 });
    const neuron = createSimNeuronSource({ seed: 3, intervalMs: 1000 });
    const samples = clean([...nvml.read(T0), ...neuron.read(T0), ...nvml.read(T0 + 1000)]);
    expect(new SampleRecord(encodeSampleRecord(samples)).samples()).toEqual(samples);
  });

  it('reads several records back to back, as a log row holds them', () => {
    const parts = [randomSamples(7, 10), randomSamples(8, 0), randomSamples(9, 25)];
    const row = Buffer.concat(parts.map((p) => encodeSampleRecord(p)));
    expect(isSampleRecords(row)).toBe(true);
    expect(isSampleRecords(Buffer.from('[{"b":0}]'))).toBe(false);
    expect(readSampleRecords(row).map((r) => r.samples())).toEqual(parts);
  });

  it('gives each row by offset: chip, timestamp and energy without decoding the rest', () => {
    const samples = randomSamples(11, 40);
    const rec = new SampleRecord(encodeSampleRecord(samples));
    const seen: { chipId: string; ts: number; e: number | null; sample: Sample }[] = [];
    rec.forEachRow((chipId, row) => seen.push({ chipId, ts: rec.tsAt(row), e: rec.energyAt(row), sample: rec.sampleAt(row) }));
    expect(seen.map((r) => r.chipId)).toEqual(samples.map((s) => s.chipId));
    expect(seen.map((r) => r.ts)).toEqual(samples.map((s) => s.ts));
    expect(seen.map((r) => r.e)).toEqual(samples.map((s) => s.energyJ));
    expect(seen.map((r) => r.sample)).toEqual(samples);
  });

  it('a log row reads back as its samples: records, JSON text of earlier versions, or nothing', () => {
    const samples = randomSamples(13, 5);
    expect(loggedSamples(Buffer.concat([encodeSampleRecord(samples.slice(0, 2)), encodeSampleRecord(samples.slice(2))]))).toEqual(samples);
    expect(loggedSamples(JSON.stringify([{ b: 1, f: { samples: samples.slice(0, 1) } }]))).toEqual([{ ...samples[0], flags: { ...samples[0].flags, backfill: true } }]);
    expect(loggedSamples(Buffer.alloc(0))).toEqual([]);
  });

  it('refuses what is not a record, another version, or a truncated one', () => {
    const good = encodeSampleRecord(randomSamples(12, 3));
    expect(() => new SampleRecord(Buffer.from('[]'))).toThrow(/not a sample record/);
    const other = Uint8Array.from(good);
    other[1] = 9;
    expect(() => new SampleRecord(other)).toThrow(/version 9/);
    expect(() => new SampleRecord(good.subarray(0, good.length - 1))).toThrow(/truncated/);
  });
});

describe('recent samples (unfolded, held as records)', () => {
  const S = (chipId: string, ts: number, energyJ: number | null): Sample => ({ ts, chipId, utilPct: 1, ...base, energyJ });

  it('answers per chip and range, forgets folded log rows and keeps the newest folded energy reading', () => {
    const recent = new RecentSamples();
    const rec = (s: Sample[]) => new SampleRecord(encodeSampleRecord(s));
    recent.add(1, [rec([S('a', 1000, 5), S('b', 1000, 7)]), rec([S('a', 3000, 9)])]);
    recent.add(2, [rec([S('a', 2000, null), S('b', 2000, 8)])]);
    recent.add(3, [rec([S('a', 4000, 12)])]);
    expect(recent.size).toBe(6);
    expect([...recent.chips()].sort()).toEqual(['a', 'b']);
    expect(recent.chip('a', 0, Infinity).map((s) => s.ts)).toEqual([1000, 3000, 2000, 4000]);
    expect(recent.chip('a', 1500, 3500).map((s) => s.ts)).toEqual([3000, 2000]);
    expect(recent.latest('a')?.ts).toBe(4000);

    recent.compacted(1);
    expect(recent.size).toBe(3);
    expect(recent.chip('a', 0, Infinity).map((s) => s.ts)).toEqual([2000, 4000]);
    expect(recent.energyBefore('a')).toEqual({ ts: 3000, e: 9 });
    expect(recent.energyBefore('b')).toEqual({ ts: 1000, e: 7 });

    recent.compacted(2);
    expect([...recent.chips()]).toEqual(['a']);
    expect(recent.energyBefore('a')).toEqual({ ts: 3000, e: 9 }); // the null reading at 2000 pairs nothing
    expect(recent.energyBefore('b')).toEqual({ ts: 2000, e: 8 });
    recent.compacted(3);
    expect(recent.size).toBe(0);
    expect(recent.chip('a', 0, Infinity)).toEqual([]);
    expect(recent.latest('a')).toBeUndefined();
  });

  it('stays consistent over many adds and partial compactions', () => {
    const recent = new RecentSamples();
    const rng = createPrng(99);
    const held: { logId: number; s: Sample }[] = [];
    let logId = 0;
    let folded = 0;
    for (let round = 0; round < 300; round++) {
      logId++;
      const batch = Array.from({ length: rng.int(1, 20) }, (_, i) => S(`c${rng.int(0, 4)}`, T0 + round * 100 + i, round));
      recent.add(logId, [new SampleRecord(encodeSampleRecord(batch))]);
      held.push(...batch.map((s) => ({ logId, s })));
      if (rng.chance(0.3)) {
        folded = rng.int(folded, logId);
        recent.compacted(folded);
      }
      const live = held.filter((h) => h.logId > folded);
      expect(recent.size).toBe(live.length);
      for (const c of ['c0', 'c3']) expect(recent.chip(c, 0, Infinity)).toEqual(live.filter((h) => h.s.chipId === c).map((h) => h.s));
    }
  });
});
