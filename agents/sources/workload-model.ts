/**
 * The simulation core shared by the simulated sources: a per-host job schedule (phases of tens of
 * seconds to a few minutes), per-chip activity for each phase, a "1 s average" power filter and a
 * two-pole thermal lag. Vendor-neutral: sources map `load` to watts (or % of max) themselves.
 *
 * Calibrated on the real captures in test/fixtures (H100 synthetic phases, H200 training run).
 * Everything is deterministic: the only randomness comes from the `Prng` streams passed in.
 */
import type { WorkReport } from '../../schema/work.ts';
import { MAX_WORK_CHIPS } from '../../schema/work-limits.ts';
import type { ChipSource, SimSourceOptions } from './chip-source.ts';
import { createPrng, hashSeed, type Prng } from './prng.ts';

/** Workload phases. `training` is steady full load; checkpoint/eval/stall are episodes inside a training job. */
export const PHASE_NAMES = [
  'idle',
  'training',
  'checkpoint',
  'eval',
  'stall',
  'duty50',
  'memory-bound',
  'cool-down',
] as const;
export type PhaseName = (typeof PHASE_NAMES)[number];

/** What a chip does in one phase, in vendor-neutral units. */
export interface PhaseLoad {
  /** Power demand above idle as a fraction of (limit − idle); above 1 the chip is power-capped. */
  load: number;
  /** Standard deviation of the (time-correlated) load noise, same unit. */
  loadSd: number;
  /** Mean busy-time utilization, % (NVIDIA utilization.gpu, Neuron core utilization). */
  util: number;
  utilSd: number;
  /** Mean memory-controller utilization, %. */
  memUtil: number;
  /** Clock as a fraction of max when not capped, drawn uniformly in [lo, hi]; 0 = idle clock. */
  clock: readonly [number, number];
}

/**
 * Per-phase targets, from the H100 capture (idle 76 W, limit 700 W: load = (W − 76) / 624) and the
 * H200 training capture for checkpoint / eval / stall.
 */
export const PHASE_LOADS: Readonly<Record<PhaseName, PhaseLoad>> = {
  idle: { load: 0, loadSd: 0.0008, util: 0, utilSd: 0, memUtil: 0, clock: [0, 0] },
  // bf16 matmul would draw ~945 W unconstrained: held at the limit by lowering SM clocks (~1380 MHz)
  training: { load: 1.39, loadSd: 0.02, util: 99, utilSd: 0.9, memUtil: 33, clock: [1, 1] },
  checkpoint: { load: 0.19, loadSd: 0.05, util: 6, utilSd: 4, memUtil: 3, clock: [1, 1] },
  eval: { load: 0.934, loadSd: 0.03, util: 93, utilSd: 3, memUtil: 38, clock: [0.91, 1] },
  stall: { load: 0.239, loadSd: 0.05, util: 17, utilSd: 8, memUtil: 8, clock: [0.95, 1] },
  duty50: { load: 0.72, loadSd: 0.022, util: 52, utilSd: 6, memUtil: 20, clock: [0.76, 0.97] },
  'memory-bound': { load: 0.526, loadSd: 0.003, util: 99.5, utilSd: 0.5, memUtil: 99, clock: [0.99, 1] },
  // process still holds its context: ~130 W on an H100 at max clocks, util ~1 %
  'cool-down': { load: 0.087, loadSd: 0.002, util: 1, utilSd: 1.5, memUtil: 1, clock: [1, 1] },
};

/** One stretch of a host's schedule. All chips of a host follow the same schedule. */
export interface Segment {
  phase: PhaseName;
  startMs: number;
  endMs: number;
  /** Job ordinal (0, 1, …); -1 between jobs. */
  job: number;
  /** Fraction of device memory the job holds. */
  memFrac: number;
  /** Whether a process/runtime is attached (false in some idle windows: "no runtime"). */
  attached: boolean;
}

const JOB_BAG: readonly PhaseName[] = ['training', 'training', 'duty50', 'memory-bound'];
const EPISODES: readonly PhaseName[] = ['checkpoint', 'eval', 'stall'];
const EPISODE_SECONDS: Readonly<Partial<Record<PhaseName, [number, number]>>> = {
  checkpoint: [5, 12],
  eval: [8, 20],
  stall: [10, 25],
};

/**
 * A host's job schedule as a function of simulated time, generated lazily from its own PRNG stream:
 * idle → job (training with checkpoint/eval/stall episodes, duty50, or memory-bound) → cool-down → idle …
 * Jobs are drawn from a shuffled bag so every kind shows up within a few minutes.
 */
export class HostSchedule {
  private readonly rng: Prng;
  private readonly segs: Segment[] = [];
  private bag: PhaseName[] = [];
  private jobs = 0;
  private endMs = 0;

