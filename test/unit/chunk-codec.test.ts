import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeChunk, encodeChunk, isPlainChunk } from '../../server/store/chunk-codec.ts';
import { flagsToBits } from '../../schema/sample-flags.ts';
import { createSimNeuronSource } from '../../agents/sources/sim-neuron.ts';
import { createSimNvmlSource } from '../../agents/sources/sim-nvml.ts';
import { SAMPLE_FIELDS, sampleSchema, type Sample, type SampleFlags } from '../../schema/sample.ts';
import { createPrng } from '../../agents/sources/prng.ts';

const T0 = Date.UTC(2026, 10, 26);

function simulated(kind: 'nvml' | 'neuron', n: number): Sample[][] {
  const src = kind === 'nvml' ? createSimNvmlSource({ seed: 5, intervalMs: 1000 }) : createSimNeuronSource({ seed: 5, intervalMs: 1000 });
  const perChip: Sample[][] = src.chips.map(() => []);
  for (let i = 0; i < n; i++) src.read(T0 + i * 1000).forEach((s, c) => perChip[c].push(s));
  return perChip;
}

describe('chunk codec', () => {
  it.each([
    ['empty', [] as Sample[]],
    ['one sample', [{ ts: T0, chipId: 'c', utilPct: 1, memUtilPct: null, memUsedBytes: null, memTotalBytes: null, powerW: null, powerLimitW: null, tempC: null, energyJ: null }]],
    ['negative temperature, huge energy, odd decimals', [{ ts: T0, chipId: 'c', utilPct: 33.333333, memUtilPct: 0, memUsedBytes: 85_520_809_984, memTotalBytes: 85_520_809_984, powerW: 0.1 + 0.2, powerLimitW: 700, tempC: -12, energyJ: 999_999_999_999.999, smClockMhz: 1980, eccCorrected: 0, eccUncorrected: 3 }]],
    ['irregular timestamps and flags', [T0, T0 + 1, T0 + 1000, T0 + 999_000].map((ts, i) => ({ ts, chipId: 'c', utilPct: i, memUtilPct: null, memUsedBytes: 1, memTotalBytes: 2, powerW: 3, powerLimitW: 4, tempC: null, energyJ: i * 1.5, flags: i % 2 ? { backfill: true, energyDerived: true } : undefined }))],
  ])('round-trips %s exactly', (_n, samples) => {
    const clean = samples.map((s) => JSON.parse(JSON.stringify(s)));
    expect(decodeChunk(encodeChunk(clean), 'c')).toEqual(clean);
  });

  it('writes plain chunks (not deflated) that decode the same, and tells the two kinds apart', () => {
    const chips = simulated('nvml', 40);
    for (const samples of chips) {
      const plain = encodeChunk(samples, true);
      const deflated = encodeChunk(samples);
      expect(isPlainChunk(plain)).toBe(true);
      expect(isPlainChunk(deflated)).toBe(false);
      // The same columns behind one marker byte: the deflated chunk inflates to them.
      expect(plain.subarray(1).equals(inflateRawSync(deflated))).toBe(true);
      expect(decodeChunk(plain, samples[0].chipId)).toEqual(samples);
    }
    // The marker's low bits are a reserved deflate block type: no raw deflate stream starts with it.
    for (const level of [0, 1, 6, 9]) for (const samples of chips.slice(0, 2)) expect(isPlainChunk(deflateRawSync(encodeChunk(samples, true).subarray(1), { level }))).toBe(false);
    expect(() => inflateRawSync(Buffer.from([0xff, 0x02, 0x00]))).toThrow();
  });

  it('round-trips random samples exactly (nulls, absent optional fields, extras)', () => {
    const rng = createPrng(42);
    for (let round = 0; round < 200; round++) {
      const n = 1 + rng.int(0, 300);
      let ts = T0 + rng.int(0, 1e6);
      const samples: Sample[] = [];
      for (let i = 0; i < n; i++) {
        ts += 1 + rng.int(0, 5000);
        const maybe = (v: number) => (rng.chance(0.1) ? null : v);
        const s: Sample = {
          ts, chipId: 'chip-x',
          utilPct: maybe(rng.chance(0.5) ? rng.int(0, 100) : Math.round(rng.next() * 10000) / 100),
          memUtilPct: maybe(rng.next() * 100),
          memUsedBytes: maybe(rng.int(0, 2 ** 30) * 1024), memTotalBytes: maybe(85_520_809_984),
          powerW: maybe(Math.round(rng.next() * 70000) / 100), powerLimitW: maybe(700),
          tempC: maybe(rng.int(-40, 120)), energyJ: maybe(Math.round(rng.next() * 1e12) / 1000),
        };
        if (rng.chance(0.7)) s.smClockMhz = rng.int(300, 2000);
        if (rng.chance(0.5)) s.eccCorrected = rng.int(0, 10);
        if (rng.chance(0.5)) s.eccUncorrected = rng.int(0, 3);
        if (rng.chance(0.3)) s.flags = { powerEstimated: true };
        if (rng.chance(0.3)) s.extras = { nc0: rng.next() * 100, nc1: rng.int(0, 100) };
        samples.push(sampleSchema.parse(s));
      }
      expect(decodeChunk(encodeChunk(samples), 'chip-x')).toEqual(samples);
    }
  });

  it('stores simulated telemetry in few bytes per chip-sample (target <= 8 B)', () => {
    for (const kind of ['nvml', 'neuron'] as const) {
      const chips = simulated(kind, 600);
      let bytes = 0;
      let count = 0;
      for (const samples of chips) {
        const enc = encodeChunk(samples);
        expect(decodeChunk(enc, samples[0].chipId)).toEqual(samples);
        bytes += enc.length;
        count += samples.length;
      }
      const perSample = bytes / count;
      console.log(`${kind}: ${perSample.toFixed(1)} bytes per chip-sample in 600-sample chunks`);
      expect(perSample).toBeLessThanOrEqual(8);
    }
  });

  // Nulls, absent optional fields, flags, extras, a negative value, a float column (0.1234567),
  // an all-null column (powerLimitW), values past 2^31 and 1.5e12 with three decimals.
  const pinned: Sample[] = [
    { ts: T0, chipId: 'c', utilPct: 12.5, memUtilPct: 40, memUsedBytes: 85_899_345_920, memTotalBytes: 85_899_345_920, powerW: 123.45, powerLimitW: null, tempC: -12, energyJ: 1_500_000_000_000.125, smClockMhz: 1980, eccCorrected: 0, eccUncorrected: 0 },
    { ts: T0 + 1000, chipId: 'c', utilPct: null, memUtilPct: 0.1234567, memUsedBytes: 85_899_341_824, memTotalBytes: 85_899_345_920, powerW: null, powerLimitW: null, tempC: 45, energyJ: 1_500_000_000_123.456, smClockMhz: null, eccUncorrected: 3, flags: { energyDerived: true } },
    { ts: T0 + 2010, chipId: 'c', utilPct: 100, memUtilPct: 7, memUsedBytes: 0, memTotalBytes: 85_899_345_920, powerW: 699.99, powerLimitW: null, tempC: 0, energyJ: 1_500_000_000_824.1, flags: { powerEstimated: true, backfill: true }, extras: { core0_util: 12.5, core1_util: 100 } },
    { ts: T0 + 3000, chipId: 'c', utilPct: 0.1, memUtilPct: null, memUsedBytes: null, memTotalBytes: 85_899_345_920, powerW: 60, powerLimitW: null, tempC: -40.5, energyJ: null, smClockMhz: 300, eccCorrected: 2 ** 40 },
  ];

  it('still reads format 1 (chunks written by earlier versions)', () => {
    // Format 1's bytes of `pinned`, captured from the codec as first released (extras as JSON).
    const format1 =
      '010480c89ba9a134d00f142711010dfa01d60dcd0f020107000000000000444072daf8b8db9abf3f0000000000001c40' +
      '010107808080808005ff3fffbfffffff04010080808080800500000021010df2c001ec8407fde707001100ef01f40883' +
      '07a906310107fa81cef2be8faa0586870fc8c355010109f81e9f1a0101090080808080804001010300060b0903000205' +
      '0001355b6e756c6c2c6e756c6c2c7b22636f7265305f7574696c223a31322e352c22636f7265315f7574696c223a3130' +
      '307d2c6e756c6c5d';
    expect(decodeChunk(deflateRawSync(Buffer.from(format1, 'hex')), 'c')).toEqual(pinned);
  });

  it('writes the stored byte format unchanged (chunks on disk must stay readable)', () => {
    // Format 2, captured when it was introduced. The deflated bytes may differ between zlib
    // versions, so the inflated ones are compared. If this fails, the format changed: old chunks
    // would decode wrongly. Bump VERSION and keep reading formats 1 and 2 instead of editing this.
    // Its energy column (mode 0x13) goes as deltas of deltas.
    const expected =
      '020480c89ba9a134d00f142711010dfa01d60dcd0f020107000000000000444072daf8b8db9abf3f0000000000001c40' +
      '010107808080808005ff3fffbfffffff04010080808080800500000021010df2c001ec8407fde707001300ef01e40af7' +
      '0f5a310107fa81cef2be8faa0586870fc8c355010109f81e9f1a0101090080808080804001010300060b090300020500' +
      '0204020a636f7265305f7574696c0a636f7265315f7574696c110104fa01010104c801';
    const encoded = encodeChunk(pinned);
    expect(inflateRawSync(encoded).toString('hex')).toBe(expected);
    expect(decodeChunk(encoded, 'c')).toEqual(pinned);
  });

  it('stores extras as a column per key: keys that come and go, empty objects, float values, many keys', () => {
    const base = { chipId: 'c', utilPct: 1, memUtilPct: null, memUsedBytes: null, memTotalBytes: null, powerW: null, powerLimitW: null, tempC: null, energyJ: null };
    const samples: Sample[] = [
      { ...base, ts: T0, extras: { nc0: 1.5, nc1: 2 } },
      { ...base, ts: T0 + 1000 },
      { ...base, ts: T0 + 2000, extras: {} },
      { ...base, ts: T0 + 3000, extras: { nc1: 0.123456789, 'ядро 2': -7 } },
      { ...base, ts: T0 + 4000, extras: { nc0: 1e300 } },
    ];
    expect(decodeChunk(encodeChunk(samples), 'c')).toEqual(samples);
    // More distinct keys than columns are kept for: the JSON form, read back the same.
    const many: Sample[] = Array.from({ length: 10 }, (_, i) => ({ ...base, ts: T0 + i, extras: Object.fromEntries(Array.from({ length: 10 }, (_, k) => [`k${i}_${k}`, i * k])) }));
    const raw = inflateRawSync(encodeChunk(many));
    expect(raw.includes(Buffer.from('"k9_9":81'))).toBe(true);
    expect(decodeChunk(encodeChunk(many), 'c')).toEqual(many);
  });

  it('stores each sample\'s flags as flagsToBits gives them', () => {
    const names = ['powerEstimated', 'energyDerived', 'backfill'] as const;
    for (let combo = 0; combo < 8; combo++) {
      const flags: SampleFlags = {};
      names.forEach((name, k) => (flags[name] = (combo >> k) & 1 ? true : undefined));
      const sample: Sample = { ts: T0, chipId: 'c', utilPct: 1, memUtilPct: null, memUsedBytes: null, memTotalBytes: null, powerW: null, powerLimitW: null, tempC: null, energyJ: null, flags };
      const raw = inflateRawSync(encodeChunk([sample]));
      // One sample without extras: the chunk ends with its flags byte, then the "no extras" byte.
      expect(raw[raw.length - 2]).toBe(flagsToBits(flags));
      expect(raw[raw.length - 1]).toBe(0);
    }
  });

  it('decodes every sample field', () => {
    const sample = { ts: T0, chipId: 'c', ...Object.fromEntries(SAMPLE_FIELDS.map((f, i) => [f, i + 1])) } as Sample;
    expect(decodeChunk(encodeChunk([sample]), 'c')).toEqual([sample]);
  });

  it('gives the same bytes whatever was encoded before (reused buffers)', () => {
    const [small] = simulated('nvml', 5);
    const [big] = simulated('neuron', 3000);
    const first = encodeChunk(small);
    expect(decodeChunk(encodeChunk(big), big[0].chipId)).toEqual(big);
    expect(encodeChunk(small)).toEqual(first);
    expect(encodeChunk([])).toEqual(encodeChunk([]));
    expect(encodeChunk(small)).toEqual(first);
  });
});
