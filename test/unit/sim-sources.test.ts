import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chipInfoSchema, hostInfoSchema, sampleSchema, type Sample } from '../../schema/sample.ts';
import type { SimSourceOptions } from '../../agents/sources/chip-source.ts';
import { createPrng, hashSeed } from '../../agents/sources/prng.ts';
import { createSimNeuronSource, isPartiallyAllocated } from '../../agents/sources/sim-neuron.ts';
import { createSimNvmlSource } from '../../agents/sources/sim-nvml.ts';
import { HostSchedule, PHASE_NAMES, stepThermal, type PhaseName, type SimChipSource } from '../../agents/sources/workload-model.ts';

const T0 = 1_790_000_000_000;
type Factory = (o: SimSourceOptions) => SimChipSource;

/** Read `n` times at `intervalMs`; returns the samples and each chip's phase per read. */
function run(src: SimChipSource, n: number, intervalMs: number, t0 = T0) {
  const reads: Sample[][] = [];
  const phases: PhaseName[][] = [];
  for (let i = 0; i < n; i++) {
    reads.push(src.read(t0 + i * intervalMs));
    phases.push(src.chips.map((_, c) => src.phaseOf(c)));
  }
  return { reads, phases };
}

const withoutTs = (reads: Sample[][]) => reads.map((r) => r.map(({ ts: _ts, ...rest }) => rest));

const SOURCES: Array<{ name: string; create: Factory; model?: string; chips: number; instanceType: string; host: string; cores: number; memTotalBytes: number; ratedW: number }> = [
  { name: 'sim-nvml', create: createSimNvmlSource, chips: 8, instanceType: 'p5.48xlarge', host: 'p5-sim-1', cores: 132, memTotalBytes: 81_559 * 2 ** 20, ratedW: 700 },
  { name: 'sim-nvml', create: createSimNvmlSource, model: 'H200', chips: 8, instanceType: 'p5e.48xlarge', host: 'p5e-sim-1', cores: 132, memTotalBytes: 143_771 * 2 ** 20, ratedW: 700 },
  { name: 'sim-nvml', create: createSimNvmlSource, model: 'B200', chips: 8, instanceType: 'p6-b200.48xlarge', host: 'p6-b200-sim-1', cores: 148, memTotalBytes: 183_359 * 2 ** 20, ratedW: 1000 },
  { name: 'sim-neuron', create: createSimNeuronSource, chips: 16, instanceType: 'trn2.48xlarge', host: 'trn2-sim-1', cores: 8, memTotalBytes: 96 * 2 ** 30, ratedW: 500 },
  { name: 'sim-neuron', create: createSimNeuronSource, model: 'Trainium3', chips: 16, instanceType: 'trn3.48xlarge', host: 'trn3-sim-1', cores: 8, memTotalBytes: 144 * 2 ** 30, ratedW: 1000 },
  { name: 'sim-neuron', create: createSimNeuronSource, model: 'Inferentia2', chips: 12, instanceType: 'inf2.48xlarge', host: 'inf2-sim-1', cores: 2, memTotalBytes: 32 * 2 ** 30, ratedW: 120 },
  { name: 'sim-neuron', create: createSimNeuronSource, model: 'Trainium', chips: 16, instanceType: 'trn1.32xlarge', host: 'trn1-sim-1', cores: 2, memTotalBytes: 32 * 2 ** 30, ratedW: 400 },
];

describe('prng', () => {
  it('is deterministic and in range', () => {
    const a = createPrng(42);
    const b = createPrng(42);
    for (let i = 0; i < 1000; i++) {
      const x = a.next();
      expect(x).toBe(b.next());
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      const k = a.int(3, 5);
      b.int(3, 5);
      expect([3, 4, 5]).toContain(k);
    }
    const n = createPrng(7);
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < 20_000; i++) {
      const v = n.normal();
      sum += v;
      sq += v * v;
    }
    expect(Math.abs(sum / 20_000)).toBeLessThan(0.05);
    expect(Math.abs(sq / 20_000 - 1)).toBeLessThan(0.05);
    expect(['x', 'y']).toContain(n.pick(['x', 'y']));
    expect(hashSeed(1, 'a')).not.toBe(hashSeed(1, 'b'));
  });
});