  constructor(seed: number, hostKey: string) {
    this.rng = createPrng(hashSeed(seed, hostKey, 'schedule'));
    // a short first idle so a dashboard shows load within seconds
    this.push('idle', this.rng.int(5, 20), -1, 0, this.rng.chance(0.5));
  }

  /** The segment covering simulated time `tMs` (≥ 0). Queries may go back at most 10 minutes. */
  at(tMs: number): Segment {
    while (this.endMs <= tMs) this.extendJob();
    while (this.segs.length > 64 && this.segs[0]!.endMs < tMs - 600_000) this.segs.shift();
    for (let i = this.segs.length - 1; i >= 0; i--) {
      const s = this.segs[i]!;
      if (s.startMs <= tMs) return s;
    }
    throw new Error(`HostSchedule: time ${tMs} ms is before the retained history`);
  }

  private push(phase: PhaseName, seconds: number, job: number, memFrac: number, attached: boolean): void {
    const startMs = this.endMs;
    this.endMs += seconds * 1000;
    this.segs.push({ phase, startMs, endMs: this.endMs, job, memFrac, attached });
  }

  private extendJob(): void {
    const r = this.rng;
    if (this.bag.length === 0) {
      this.bag = [...JOB_BAG];
      for (let i = this.bag.length - 1; i > 0; i--) {
        const j = r.int(0, i);
        [this.bag[i], this.bag[j]] = [this.bag[j]!, this.bag[i]!];
      }
    }
    const kind = this.bag.pop()!;
    const job = this.jobs++;
    let memFrac: number;
    if (kind === 'training') {
      memFrac = r.range(0.6, 0.92);
      const total = r.int(120, 300);
      let elapsed = 0;
      for (;;) {
        const run = r.int(20, 70);
        this.push('training', run, job, memFrac, true);
        elapsed += run;
        if (elapsed + 30 > total) break;
        const ep = r.pick(EPISODES);
        const [lo, hi] = EPISODE_SECONDS[ep]!;
        const d = r.int(lo, hi);
        this.push(ep, d, job, memFrac, true);
        elapsed += d;
      }
    } else if (kind === 'duty50') {
      memFrac = r.range(0.05, 0.4);
      this.push('duty50', r.int(40, 120), job, memFrac, true);
    } else {
      memFrac = r.range(0.2, 0.6);
      this.push('memory-bound', r.int(30, 90), job, memFrac, true);
    }
    this.push('cool-down', r.int(10, 30), job, memFrac, true);
    this.push('idle', r.int(20, 90), -1, 0, r.chance(0.4));
  }
}

/** Fixed per-chip differences (silicon lottery, cooling position). */
export interface ChipTraits {
  /** Idle power offset, W. */
  idleOffsetW: number;
  /** Multiplier on the phase load (±1.5 %). */
  loadScale: number;
  /** Added to utilization when busy, %. */
  utilBias: number;
  /** Idle temperature, °C. */
  tempIdleC: number;
  /** Multiplier on the temperature rise per watt. */
  tempScale: number;
  /** Extra memory the chip's share of a job holds, MiB. */
  memJitterMiB: number;
  /** Per-core utilization offsets, %. */
  coreBias: number[];
}

/** Draw a chip's traits from its own stream. */
export function drawChipTraits(rng: Prng, cores: number): ChipTraits {
  return {
    idleOffsetW: rng.normal() * 1.2,
    loadScale: 1 + rng.normal() * 0.015,
    utilBias: rng.normal() * 0.8,
    tempIdleC: 38 + rng.normal() * 0.8,
    tempScale: 1 + rng.normal() * 0.06,
    memJitterMiB: rng.int(0, 256),
    coreBias: Array.from({ length: cores }, () => rng.normal() * 2.5),
  };
}

/** Two-pole thermal state: °C above idle in a fast (die) and a slow (heatsink/coolant) part. */
export interface ThermalState {
  fast: number;
  slow: number;
}

/**
 * Thermal lag: a fast pole (die, ~2 s) carrying 55 % of the rise and a slow pole (30 s) carrying the
 * rest. The H100 capture rises 38 → 52 °C in the first second of full load, then creeps to 65 °C over 25 s.
 */
export const THERMAL = { fastShare: 0.55, fastTauMs: 2_000, slowTauMs: 30_000 } as const;

/** Advance the thermal lag by `dtMs` towards an equilibrium `riseC` above idle; returns the current rise, °C. */
export function stepThermal(s: ThermalState, riseC: number, dtMs: number): number {
  s.fast += (THERMAL.fastShare * riseC - s.fast) * (1 - Math.exp(-dtMs / THERMAL.fastTauMs));
  s.slow += ((1 - THERMAL.fastShare) * riseC - s.slow) * (1 - Math.exp(-dtMs / THERMAL.slowTauMs));
  return s.fast + s.slow;
}

