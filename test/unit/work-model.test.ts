/**
 * Simulated work: the rate model (peak × util × cap factor), the power-cap trade-off calibrated on the
 * real H200 capture, and the `tokens` / `steps` counters the simulated sources report.
 */
import { describe, expect, it } from 'vitest';
import { workReportSchema, type WorkReport } from '../../schema/work.ts';
import type { Sample } from '../../schema/sample.ts';
import { parseModelCap } from '../../agents/sources/model-table.ts';
import { createSimNeuronSource, NEURON_MODELS } from '../../agents/sources/sim-neuron.ts';
import { createSimNvmlSource, NVML_MODELS, nvmlModelAndCap } from '../../agents/sources/sim-nvml.ts';
import { createSource, parseSourceSpec } from '../../agents/sources/source-registry.ts';
import {
  CAP_RATE_ALPHA,
  PEAK_TOKENS_PER_S,
  PHASE_NAMES,
  SIM_TOKENS_PER_STEP,
  SimJobCounter,
  capEffect,
  peakTokensPerS,
  workRate,
  type PhaseName,
  type SimChipSource,
} from '../../agents/sources/workload-model.ts';
import { silentLogger } from '../../common/logger.ts';

const T0 = 1_790_000_000_000;

describe('rate model', () => {
  it('derives α from the H200 capture: 86 % of the step rate at 63 % of the power', () => {
    expect(CAP_RATE_ALPHA).toBeCloseTo(Math.log(0.86) / Math.log(0.63), 12);
    expect(CAP_RATE_ALPHA).toBeGreaterThan(0.32);
    expect(CAP_RATE_ALPHA).toBeLessThan(0.34);
  });

  it.each([
    // uncapped W, cap W, power W, rate factor
    { name: 'no cap', uncapped: 650, cap: undefined, powerW: 650, factor: 1 },
    { name: 'cap above the draw', uncapped: 350, cap: 400, powerW: 350, factor: 1 },
    { name: 'cap equal to the draw', uncapped: 400, cap: 400, powerW: 400, factor: 1 },
    // the capture: the run drew ~632 W at the 700 W default limit; capped at 400 W
    { name: 'H200 capture: 400 W on a 700 W part at full load', uncapped: 632, cap: 400, powerW: 400, factor: 0.86 },
    { name: 'sim training at the limit, capped at 400 W', uncapped: 697.5, cap: 397.5, powerW: 397.5, factor: Math.pow(397.5 / 697.5, CAP_RATE_ALPHA) },
    { name: 'half the power', uncapped: 600, cap: 300, powerW: 300, factor: Math.pow(0.5, CAP_RATE_ALPHA) },
    { name: 'idle', uncapped: 0, cap: 400, powerW: 0, factor: 1 },
  ])('capEffect: $name', ({ uncapped, cap, powerW, factor }) => {
    const e = capEffect(uncapped, cap);
    expect(e.powerW).toBeCloseTo(powerW, 9);
    expect(e.rateFactor).toBeCloseTo(factor, 2);
  });

  it('full load under a 400 W cap keeps ~86 % of the rate at ~63 % of the power (capture: 632 W uncapped)', () => {
    const e = capEffect(632, 400);
    expect(Math.abs(e.powerW / 632 - 0.63) / 0.63).toBeLessThan(0.02);
    expect(Math.abs(e.rateFactor - 0.86) / 0.86).toBeLessThan(0.01);
    // energy per unit of work falls by about a quarter
    expect(1 - e.powerW / 632 / e.rateFactor).toBeCloseTo(0.26, 1);
  });

  it.each([
    { phase: 'idle', util: 0, capFactor: 1, want: 0 },
    { phase: 'idle', util: 30, capFactor: 1, want: 0 },
    { phase: 'cool-down', util: 1, capFactor: 1, want: 0 },
    { phase: 'training', util: 100, capFactor: 1, want: 3000 },
    { phase: 'training', util: 99, capFactor: 1, want: 2970 },
    { phase: 'training', util: 100, capFactor: 0.86, want: 2580 },
    { phase: 'stall', util: 17, capFactor: 1, want: 510 },
    { phase: 'checkpoint', util: 6, capFactor: 1, want: 180 },
    { phase: 'duty50', util: 52, capFactor: 1, want: 1560 },
    { phase: 'training', util: 130, capFactor: 1, want: 3000 },
    { phase: 'training', util: -5, capFactor: 1, want: 0 },
  ] as Array<{ phase: PhaseName; util: number; capFactor: number; want: number }>)('workRate $phase at $util % × $capFactor = $want tokens/s', ({ phase, util, capFactor, want }) => {
    expect(workRate(3000, phase, util, capFactor)).toBeCloseTo(want, 6);
  });

  it('orders the modelled peaks by generation and covers every simulated model', () => {
    const order = ['B200', 'Trainium3', 'H200', 'H100', 'Trainium2', 'Inferentia2', 'Trainium'];
    const peaks = order.map(peakTokensPerS);
    for (let i = 1; i < peaks.length; i++) expect(peaks[i]).toBeLessThan(peaks[i - 1]);
    expect(peakTokensPerS('H100')).toBe(3000);
    for (const [model, ratio] of Object.entries({ H200: 1.35, B200: 2.3, Trainium2: 0.9, Trainium: 0.35, Inferentia2: 0.5, Trainium3: 1.6 })) {
      expect(PEAK_TOKENS_PER_S[model]! / 3000).toBeCloseTo(ratio, 2);
    }
    for (const m of [...Object.values(NVML_MODELS), ...Object.values(NEURON_MODELS)]) expect(peakTokensPerS(m.model)).toBeGreaterThan(0);
    expect(() => peakTokensPerS('Z9000')).toThrow(/no modelled throughput/);
  });

  it('SimJobCounter: integer monotonic counters, steps = tokens / 8192, chips and labels', () => {
    const c = new SimJobCounter('p5-sim-1', ['a', 'b'], { generation: 'H100' });
    expect(c.report(T0)).toEqual({ ts: T0, job: 'p5-sim-1/train', counters: { tokens: 0, steps: 0 }, chips: ['a', 'b'], labels: { generation: 'H100' } });
    c.add(8191.7);
    c.add(-5);
    c.add(Number.NaN);
    expect(c.report(T0 + 1).counters).toEqual({ tokens: 8191, steps: 0 });
    c.add(0.3);
    expect(c.report(T0 + 2).counters).toEqual({ tokens: SIM_TOKENS_PER_STEP, steps: 1 });
    expect(new SimJobCounter('h', Array.from({ length: 2000 }, (_, i) => `c${i}`), {}).report(T0).chips).toBeUndefined();
  });
});

