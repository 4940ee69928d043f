/**
 * `sim-nvml`: a simulated NVIDIA host (default p5.48xlarge, 8 × H100 SXM) that reads like NVML:
 * 1 s-average power in W with occasional peaks over the limit under full load, an mJ energy counter
 * since "driver load", integer °C, SM clocks that drop when power-capped, MiB-granular memory.
 */
import type { ChipInfo, HostInfo, Sample } from '../../schema/sample.ts';
import { MIB } from '../../schema/units.ts';
import { lookupModel, parseModelCap } from './model-table.ts';
import { alwaysOk, type SimSourceOptions } from './chip-source.ts';
import { createPrng, hashSeed, type Prng } from './prng.ts';
import {
  HostSchedule,
  SimJobCounter,
  capEffect,
  clamp,
  drawChipTraits,
  initChipState,
  peakTokensPerS,
  perStep,
  round2,
  simConfig,
  simInstanceId,
  smoothPower,
  stepThermal,
  stepWorkload,
  workRate,
  type ChipState,
  type ChipTraits,
  type PhaseName,
  type SimChipSource,
} from './workload-model.ts';

/** Hardware constants of one simulated NVIDIA model. */
export interface NvmlModelSpec {
  model: string;
  instanceType: string;
  /** Host name prefix: `<prefix>-sim-<seed>`. */
  hostPrefix: string;
  gpus: number;
  /** Streaming multiprocessors per GPU (reported as ChipInfo.cores). */
  sms: number;
  memTotalMiB: number;
  limitW: number;
  idleW: number;
  idleClockMhz: number;
  maxClockMhz: number;
  /** Equilibrium temperature rise at the power limit, °C. */
  fullRiseC: number;
}

/** Supported models, keyed by upper-case name. */
export const NVML_MODELS: Readonly<Record<string, NvmlModelSpec>> = {
  H100: { model: 'H100', instanceType: 'p5.48xlarge', hostPrefix: 'p5', gpus: 8, sms: 132, memTotalMiB: 81_559, limitW: 700, idleW: 76, idleClockMhz: 345, maxClockMhz: 1980, fullRiseC: 30 },
  H200: { model: 'H200', instanceType: 'p5e.48xlarge', hostPrefix: 'p5e', gpus: 8, sms: 132, memTotalMiB: 143_771, limitW: 700, idleW: 79, idleClockMhz: 345, maxClockMhz: 1980, fullRiseC: 30 },
  B200: { model: 'B200', instanceType: 'p6-b200.48xlarge', hostPrefix: 'p6-b200', gpus: 8, sms: 148, memTotalMiB: 183_359, limitW: 1000, idleW: 140, idleClockMhz: 345, maxClockMhz: 1965, fullRiseC: 32 },
};

/** Memory an idle GPU reports used (driver reservation), MiB. */
export const IDLE_MEM_MIB = 480;
/** Memory a process's CUDA context holds, MiB. */
export const CONTEXT_MEM_MIB = 1107;
/** How far below the limit the power controller holds a capped GPU, W. */
export const CAP_MARGIN_W = 2.5;
/** Corrected ECC errors per second of load (about one every 6 hours). */
export const ECC_PER_SECOND = 1 / (6 * 3600);

/** Look up a model by name (case-insensitive); throws listing the supported ones. */
export function nvmlModelSpec(name: string | undefined): NvmlModelSpec {
  return lookupModel('sim-nvml', NVML_MODELS, name, 'H100');
}

/** Lowest power cap the simulator accepts, W (NVML's minimum limit of these parts is 200 W or more). */
export const MIN_POWER_CAP_W = 100;
/** SM clock vs power under a user cap: clock ∝ power^0.8 (the H200 capture: 1980 → ~1365 MHz at 63 % power). */
const CAP_CLOCK_EXP = 0.8;

/**
 * The model and power cap of a `sim-nvml` source from `opts.model` (`H100`, `H100@400W`, `@400W`)
 * and `opts.powerCapW`; throws a clear Error for a bad or conflicting cap. `powerCapW` undefined: not capped.
 */