/** Time constant of the "1 s average" power reading, ms. */
export const POWER_AVG_TAU_MS = 500;

/** One step of the power-averaging filter (NaN `prevW` = no history: start at the target). */
export function smoothPower(prevW: number, targetW: number, dtMs: number): number {
  if (Number.isNaN(prevW)) return targetW;
  return prevW + (targetW - prevW) * (1 - Math.exp(-dtMs / POWER_AVG_TAU_MS));
}

/** Mutable per-chip simulation state. */
export interface ChipState {
  /** AR(1) noise, unit variance, correlation time 1 s. */
  loadNoise: number;
  utilNoise: number;
  /** Filtered power, W (NaN before the first step). */
  avgPowerW: number;
  thermal: ThermalState;
}

/** A fresh chip state at idle equilibrium. */
export function initChipState(): ChipState {
  return { loadNoise: 0, utilNoise: 0, avgPowerW: Number.NaN, thermal: { fast: 0, slow: 0 } };
}

/** A chip's activity over one interval. */
export interface Activity {
  phase: PhaseName;
  attached: boolean;
  /** Power demand above idle as a fraction of (limit − idle); > 1 ⇒ capped. */
  load: number;
  /** Busy-time utilization, % (unrounded). */
  util: number;
  memUtil: number;
  /** Clock fraction of max when not capped; 0 = idle clock. */
  clockFrac: number;
  memFrac: number;
}

const NOISE_CORR_MS = 1_000;

/** Probability that an event with rate `perSecond` (probability per second) happens within `dtMs`. */
export function perStep(perSecond: number, dtMs: number): number {
  return 1 - Math.pow(1 - perSecond, dtMs / 1000);
}

/** Advance one chip by `dtMs` in segment `seg`: updates `state`'s noise and returns the activity. */
export function stepWorkload(seg: Segment, state: ChipState, traits: ChipTraits, dtMs: number, rng: Prng): Activity {
  const p = PHASE_LOADS[seg.phase];
  const rho = Math.exp(-dtMs / NOISE_CORR_MS);
  const k = Math.sqrt(1 - rho * rho);
  state.loadNoise = rho * state.loadNoise + k * rng.normal();
  state.utilNoise = rho * state.utilNoise + k * rng.normal();
  const load = Math.max(0, (p.load + p.loadSd * state.loadNoise) * traits.loadScale);
  const util = p.util === 0 ? 0 : clamp(p.util + traits.utilBias + p.utilSd * state.utilNoise, 0, 100);
  const memUtil = p.memUtil === 0 ? 0 : clamp(p.memUtil * (util / p.util) + rng.normal() * 0.5, 0, 100);
  const [lo, hi] = p.clock;
  const clockFrac = lo === hi ? lo : rng.range(lo, hi);
  return { phase: seg.phase, attached: seg.attached, load, util, memUtil, clockFrac, memFrac: seg.memFrac };
}

/** A simulated source: a `ChipSource` that also tells its current phase (for tests and demos). */
export interface SimChipSource extends ChipSource {
  /** The workload phase of chip `chipIndex` during the last read (before any read: at time 0). */
  phaseOf(chipIndex: number): PhaseName;
  /** The host's one job (`<hostname>/train`): cumulative tokens and steps up to the last read, stamped `now`. */
  readWork(now: number): WorkReport[];
}

/** Validated simulation options with defaults applied. */
export interface SimConfig {
  seed: number;
  intervalMs: number;
  chips: number;
}

/** Check `opts` (throws a clear Error) and apply the default chip count. */
export function simConfig(kind: string, opts: SimSourceOptions, defaultChips: number): SimConfig {
  const seed = opts.seed ?? 1;
  if (!Number.isFinite(seed)) throw new Error(`${kind}: seed must be a finite number, got ${seed}`);
  if (!(Number.isFinite(opts.intervalMs) && opts.intervalMs > 0)) {
    throw new Error(`${kind}: intervalMs must be a positive number, got ${opts.intervalMs}`);
  }
  const chips = opts.chips ?? defaultChips;
  if (!Number.isInteger(chips) || chips < 1 || chips > 4096) {
    throw new Error(`${kind}: chips must be an integer in 1..4096, got ${chips}`);
  }
  return { seed, intervalMs: opts.intervalMs, chips };
}

/** A plausible EC2 instance id (`i-` + 17 hex digits) derived from seed and host. */
export function simInstanceId(seed: number, hostname: string): string {
  return `i-0${createPrng(hashSeed(seed, hostname, 'instance')).hex(16)}`;
}

/** Clamp `x` into [lo, hi]. */
export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/** Round to 2 decimals. */
export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

// ---------------------------------------------------------------------------------------------
// Simulated work: each simulated host runs one job that reports `tokens` and `steps` counters.
// ---------------------------------------------------------------------------------------------