/** Read `n` ticks: samples and work reports. */
function runWork(src: SimChipSource, n: number, intervalMs: number) {
  const reads: Sample[][] = [];
  const work: WorkReport[] = [];
  const phases: PhaseName[] = [];
  for (let i = 0; i < n; i++) {
    reads.push(src.read(T0 + i * intervalMs));
    const w = src.readWork(T0 + i * intervalMs);
    expect(w).toHaveLength(1);
    work.push(w[0]!);
    phases.push(src.phaseOf(0));
  }
  return { reads, work, phases };
}

describe.each([
  { name: 'sim-nvml H100', create: () => createSimNvmlSource({ seed: 1, intervalMs: 1000 }), model: 'H100', job: 'p5-sim-1/train' },
  { name: 'sim-nvml B200', create: () => createSimNvmlSource({ seed: 3, intervalMs: 1000, model: 'B200' }), model: 'B200', job: 'p6-b200-sim-3/train' },
  { name: 'sim-nvml H100@400W', create: () => createSimNvmlSource({ seed: 1, intervalMs: 1000, model: 'H100@400W' }), model: 'H100', job: 'p5-sim-cap400-1/train' },
  { name: 'sim-neuron Trainium2', create: () => createSimNeuronSource({ seed: 1, intervalMs: 1000 }), model: 'Trainium2', job: 'trn2-sim-1/train' },
  { name: 'sim-neuron Inferentia2', create: () => createSimNeuronSource({ seed: 2, intervalMs: 1000, model: 'Inferentia2' }), model: 'Inferentia2', job: 'inf2-sim-2/train' },
])('$name work counters', ({ create, model, job }) => {
  const src = create();
  const { reads, work, phases } = runWork(src, 3600, 1000);

  it('one valid report per tick for the host job on all its chips, stamped now', () => {
    work.forEach((w, i) => {
      expect(workReportSchema.parse(w)).toEqual(w);
      expect(w).toMatchObject({ ts: T0 + i * 1000, job, labels: { generation: model } });
      expect(w.chips).toEqual(src.chips.map((c) => c.chipId));
      expect(Object.keys(w.counters).sort()).toEqual(['steps', 'tokens']);
      expect(w.counters.steps).toBe(Math.floor(w.counters.tokens! / SIM_TOKENS_PER_STEP));
    });
  });

  it('counters never go down over an hour of ticks, and grow', () => {
    for (let i = 1; i < work.length; i++) {
      expect(work[i]!.counters.tokens!).toBeGreaterThanOrEqual(work[i - 1]!.counters.tokens!);
      expect(work[i]!.counters.steps!).toBeGreaterThanOrEqual(work[i - 1]!.counters.steps!);
    }
    expect(work.at(-1)!.counters.steps!).toBeGreaterThan(1000);
  });

  it('follows the load: zero when idle, ≈ peak × util × chips in training, lower in stalls', () => {
    const chips = src.chips.length;
    const byPhase = new Map<PhaseName, { tokens: number; util: number; n: number }>();
    for (let i = 1; i < work.length; i++) {
      const a = byPhase.get(phases[i]!) ?? { tokens: 0, util: 0, n: 0 };
      a.tokens += work[i]!.counters.tokens! - work[i - 1]!.counters.tokens!;
      a.util += reads[i]!.reduce((s, x) => s + (x.utilPct ?? 0), 0) / chips;
      a.n += 1;
      byPhase.set(phases[i]!, a);
    }
    expect(new Set(byPhase.keys())).toEqual(new Set(PHASE_NAMES));
    // sim-neuron's idle tokens are 0; sim-nvml's too (one tick of rounding at most)
    expect(byPhase.get('idle')!.tokens).toBeLessThanOrEqual(1);
    expect(byPhase.get('cool-down')!.tokens).toBeLessThanOrEqual(1);
    const rate = (p: PhaseName) => byPhase.get(p)!.tokens / byPhase.get(p)!.n / chips;
    const capped = job.includes('cap400');
    const training = byPhase.get('training')!;
    const expected = (peakTokensPerS(model) * training.util) / training.n / 100;
    if (capped) expect(rate('training') / expected).toBeLessThan(0.9);
    else expect(Math.abs(rate('training') / expected - 1)).toBeLessThan(0.02);
    expect(rate('stall')).toBeLessThan(0.3 * rate('training'));
    expect(rate('stall')).toBeGreaterThan(0);
  });
});