describe.each(SOURCES)('$name $model', ({ name, create, model, chips, instanceType, host, cores, memTotalBytes, ratedW }) => {
  it('describes host and chips per the schema', () => {
    const src = create({ seed: 1, intervalMs: 1000, model });
    expect(src.kind).toBe(name);
    expect(hostInfoSchema.parse(src.host)).toEqual(src.host);
    expect(src.host).toMatchObject({ hostname: host, instanceType });
    expect(src.host.instanceId).toMatch(/^i-[0-9a-f]{17}$/);
    expect(src.chips).toHaveLength(chips);
    for (const [i, c] of src.chips.entries()) {
      expect(chipInfoSchema.parse(c)).toEqual(c);
      expect(c).toMatchObject({ index: i, cores, memTotalBytes, ratedPowerW: ratedW });
      if (name === 'sim-nvml') expect(c.chipId).toMatch(/^GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      else expect(c.chipId).toBe(`${src.host.instanceId}-neuron${i}`);
    }
    expect(new Set(src.chips.map((c) => c.chipId)).size).toBe(chips);
    expect(create({ seed: 1, intervalMs: 1000, model, hostname: 'x', chips: 3 }).chips).toHaveLength(3);
  });

  it('emits samples that validate, with the ts passed in', { timeout: 30_000 }, () => {
    const src = create({ seed: 2, intervalMs: 1000, model });
    const { reads } = run(src, 400, 1000);
    reads.forEach((r, i) => {
      expect(r).toHaveLength(chips);
      for (const s of r) {
        expect(sampleSchema.parse(s)).toEqual(s);
        expect(s.ts).toBe(T0 + i * 1000);
        expect(s.powerLimitW).toBe(ratedW);
        expect(s.memTotalBytes).toBe(memTotalBytes);
      }
    });
  });

  it('is deterministic: same seed ⇒ same output except ts; other seed ⇒ different', () => {
    const a = run(create({ seed: 5, intervalMs: 500, model }), 300, 500, T0);
    const b = run(create({ seed: 5, intervalMs: 500, model }), 300, 777, T0 + 12_345);
    expect(withoutTs(b.reads)).toEqual(withoutTs(a.reads));
    expect(b.phases).toEqual(a.phases);
    const c = run(create({ seed: 6, intervalMs: 500, model }), 300, 500, T0);
    expect(withoutTs(c.reads)).not.toEqual(withoutTs(a.reads));
  });

  it('keeps energy strictly monotonic and equal to the integral of power over an hour', { timeout: 30_000 }, () => {
    const src = create({ seed: 1, intervalMs: 1000, model });
    const { reads } = run(src, 3600, 1000);
    for (let c = 0; c < chips; c++) {
      for (let i = 1; i < reads.length; i++) {
        const prev = reads[i - 1]![c]!;
        const cur = reads[i]![c]!;
        expect(cur.energyJ!).toBeGreaterThan(prev.energyJ!);
        expect(Math.abs(cur.energyJ! - prev.energyJ! - cur.powerW!)).toBeLessThan(0.002);
      }
    }
  });

  it('visits every workload phase within an hour, all chips together', { timeout: 30_000 }, () => {
    const src = create({ seed: 1, intervalMs: 1000, model });
    const { phases } = run(src, 3600, 1000);
    expect(new Set(phases.map((p) => p[0]))).toEqual(new Set(PHASE_NAMES));
    for (const p of phases) expect(new Set(p).size).toBe(1);
  });

  it('rejects an unknown model and bad options', () => {
    expect(() => create({ seed: 1, intervalMs: 1000, model: 'Z9000' })).toThrow(/unknown model.*supported/);
    expect(() => create({ seed: 1, intervalMs: 0, model })).toThrow(/intervalMs/);
    expect(() => create({ seed: 1, intervalMs: 1000, model, chips: 0 })).toThrow(/chips/);
    expect(() => create({ seed: 1, intervalMs: 1000, model }).phaseOf(99)).toThrow(RangeError);
  });
});

describe('host schedule', () => {
  it('changes phase within a minute and keeps phases between seconds and minutes long', () => {
    const s = new HostSchedule(1, 'h');
    expect(s.at(0).phase).toBe('idle');
    expect(s.at(0).endMs).toBeLessThanOrEqual(20_000);
    let t = 0;
    for (let i = 0; i < 200; i++) {
      const seg = s.at(t);
      const len = seg.endMs - seg.startMs;
      expect(len).toBeGreaterThanOrEqual(5_000);
      expect(len).toBeLessThanOrEqual(120_000);
      t = seg.endMs;
    }
  });
});

describe('sim-neuron specifics', () => {
  it('has no temperature, estimated power constant within each simulated minute, per-core extras', { timeout: 30_000 }, () => {
    for (const intervalMs of [1000, 7000]) {
      const src = createSimNeuronSource({ seed: 1, intervalMs });
      const n = Math.ceil((30 * 60_000) / intervalMs);
      const { reads } = run(src, n, intervalMs);
      const perMinute = new Map<string, number>();
      const distinct = new Set<number>();
      reads.forEach((r, i) => {
        const minute = Math.floor((i * intervalMs) / 60_000);
        for (const s of r) {
          expect(s.tempC).toBeNull();
          expect(s.memUtilPct).toBeNull();
          expect(s.flags).toEqual({ powerEstimated: true, energyDerived: true });
          const key = `${s.chipId}@${minute}`;
          if (perMinute.has(key)) expect(s.powerW).toBe(perMinute.get(key));
          perMinute.set(key, s.powerW!);
          distinct.add(s.powerW!);
          if (s.utilPct === null) {
            expect(s.extras).toBeUndefined();
          } else {
            const cores = Object.values(s.extras!);
            expect(Object.keys(s.extras!)).toEqual(['nc0', 'nc1', 'nc2', 'nc3', 'nc4', 'nc5', 'nc6', 'nc7']);
            expect(Math.abs(cores.reduce((a, b) => a + b, 0) / 8 - s.utilPct)).toBeLessThan(0.01);
          }
        }
      });
      expect(distinct.size).toBeGreaterThan(20);
    }
  });

  it('reports no runtime as null utilization (some idle windows; half the chips on ~1 host in 16)', { timeout: 30_000 }, () => {
    for (const seed of [1, 2]) {
      expect(isPartiallyAllocated(seed, `trn2-sim-${seed}`)).toBe(false);
      const { reads } = run(createSimNeuronSource({ seed, intervalMs: 1000 }), 3600, 1000);
      const all = reads.flat();
      const nulls = all.filter((s) => s.utilPct === null).length / all.length;
      expect(nulls).toBeGreaterThan(0);
      expect(nulls).toBeLessThan(0.3);
    }
    expect(isPartiallyAllocated(8, 'trn2-sim-8')).toBe(true);
    const { reads } = run(createSimNeuronSource({ seed: 8, intervalMs: 1000 }), 600, 1000);
    for (const r of reads) for (const s of r.slice(8)) expect([s.utilPct, s.memUsedBytes, s.extras]).toEqual([null, null, undefined]);
    expect(reads.some((r) => r[0]!.utilPct !== null && r[0]!.utilPct > 50)).toBe(true);
  });
});

/** Per-phase mean power of the real H100 capture, under the simulator's phase names. */
function capturePhaseMeans(): Record<string, number> {
  const file = path.resolve(process.cwd(), 'test/fixtures/nvidia-h100/nvml-100ms.jsonl');
  const map: Record<string, PhaseName> = { idle: 'idle', matmul_full: 'training', matmul_duty50: 'duty50', memcopy: 'memory-bound' };
  const acc: Record<string, { sum: number; n: number }> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const rec = JSON.parse(line) as { phase: string; power_mw: number };
    const phase = map[rec.phase];
    if (!phase) continue;
    const a = (acc[phase] ??= { sum: 0, n: 0 });
    a.sum += rec.power_mw / 1000;
    a.n += 1;
  }
  return Object.fromEntries(Object.entries(acc).map(([k, a]) => [k, a.sum / a.n]));
}