export function nvmlModelAndCap(opts: Pick<SimSourceOptions, 'model' | 'powerCapW'>): { spec: NvmlModelSpec; powerCapW: number | undefined } {
  const parsed = parseModelCap('sim-nvml', opts.model);
  const spec = nvmlModelSpec(parsed.model);
  if (opts.powerCapW !== undefined && parsed.powerCapW !== undefined && opts.powerCapW !== parsed.powerCapW) {
    throw new Error(`sim-nvml: two power caps given: ${parsed.powerCapW} W in the model and ${opts.powerCapW} W as an option`);
  }
  const cap = opts.powerCapW ?? parsed.powerCapW;
  if (cap !== undefined && !(Number.isFinite(cap) && cap >= MIN_POWER_CAP_W && cap <= spec.limitW)) {
    throw new Error(`sim-nvml: power cap must be ${MIN_POWER_CAP_W}..${spec.limitW} W for the ${spec.model}, got ${cap}`);
  }
  return { spec, powerCapW: cap };
}

/** A GPU UUID (`GPU-8-4-4-4-12` hex) derived from seed, host and index. */
export function simGpuUuid(seed: number, hostname: string, index: number): string {
  const h = createPrng(hashSeed(seed, hostname, 'gpu-uuid', index)).hex(32);
  return `GPU-${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

interface GpuSim {
  info: ChipInfo;
  rng: Prng;
  traits: ChipTraits;
  state: ChipState;
  energyMj: number;
  eccCorrected: number;
  phase: PhaseName;
}

/**
 * Create a simulated NVIDIA source (kind `sim-nvml`); `opts.model` is H100 (default), H200 or B200,
 * optionally with a power cap (`H100@400W`, or `opts.powerCapW`): then the GPUs report the cap as their
 * power limit, never read above it, and the job's work rate drops as `capEffect` says.
 */
export function createSimNvmlSource(opts: SimSourceOptions): SimChipSource {
  const { spec, powerCapW } = nvmlModelAndCap(opts);
  const cfg = simConfig('sim-nvml', opts, spec.gpus);
  const hostname = opts.hostname ?? (powerCapW === undefined ? `${spec.hostPrefix}-sim-${cfg.seed}` : `${spec.hostPrefix}-sim-cap${Math.round(powerCapW)}-${cfg.seed}`);
  const host: HostInfo = { hostname, instanceId: simInstanceId(cfg.seed, hostname), instanceType: spec.instanceType };
  const schedule = new HostSchedule(cfg.seed, opts.scheduleOf ?? hostname);
  const gpus: GpuSim[] = Array.from({ length: cfg.chips }, (_, index) => {
    const rng = createPrng(hashSeed(cfg.seed, opts.scheduleOf ?? hostname, 'gpu', index));
    return {
      info: {
        chipId: simGpuUuid(cfg.seed, hostname, index),
        vendor: 'nvidia',
        model: spec.model,
        index,
        cores: spec.sms,
        memTotalBytes: spec.memTotalMiB * MIB,
        ratedPowerW: spec.limitW,
      },
      rng,
      traits: drawChipTraits(rng, 0),
      state: initChipState(),
      // NVML's energy counter runs since driver load: start it somewhere in days' worth of mJ
      energyMj: rng.int(2_000_000_000, 60_000_000_000),
      eccCorrected: 0,
      phase: schedule.at(0).phase,
    };
  });
  let step = 0;
  const dt = cfg.intervalMs;
  const peak = peakTokensPerS(spec.model);
  const work = new SimJobCounter(hostname, gpus.map((g) => g.info.chipId), { generation: spec.model });
  const limitW = powerCapW ?? spec.limitW;

  function sampleGpu(g: GpuSim, seg: ReturnType<HostSchedule['at']>, now: number): Sample {
    const act = stepWorkload(seg, g.state, g.traits, dt, g.rng);
    g.phase = act.phase;
    const idleW = spec.idleW + g.traits.idleOffsetW;
    const demandW = idleW + act.load * (spec.limitW - spec.idleW);
    // what the GPU draws at its default limit, and under the user's cap (if any)
    const defaultW = Math.min(demandW, spec.limitW - CAP_MARGIN_W);
    const cap = capEffect(defaultW, powerCapW === undefined ? undefined : powerCapW - CAP_MARGIN_W);
    const capW = limitW - CAP_MARGIN_W;
    const capped = demandW > capW;
    g.state.avgPowerW = smoothPower(g.state.avgPowerW, capped ? capW : demandW, dt);
    let power = g.state.avgPowerW + g.rng.normal() * (capped ? 1.3 : 0.25);
    // the power controller overshoots now and then: short peaks over the limit (capture: max 715 W);
    // a lowered limit is held strictly (the capture under 400 W: mean 395 W, no sustained excess)
    if (powerCapW === undefined && capped && g.rng.chance(perStep(0.04, dt))) power += g.rng.range(4, 16);
    if (powerCapW !== undefined) power = Math.min(power, powerCapW);
    const powerW = round2(Math.max(idleW * 0.95, power));
    work.add((workRate(peak, act.phase, act.util, cap.rateFactor) * dt) / 1000);
    g.energyMj += Math.max(1, Math.round(powerW * dt)); // W × ms = mJ
    const riseC = (spec.fullRiseC * g.traits.tempScale * (powerW - idleW)) / (spec.limitW - spec.idleW);
    const tempC = Math.round(g.traits.tempIdleC + stepThermal(g.state.thermal, riseC, dt));

    let clock: number;
    if (act.clockFrac === 0) clock = spec.idleClockMhz;
    else if (powerCapW !== undefined && capped) {
      // clock at the default limit, lowered further with the power the user's cap takes away
      const atDefault = defaultW < spec.limitW - CAP_MARGIN_W ? act.clockFrac : Math.pow(defaultW / demandW, 1.1);
      clock = spec.maxClockMhz * atDefault * Math.pow(cap.powerW / defaultW, CAP_CLOCK_EXP) * (1 + g.rng.normal() * 0.015);
    } else if (capped) clock = spec.maxClockMhz * Math.pow(capW / demandW, 1.1) * (1 + g.rng.normal() * 0.015);
    else clock = spec.maxClockMhz * act.clockFrac;
    clock = clamp(Math.round(clock / 15) * 15, spec.idleClockMhz, spec.maxClockMhz);

    let memMiB: number;
    if (act.phase === 'idle') memMiB = act.attached ? CONTEXT_MEM_MIB : IDLE_MEM_MIB;
    else if (act.phase === 'cool-down') memMiB = CONTEXT_MEM_MIB + g.traits.memJitterMiB;
    else memMiB = Math.max(CONTEXT_MEM_MIB, Math.round(act.memFrac * spec.memTotalMiB)) + g.traits.memJitterMiB;
    memMiB = Math.min(memMiB, spec.memTotalMiB);

    if (g.rng.chance(perStep(ECC_PER_SECOND, dt))) g.eccCorrected += 1;

    return {
      ts: now,
      chipId: g.info.chipId,
      utilPct: Math.round(act.util),
      memUtilPct: Math.round(act.memUtil),
      memUsedBytes: memMiB * MIB,
      memTotalBytes: spec.memTotalMiB * MIB,
      powerW,
      powerLimitW: limitW,
      tempC,
      energyJ: g.energyMj / 1000,
      smClockMhz: clock,
      eccCorrected: g.eccCorrected,
      eccUncorrected: 0,
    };
  }

  return {
    kind: 'sim-nvml',
    host,
    chips: gpus.map((g) => g.info),
    async start() {},
    read(now: number): Sample[] {
      const seg = schedule.at(step * dt);
      step += 1;
      return gpus.map((g) => sampleGpu(g, seg, now));
    },
    readWork(now: number) {
      return [work.report(now)];
    },
    async stop() {},
    health: alwaysOk('sim-nvml'),
    phaseOf(chipIndex: number): PhaseName {
      const g = gpus[chipIndex];
      if (!g) throw new RangeError(`sim-nvml: no chip ${chipIndex} (have ${gpus.length})`);
      return g.phase;
    },
  };
}