describe('power-capped sim-nvml', () => {
  const plain = runWork(createSimNvmlSource({ seed: 1, intervalMs: 1000, hostname: 'x' }), 3600, 1000);
  const capped = runWork(createSimNvmlSource({ seed: 1, intervalMs: 1000, hostname: 'x', powerCapW: 400 }), 3600, 1000);

  it('reports the cap as the power limit and never reads above it; the schedule is the same', () => {
    expect(capped.phases).toEqual(plain.phases);
    for (const r of capped.reads) {
      for (const s of r) {
        expect(s.powerLimitW).toBe(400);
        expect(s.powerW!).toBeLessThanOrEqual(400);
      }
    }
    const training = capped.reads.filter((_, i) => capped.phases[i] === 'training').flat();
    const meanW = training.reduce((a, s) => a + s.powerW!, 0) / training.length;
    expect(meanW).toBeGreaterThan(390);
    expect(training.reduce((a, s) => a + s.smClockMhz!, 0) / training.length).toBeLessThan(1300);
  });

  it('in training: rate factor = power ratio^α (the capture rule), less energy per token', () => {
    const stats = (r: typeof plain) => {
      let tokens = 0;
      let joules = 0;
      for (let i = 1; i < r.work.length; i++) {
        if (r.phases[i] !== 'training' || r.phases[i - 1] !== 'training') continue;
        tokens += r.work[i]!.counters.tokens! - r.work[i - 1]!.counters.tokens!;
        joules += r.reads[i]!.reduce((a, s, c) => a + s.energyJ! - r.reads[i - 1]![c]!.energyJ!, 0);
      }
      return { tokens, joules };
    };
    const p = stats(plain);
    const c = stats(capped);
    const powerRatio = c.joules / p.joules;
    const rateRatio = c.tokens / p.tokens;
    // the sim trains at the 700 W limit (the H100 capture), so a 400 W cap takes more than the capture's 37 %
    expect(powerRatio).toBeGreaterThan(0.55);
    expect(powerRatio).toBeLessThan(0.6);
    expect(Math.abs(rateRatio - Math.pow(powerRatio, CAP_RATE_ALPHA))).toBeLessThan(0.01);
    expect(rateRatio).toBeGreaterThan(0.8);
    expect(rateRatio).toBeLessThan(0.86);
    const jPerTokenFall = 1 - powerRatio / rateRatio;
    expect(jPerTokenFall).toBeGreaterThan(0.25);
    expect(jPerTokenFall).toBeLessThan(0.35);
  });

  it('leaves phases below the cap alone (idle, stalls)', () => {
    const tokensIn = (r: typeof plain, phase: PhaseName) => {
      let t = 0;
      for (let i = 1; i < r.work.length; i++) if (r.phases[i] === phase) t += r.work[i]!.counters.tokens! - r.work[i - 1]!.counters.tokens!;
      return t;
    };
    expect(Math.abs(tokensIn(capped, 'stall') / tokensIn(plain, 'stall') - 1)).toBeLessThan(0.03);
  });
});