interface PhaseStats { n: number; meanW: number; maxW: number; meanUtil: number; meanMemUtil: number }

function simPhaseStats(intervalMs: number, seconds: number): Record<string, PhaseStats> {
  const src = createSimNvmlSource({ seed: 1, intervalMs });
  const acc: Record<string, { n: number; w: number; max: number; u: number; mu: number }> = {};
  for (let i = 0; i < (seconds * 1000) / intervalMs; i++) {
    src.read(T0 + i * intervalMs).forEach((s, c) => {
      const a = (acc[src.phaseOf(c)] ??= { n: 0, w: 0, max: 0, u: 0, mu: 0 });
      a.n += 1;
      a.w += s.powerW!;
      a.max = Math.max(a.max, s.powerW!);
      a.u += s.utilPct!;
      a.mu += s.memUtilPct!;
    });
  }
  return Object.fromEntries(
    Object.entries(acc).map(([k, a]) => [k, { n: a.n, meanW: a.w / a.n, maxW: a.max, meanUtil: a.u / a.n, meanMemUtil: a.mu / a.n }]),
  );
}

describe.each([1000, 100])('sim-nvml H100 per-phase statistics match the real capture (interval %i ms)', (intervalMs) => {
  const sim = simPhaseStats(intervalMs, 3600);
  const capture = capturePhaseMeans();

  it.each([
    { phase: 'idle', lo: 70, hi: 85, utilLo: 0, utilHi: 0 },
    { phase: 'training', lo: 650, hi: 700, utilLo: 97, utilHi: 100 },
    { phase: 'duty50', lo: 490, hi: 560, utilLo: 45, utilHi: 60 },
    { phase: 'memory-bound', lo: 380, hi: 440, utilLo: 95, utilHi: 100 },
    { phase: 'checkpoint', lo: 150, hi: 260, utilLo: 2, utilHi: 12 },
    { phase: 'stall', lo: 190, hi: 270, utilLo: 10, utilHi: 25 },
    { phase: 'cool-down', lo: 120, hi: 170, utilLo: 0, utilHi: 3 },
  ])('$phase: mean power in [$lo, $hi] W, util in [$utilLo, $utilHi] %', ({ phase, lo, hi, utilLo, utilHi }) => {
    const s = sim[phase]!;
    expect(s.n).toBeGreaterThan(100);
    expect(s.meanW).toBeGreaterThanOrEqual(lo);
    expect(s.meanW).toBeLessThanOrEqual(hi);
    expect(s.meanUtil).toBeGreaterThanOrEqual(utilLo);
    expect(s.meanUtil).toBeLessThanOrEqual(utilHi);
    const want = capture[phase];
    if (want !== undefined) expect(Math.abs(s.meanW - want) / want).toBeLessThan(0.1);
  });

  it('peaks over the limit under full load, memory-bound has high memUtil', () => {
    expect(sim.training!.maxW).toBeGreaterThan(700);
    expect(sim.training!.maxW).toBeLessThan(725);
    expect(sim['memory-bound']!.meanMemUtil).toBeGreaterThan(90);
    expect(Object.keys(capture).sort()).toEqual(['duty50', 'idle', 'memory-bound', 'training']);
  });
});

