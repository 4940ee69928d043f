import { describe, expect, it } from 'vitest';
import { decodeChunk, encodeChunk } from '../../server/store/chunk-codec.ts';
import { createSimNeuronSource } from '../../agents/sources/sim-neuron.ts';
import { createSimNvmlSource } from '../../agents/sources/sim-nvml.ts';
import { sampleSchema, type Sample } from '../../schema/sample.ts';
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

  it('stores simulated telemetry in few bytes per chip-sample (target <= 24 B)', () => {
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
      expect(perSample).toBeLessThanOrEqual(24);
    }
  });
});