describe('power cap in the source spec', () => {
  it.each([
    ['H100', { model: 'H100' }],
    ['H100@400W', { model: 'H100', powerCapW: 400 }],
    ['h200@350w', { model: 'h200', powerCapW: 350 }],
    ['B200@600', { model: 'B200', powerCapW: 600 }],
    ['@400W', { model: undefined, powerCapW: 400 }],
    [undefined, { model: undefined }],
  ])('parseModelCap(%s)', (name, want) => expect(parseModelCap('sim-nvml', name)).toEqual(want));

  it.each([
    ['sim-nvml', { kind: 'sim-nvml' }],
    ['sim-nvml:H200', { kind: 'sim-nvml', model: 'H200' }],
    ['sim-nvml:H100@400W', { kind: 'sim-nvml', model: 'H100', powerCapW: 400 }],
    ['sim-nvml:@400W', { kind: 'sim-nvml', powerCapW: 400 }],
    ['replay', { kind: 'replay' }],
  ])('parseSourceSpec(%s)', (s, want) => expect(parseSourceSpec(s)).toEqual(want));

  it('builds capped hosts from the registry, by model suffix or option', () => {
    const a = createSource('sim-nvml', { log: silentLogger, seed: 2, intervalMs: 1000, model: 'H100@400W' });
    const b = createSource('sim-nvml', { log: silentLogger, seed: 2, intervalMs: 1000, powerCapW: 400 });
    expect(a.host.hostname).toBe('p5-sim-cap400-2');
    expect(b.host.hostname).toBe('p5-sim-cap400-2');
    expect(a.read(T0)[0]!.powerLimitW).toBe(400);
    expect(a.chips[0]!.ratedPowerW).toBe(700);
    expect(nvmlModelAndCap({ model: 'B200@600W' })).toMatchObject({ spec: { model: 'B200' }, powerCapW: 600 });
    expect(nvmlModelAndCap({ model: 'H100@400W', powerCapW: 400 }).powerCapW).toBe(400);
  });

  it.each([
    [{ model: 'H100@900W' }, /power cap must be 100\.\.700 W for the H100, got 900/],
    [{ model: 'H100@50W' }, /power cap must be/],
    [{ model: 'H100@lots' }, /cannot read the power cap/],
    [{ model: 'H100@400W', powerCapW: 300 }, /two power caps/],
    [{ powerCapW: Number.NaN }, /power cap must be/],
    [{ model: 'Z9@400W' }, /unknown model/],
  ])('rejects %j', (o, err) => expect(() => createSimNvmlSource({ seed: 1, intervalMs: 1000, ...o })).toThrow(err));

  it('sim-neuron refuses a cap in its model name', () => {
    expect(() => createSimNeuronSource({ seed: 1, intervalMs: 1000, model: 'Trainium2@300W' })).toThrow(/sim-nvml only/);
  });
});