describe('sim-nvml H100 readings', () => {
  const src = createSimNvmlSource({ seed: 1, intervalMs: 1000 });
  const { reads, phases } = run(src, 3600, 1000);

  it('uses NVML units and idle values', { timeout: 30_000 }, () => {
    for (const [i, r] of reads.entries()) {
      for (const s of r) {
        expect(s.memUsedBytes! % 1_048_576).toBe(0);
        expect(Number.isInteger(s.tempC)).toBe(true);
        expect(Math.round(s.powerW! * 100) / 100).toBe(s.powerW);
        expect(s.smClockMhz).toBeGreaterThanOrEqual(345);
        expect(s.smClockMhz).toBeLessThanOrEqual(1980);
        expect(s.flags).toBeUndefined();
        expect(s.eccUncorrected).toBe(0);
      }
      if (phases[i]![0] === 'idle' && phases[Math.max(0, i - 20)]![0] === 'idle') {
        const s = r[0]!;
        expect([s.utilPct, s.smClockMhz]).toEqual([0, 345]);
        expect(s.memUsedBytes!).toBeLessThan(1.2 * 2 ** 30);
        expect(s.tempC!).toBeGreaterThanOrEqual(35);
        expect(s.tempC!).toBeLessThanOrEqual(42);
      }
    }
  });

  it('lags temperature behind a step from idle to full load', () => {
    let checked = 0;
    for (let i = 1; i + 40 < reads.length; i++) {
      if (phases[i - 1]![0] !== 'idle' || phases[i]![0] !== 'training') continue;
      if (!phases.slice(i, i + 40).every((p) => p[0] === 'training')) continue;
      for (let c = 0; c < 8; c++) {
        const t0 = reads[i - 1]![c]!.tempC!;
        const t5 = reads[i + 5]![c]!.tempC!;
        const t40 = reads[i + 39]![c]!.tempC!;
        expect(t5).toBeGreaterThan(t0);
        expect(t5).toBeLessThanOrEqual(t40 - 4);
        expect(t40).toBeGreaterThanOrEqual(58);
        expect(t40).toBeLessThanOrEqual(72);
      }
      checked += 1;
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('has a pure thermal step response well below its final value after 5 s', () => {
    const th = { fast: 0, slow: 0 };
    let rise = 0;
    for (let t = 0; t < 5; t++) rise = stepThermal(th, 30, 1000);
    expect(rise).toBeGreaterThan(5);
    expect(rise).toBeLessThan(0.75 * 30);
    for (let t = 0; t < 600; t++) rise = stepThermal(th, 30, 1000);
    expect(rise).toBeCloseTo(30, 1);
  });
});
