import { describe, expect, it } from 'vitest';
import { chipEntries, encodeSampleRecord, isSampleRecords, putValue, readSampleRecords, recordsNaming, SampleRecord } from '../../server/store/sample-records.ts';
import { putUvar, SCALES, zigzag } from '../../server/codec/column-codec.ts';
import { SampleKeys, UnfoldedLogIndex } from '../../server/store/unfolded-log-index.ts';
import { loggedSamples } from '../../server/store/log-rows.ts';
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

/** A value's encoding as the record format defines it: the smallest scale 0–3 that gives it back exactly, each tried in turn; else an f64. */
function referenceValue(buf: Buffer, view: DataView, p: number, v: number): number {
  for (let d = 0; d < 4; d++) {
    const scaled = d === 0 ? v : Math.round(v * SCALES[d]);
    if (d === 0 ? !Number.isInteger(v) : scaled / SCALES[d] !== v) continue;
    if (scaled > 2 ** 48 || scaled < -(2 ** 48) || Object.is(v, -0)) break;
    return putUvar(buf, p, zigzag(scaled) * 8 + d);
  }
  buf[p] = 4;
  view.setFloat64(p + 1, v, true);
  return p + 9;
}

describe('a record value', () => {
  it('is written as the format defines it (each scale tried in turn), for edge values and 200,000 random ones', () => {
    const a = Buffer.alloc(16);
    const b = Buffer.alloc(16);
    const va = new DataView(a.buffer, a.byteOffset, a.length);
    const vb = new DataView(b.buffer, b.byteOffset, b.length);
    const same = (v: number) => {
      a.fill(0);
      b.fill(0);
      const ea = putValue(a, va, 0, v);
      const eb = referenceValue(b, vb, 0, v);
      expect([ea, a.toString('hex')], String(v)).toEqual([eb, b.toString('hex')]);
    };
    const edges = [0, -0, 1, -1, 0.1, 0.25, 0.001, 0.0005, 35.1, 351.27, -12.345, 1e-7, 2 ** 48, 2 ** 48 + 1, -(2 ** 48), 2 ** 47 + 0.5, 2 ** 40, 2 ** 40 + 0.1, -(2 ** 40) - 0.25,
      2 ** 39 + 0.125, 2 ** 39 + 0.001, 1e15 + 0.5, Number.MAX_SAFE_INTEGER, Number.MAX_VALUE, Number.MIN_VALUE, Infinity, -Infinity, NaN, 0.1 + 0.2, 1.005, 2.675, 999999.9995];
    for (const v of edges) same(v);
    const rng = createPrng(99);
    for (let i = 0; i < 200_000; i++) {
      const digits = rng.int(0, 6);
      const magnitude = 10 ** rng.int(0, 13);
      const v = Math.round(rng.next() * magnitude * 10 ** digits) / 10 ** digits;
      same(rng.chance(0.5) ? v : -v);
      same(rng.next() * magnitude);
    }
  });
});

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

  describe('the records of a log row that name some chips', () => {
    const uuid = 'GPU-788f6f86-0de3-ec3b-73b4-7ff97cfd2754';
    const S = (chipId: string, ts: number): Sample => ({ ts, chipId, utilPct: 1, ...base });
    // Four agents' records back to back, as a log row holds them; chip ids that are prefixes of others.
    const records = [
      [S('i-1-neuron1', T0), S('i-1-neuron10', T0)],
      [S(uuid, T0), S('GPU-0000', T0)],
      [S('i-1-neuron10', T0 + 1), S('c', T0 + 1)],
      [S('i-2-neuron1', T0), S('ü-chip', T0)],
    ];
    const row = Buffer.concat(records.map((r) => encodeSampleRecord(r)));
    // The records whose strings hold one of the chips; those found and not holding one (the bytes among values or a longer id) are allowed, never a missed one.
    const holding = (chips: string[]) => records.flatMap((r, i) => (r.some((s) => chips.includes(s.chipId)) ? [i] : []));
    // `exact`: entries whose bytes cannot occur among these records' values, so nothing else is found.
    it.each([
      ['one text chip id', ['c'], false],
      ['a chip id that is a prefix of another', ['i-1-neuron1'], true],
      ['a GPU UUID (stored as its 16 bytes)', [uuid], true],
      ['UTF-8', ['ü-chip'], true],
      ['two chips in different records', ['i-2-neuron1', 'i-1-neuron10'], true],
      ['none of them', ['absent'], true],
    ])('%s', (_name, chips, exact) => {
      const found = recordsNaming(row, chipEntries(chips));
      const starts = readSampleRecords(row).map((r) => r.start);
      const named = found.filter((r) => r.strings.some((id) => chips.includes(id))).map((r) => starts.indexOf(r.start));
      expect(named).toEqual(holding(chips));
      if (exact) expect(found.length).toBe(named.length);
      // What it found reads back as the whole record.
      for (const r of found) expect(r.samples()).toEqual(records[starts.indexOf(r.start)]);
    });

    it('finds a GPU UUID in a version 1 record (plain text)', () => {
      const v1 = Buffer.from(
        'fb010400c300000002000000aa0000000000ff0707000000406e52217a4200000000004058400000000000c0444000000040ec6331420000000070e933' +
          '429a999999992383400000000000e0854000000000000028c0759318e487d632410000000000f09e400000000000000000000000000000000001000900' +
          '018500887e6e52217a42343333333333d33f00000000000010430200020000000000000029400300000000000000008005004750552d61060074726e2d' +
          'c3bc03006e633003006e6331',
        'hex',
      );
      expect(recordsNaming(Buffer.concat([row, v1]), chipEntries(['GPU-a'])).map((r) => r.start)).toEqual([row.length]);
    });

    it('refuses a row whose record naming the chip is truncated', () => {
      expect(() => recordsNaming(row.subarray(0, row.length - 3), chipEntries(['i-2-neuron1']))).toThrow(/truncated/);
    });
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

  // Both versions' bytes of these two samples are pinned: logs on disk hold them (a hub started on
  // a log written by the version before reads it back at start).
  const pinned: Sample[] = [
    { ts: T0, chipId: 'GPU-a', utilPct: 97, memUtilPct: 41.5, memUsedBytes: 74690871296, memTotalBytes: 85520809984, powerW: 612.45, powerLimitW: 700, tempC: -12, energyJ: 1234567.891, smClockMhz: 1980, eccCorrected: 0, eccUncorrected: 0 },
    { ts: T0 + 1000.5, chipId: 'trn-ü', utilPct: 0.1 + 0.2, memUtilPct: null, memUsedBytes: null, memTotalBytes: 2 ** 50, powerW: null, powerLimitW: null, tempC: null, energyJ: null, smClockMhz: null, flags: { powerEstimated: true, backfill: true }, extras: { nc0: 12.5, nc1: -0 } },
  ];

  it('reads version 1 records (logs written before)', () => {
    const v1 =
      'fb010400c300000002000000aa0000000000ff0707000000406e52217a4200000000004058400000000000c0444000000040ec6331420000000070e933' +
      '429a999999992383400000000000e0854000000000000028c0759318e487d632410000000000f09e400000000000000000000000000000000001000900' +
      '018500887e6e52217a42343333333333d33f00000000000010430200020000000000000029400300000000000000008005004750552d61060074726e2d' +
      'c3bc03006e633003006e6331';
    const rec = new SampleRecord(Buffer.from(v1, 'hex'));
    expect(rec.samples()).toEqual(pinned);
    const rows: [string, number, number | null][] = [];
    rec.forEachRow((chipId, row) => rows.push([chipId, rec.tsAt(row), rec.energyAt(row)]));
    expect(rows).toEqual([['GPU-a', T0, 1234567.891], ['trn-ü', T0 + 1000.5, null]]);
    expect(Object.is(rec.samples()[1].extras!.nc1, -0)).toBe(true);
  });

  it('writes version 2 bytes unchanged (logs on disk must stay readable)', () => {
    // Captured when version 2 was introduced. If this fails, the format changed: bump VERSION and
    // keep reading versions 1 and 2 instead of editing this.
    const bytes = Buffer.from(encodeSampleRecord(pinned));
    expect(bytes.toString('hex')).toBe(
        'fb0204008200000002000000690000000000406e52217a422700ff07070000900cf133808090f6e322808080b8e927d2e73bc057b801b3da80cb49c0' +
        'f7010000280109000185d1e20904343333333333d33f0400000000000010430202d10f0304000000000000008005004750552d61060074726e2dc3bc' +
        '03006e633003006e6331',
    );
    expect(new SampleRecord(bytes).samples()).toEqual(pinned);
    expect(Object.is(new SampleRecord(bytes).samples()[1].extras!.nc1, -0)).toBe(true);
  });

  it('stores telemetry values in few bytes each, and an NVIDIA GPU UUID as its 16 bytes', () => {
    const gpu = 'GPU-6f5e523f-e5bf-eba1-daa2-9d18c6390ae3';
    const sample = (chipId: string): Sample => ({ ts: T0, chipId, utilPct: 97, memUtilPct: 41, memUsedBytes: 74690871296, memTotalBytes: 85520809984, powerW: 612.45, powerLimitW: 700, tempC: 61, energyJ: 28613630.172, smClockMhz: 1980, eccCorrected: 0, eccUncorrected: 0 });
    const lower = encodeSampleRecord([sample(gpu)]);
    // Not a UUID as nvidia-smi writes it (upper case, a digit short): stored as text, read back the same.
    for (const other of [`GPU-${gpu.slice(4).toUpperCase()}`, gpu.slice(0, -1)]) {
      const rec = encodeSampleRecord([sample(other)]);
      expect(new SampleRecord(rec).samples()).toEqual([sample(other)]);
      expect(rec.length - lower.length).toBeGreaterThanOrEqual(other.length - 18);
    }
    expect(new SampleRecord(lower).samples()).toEqual([sample(gpu)]);
    // 24 header, 18 strings, row: 1 length + 1 chip + 4 masks + 1 ts + 11 values of 1-6 bytes
    // (34 here, against 88 as float64s): 83 bytes, where version 1 took 160.
    expect(lower.length).toBe(24 + 18 + 7 + 34);
  });

  it('round-trips rows at their largest: every value a float64, 64 extras, 2-byte string indexes, rows over 255 bytes', () => {
    const odd = 0.1 + 0.2;
    const extras = Object.fromEntries(Array.from({ length: 64 }, (_, k) => [`core_${k}_util`, k / 3]));
    const widest: Sample[] = Array.from({ length: 300 }, (_, i) => ({
      ts: T0 + i / 7, chipId: `chip-${i}`, utilPct: odd, memUtilPct: odd, memUsedBytes: 2 ** 60, memTotalBytes: -(2 ** 60), powerW: odd, powerLimitW: odd,
      tempC: odd, energyJ: odd, smClockMhz: odd, eccCorrected: odd, eccUncorrected: odd, extras,
    }));
    for (const n of [1, 2, 37, 64, 65, 71, 72, 73, 150, 300]) {
      const samples = widest.slice(0, n);
      const rec = new SampleRecord(encodeSampleRecord(samples));
      expect(rec.samples()).toEqual(samples);
      const energies: (number | null)[] = [];
      rec.forEachRow((_c, row) => energies.push(rec.energyAt(row)));
      expect(energies).toEqual(samples.map((x) => x.energyJ));
    }
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

describe('recent samples (unfolded: indexed in memory, read from the log rows)', () => {
  const S = (chipId: string, ts: number, energyJ: number | null): Sample => ({ ts, chipId, utilPct: 1, ...base, energyJ });

  /** A sample log table: rows by id, records back to back in each, as the writer commits them. */
  class FakeLog {
    readonly rows = new Map<number, Uint8Array | string>();
    /** The fold state a reader's snapshot sees. */
    folded = 0;
    reads = 0;
    append(id: number, ...batches: Sample[][]): void {
      const prev = this.rows.get(id);
      const parts = [...(prev && typeof prev !== 'string' ? [prev] : []), ...batches.map((b) => encodeSampleRecord(b))];
      this.rows.set(id, Buffer.concat(parts));
    }
    readonly reader = {
      range: (from: number, to: number) => {
        this.reads++;
        return [...this.rows].filter(([id]) => id >= from && id <= to).sort((a, b) => a[0] - b[0]).map(([id, data]) => ({ id, data }));
      },
      byId: (id: number) => {
        this.reads++;
        const data = this.rows.get(id);
        return data === undefined ? undefined : { id, data };
      },
      foldedThrough: () => this.folded,
    };
  }
  const tsOf = (m: Map<string, Sample[]>, chip: string) => (m.get(chip) ?? []).map((s) => s.ts);

  it('answers per chip, leaves out folded rows still in the log, and keeps the newest folded energy reading', () => {
    const recent = new UnfoldedLogIndex();
    const log = new FakeLog();
    const add = (id: number, ...batches: Sample[][]) => {
      log.append(id, ...batches);
      for (const b of batches) recent.add(id, SampleKeys.of(b));
    };
    add(1, [S('a', 1000, 5), S('b', 1000, 7)], [S('a', 3000, 9)]);
    add(2, [S('a', 2000, null), S('b', 2000, 8)]);
    add(3, [S('a', 4000, 12)]);
    expect(recent.size).toBe(6);
    expect([...recent.chips()].sort()).toEqual(['a', 'b']);
    const all = recent.samples(log.reader, null);
    expect(tsOf(all, 'a')).toEqual([1000, 3000, 2000, 4000]);
    expect(tsOf(all, 'b')).toEqual([1000, 2000]);
    expect(clean(all.get('b')!)).toEqual(clean([S('b', 1000, 7), S('b', 2000, 8)]));
    expect([...recent.samples(log.reader, new Set(['b'])).keys()]).toEqual(['b']);

    // Row 1 folded: the compactor deletes it later, so it is still in the log now.
    recent.compacted(1, [['a', 3000, 9], ['b', 1000, 7]]);
    expect(recent.size).toBe(3);
    expect(tsOf(recent.samples(log.reader, new Set(['a'])), 'a')).toEqual([2000, 4000]);
    expect(recent.energyBefore('a')).toEqual({ ts: 3000, e: 9 });
    expect(recent.energyBefore('b')).toEqual({ ts: 1000, e: 7 });

    // An older reading reported late does not replace a newer one.
    recent.compacted(2, [['a', 2500, 1], ['b', 2000, 8]]);
    expect([...recent.chips()]).toEqual(['a']);
    expect(recent.energyBefore('a')).toEqual({ ts: 3000, e: 9 });
    expect(recent.energyBefore('b')).toEqual({ ts: 2000, e: 8 });
    expect(recent.samples(log.reader, new Set(['b'])).size).toBe(0);

    // A row committed but not yet indexed (its answer not yet handled) is left out.
    log.append(4, [S('a', 5000, 13)]);
    add(5, [S('a', 6000, 14)]);
    expect(tsOf(recent.samples(log.reader, null), 'a')).toEqual([4000, 6000]);
    expect(tsOf(recent.samples(log.reader, new Set(['a'])), 'a')).toEqual([4000, 6000]);

    // A fold of row 3 committed (the snapshot says so) but not reported yet: row 3 is left out.
    log.folded = 3;
    expect(tsOf(recent.samples(log.reader, null), 'a')).toEqual([6000]);
    expect(tsOf(recent.samples(log.reader, new Set(['a'])), 'a')).toEqual([6000]);
    expect(recent.foldedUpTo).toBe(2);

    recent.compacted(5);
    expect(recent.foldedUpTo).toBe(5);
    expect(recent.size).toBe(0);
    const reads = log.reads;
    expect(recent.samples(log.reader, null).size).toBe(0);
    expect(log.reads).toBe(reads); // nothing unfolded: the log is not read
  });

  it('reads log rows written as JSON by earlier versions', () => {
    const recent = new UnfoldedLogIndex();
    const log = new FakeLog();
    const batch = [S('a', 1000, 5), S('b', 1000, 6)];
    log.rows.set(7, JSON.stringify([{ f: { samples: batch } }]));
    recent.add(7, SampleKeys.of(batch));
    expect(clean(recent.samples(log.reader, new Set(['b'])).get('b')!)).toEqual(clean([batch[1]]));
  });

  it('stays consistent over many adds (several per log row, out of order now and then) and partial compactions', () => {
    const recent = new UnfoldedLogIndex();
    const log = new FakeLog();
    const rng = createPrng(99);
    const held: { logId: number; s: Sample }[] = [];
    let logId = 0;
    let folded = 0;
    for (let round = 0; round < 300; round++) {
      // Mostly a new row; sometimes another batch in the newest row, or in an older unfolded one.
      if (logId === folded || rng.chance(0.7)) logId++;
      const id = logId > folded + 1 && rng.chance(0.1) ? rng.int(folded + 1, logId) : logId;
      const batch = Array.from({ length: rng.int(1, 20) }, (_, i) => S(`c${rng.int(0, 19)}`, T0 + round * 100 + i, round));
      log.append(id, batch);
      recent.add(id, SampleKeys.of(batch));
      held.push(...batch.map((s) => ({ logId: id, s })));
      if (rng.chance(0.3)) {
        folded = rng.int(folded, logId);
        recent.compacted(folded);
        // The compactor deletes folded rows some time later.
        if (rng.chance(0.5)) for (const k of [...log.rows.keys()]) if (k <= folded) log.rows.delete(k);
      }
      const live = held.filter((h) => h.logId > folded).sort((a, b) => a.logId - b.logId);
      expect(recent.size).toBe(live.length);
      // Two chips (their rows fetched by id), 17 chips (the log scanned, rows of other chips
      // skipped) and all chips (the log scanned): the same answers.
      const expected = (c: string) => clean(live.filter((h) => h.s.chipId === c).map((h) => h.s));
      const two = ['c0', 'c3'];
      const many = Array.from({ length: 17 }, (_, i) => `c${i}`);
      const everyChip = Array.from({ length: 20 }, (_, i) => `c${i}`);
      for (const [asked, got] of [[two, recent.samples(log.reader, new Set(two))], [many, recent.samples(log.reader, new Set(many))], [everyChip, recent.samples(log.reader, null)]] as const) {
        for (const c of asked) expect(got.get(c) ?? []).toEqual(expected(c));
        expect([...got.keys()].every((c) => asked.includes(c))).toBe(true);
      }
      expect([...recent.chips()].sort()).toEqual([...new Set(live.map((h) => h.s.chipId))].sort());
    }
  });
});