/** Tokens per training step of the simulated jobs (16 sequences × 512 tokens, as in the H200 capture's run). */
export const SIM_TOKENS_PER_STEP = 8192;

/**
 * Peak training throughput per chip, tokens/s, at 100 % utilization without a power cap.
 * MODELLED, NOT MEASURED: plausible relative figures for one mid-size transformer (H100 = 3,000;
 * H200 ≈ 1.35×, B200 ≈ 2.3×, Trainium3 ≈ 1.6×, Trainium2 ≈ 0.9×, Inferentia2 ≈ 0.5×,
 * Trainium ≈ 0.35× an H100). Only the H200's power-cap trade-off below comes from a real capture.
 */
export const PEAK_TOKENS_PER_S: Readonly<Record<string, number>> = {
  H100: 3000,
  H200: 4050,
  B200: 6900,
  Trainium: 1050,
  Trainium2: 2700,
  Trainium3: 4800,
  Inferentia2: 1500,
};

/** The modelled peak tokens/s of one chip of `model` (as the sim tables spell it); throws for an unknown model. */
export function peakTokensPerS(model: string): number {
  const v = Object.hasOwn(PEAK_TOKENS_PER_S, model) ? PEAK_TOKENS_PER_S[model] : undefined;
  if (v === undefined) throw new Error(`no modelled throughput for ${JSON.stringify(model)}; known: ${Object.keys(PEAK_TOKENS_PER_S).join(', ')}`);
  return v;
}

/**
 * How step rate follows power under a cap: rate ∝ power^α. From the real H200 training capture
 * (test/fixtures/nvidia-h200-training): with the limit lowered from 700 W to 400 W the run kept
 * 86 % of its step rate at 63 % of its power, so α = ln 0.86 / ln 0.63 ≈ 0.33.
 */
export const CAP_RATE_ALPHA = Math.log(0.86) / Math.log(0.63);

/** What a power cap does to a chip that would draw `uncappedW` without it. */
export interface CapEffect {
  /** The power drawn under the cap: min(uncapped, cap), W. */
  powerW: number;
  /** Multiplier on the work rate: (capped / uncapped)^α, 1 when the cap does not bite. */
  rateFactor: number;
}

/** The effect of a power cap `capW` (undefined: none) on a chip that would draw `uncappedW`. */
export function capEffect(uncappedW: number, capW: number | undefined): CapEffect {
  if (capW === undefined || !(uncappedW > capW) || !(uncappedW > 0)) return { powerW: uncappedW, rateFactor: 1 };
  const powerW = Math.max(0, capW);
  return { powerW, rateFactor: Math.pow(powerW / uncappedW, CAP_RATE_ALPHA) };
}

/** Phases in which the job does no work: no job (idle) or the job has ended (cool-down). */
export const NO_WORK_PHASES: ReadonlySet<PhaseName> = new Set<PhaseName>(['idle', 'cool-down']);

/**
 * Work rate of one chip, tokens/s: peak × (utilization / 100) × cap factor; 0 in idle and cool-down.
 * Data-loader stalls, checkpoints and duty-cycled work lower it with their utilization.
 */
export function workRate(peakPerS: number, phase: PhaseName, utilPct: number, capFactor = 1): number {
  if (NO_WORK_PHASES.has(phase) || !(utilPct > 0)) return 0;
  return peakPerS * (clamp(utilPct, 0, 100) / 100) * capFactor;
}

/**
 * The cumulative counters of a simulated host's one job (`<hostname>/train`): tokens, and steps of
 * `tokensPerStep` tokens. Counters only go up (restarts are not simulated).
 */
export class SimJobCounter {
  private tokens = 0;
  readonly job: string;

  constructor(
    hostname: string,
    private readonly chipIds: readonly string[],
    private readonly labels: Record<string, string>,
    private readonly tokensPerStep = SIM_TOKENS_PER_STEP,
  ) {
    this.job = `${hostname}/train`.slice(0, 128).replace(/[^A-Za-z0-9._:/@+=-]/g, '-');
  }

  /** Add `tokens` of work (negative or non-finite amounts are ignored). */
  add(tokens: number): void {
    if (tokens > 0 && Number.isFinite(tokens)) this.tokens += tokens;
  }

  /** Tokens done so far (unrounded). */
  get total(): number {
    return this.tokens;
  }

  /** The report at `ts` (ms): integer counters, the job's chips (omitted above the schema's limit: every chip). */
  report(ts: number): WorkReport {
    const r: WorkReport = {
      ts: Math.floor(ts),
      job: this.job,
      counters: { tokens: Math.floor(this.tokens), steps: Math.floor(this.tokens / this.tokensPerStep) },
      labels: { ...this.labels },
    };
    if (this.chipIds.length > 0 && this.chipIds.length <= MAX_WORK_CHIPS) r.chips = [...this.chipIds];
    return r;
  }
}
