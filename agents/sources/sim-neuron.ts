/**
 * `sim-neuron`: a simulated AWS Neuron host (default trn2.48xlarge, 16 × Trainium2) that reads like
 * neuron-monitor + the Neuron driver sysfs: per-NeuronCore utilization, no temperature, and power
 * only as "% of max device power" averaged over each minute, turned into watts with an assumed
 * rated max (so flagged estimated) and integrated into energy (flagged derived).
 */
import type { ChipInfo, HostInfo, Sample } from '../../schema/sample.ts';
import { MIB } from '../../schema/units.ts';
import { lookupModel, parseModelCap } from './model-table.ts';
import { alwaysOk, type SimSourceOptions } from './chip-source.ts';
import { NEURON_DEVICE_TYPES } from './neuron-monitor-report.ts';
import { createPrng, hashSeed, type Prng } from './prng.ts';
import {
  HostSchedule,
  SimJobCounter,
  clamp,
  drawChipTraits,
  initChipState,
  peakTokensPerS,
  perStep,
  round2,
  simConfig,
  simInstanceId,
  stepWorkload,
  workRate,
  type ChipState,
  type ChipTraits,
  type PhaseName,
  type Segment,
  type SimChipSource,
} from './workload-model.ts';

/** Hardware constants of one simulated Neuron device type. */
export interface NeuronModelSpec {
  model: string;
  instanceType: string;
  /** Host name prefix: `<prefix>-sim-<seed>`. */
  hostPrefix: string;
  chips: number;
  /** NeuronCores per chip. */
  cores: number;
  memTotalGiB: number;
  /** Assumed max device power, W (not published by AWS: an estimate). */
  ratedW: number;
}

/** The same estimated max power the real neuron-monitor source assumes. */
const rated = (deviceType: string): number => NEURON_DEVICE_TYPES[deviceType].ratedPowerW!;

/** Supported models, keyed by upper-case name. */
export const NEURON_MODELS: Readonly<Record<string, NeuronModelSpec>> = {
  TRAINIUM2: { model: 'Trainium2', instanceType: 'trn2.48xlarge', hostPrefix: 'trn2', chips: 16, cores: 8, memTotalGiB: 96, ratedW: rated('trainium2') },
  TRAINIUM3: { model: 'Trainium3', instanceType: 'trn3.48xlarge', hostPrefix: 'trn3', chips: 16, cores: 8, memTotalGiB: 144, ratedW: rated('trainium3') },
  INFERENTIA2: { model: 'Inferentia2', instanceType: 'inf2.48xlarge', hostPrefix: 'inf2', chips: 12, cores: 2, memTotalGiB: 32, ratedW: rated('inferentia2') },
  TRAINIUM: { model: 'Trainium', instanceType: 'trn1.32xlarge', hostPrefix: 'trn1', chips: 16, cores: 2, memTotalGiB: 32, ratedW: rated('trainium') },
};

/** Device memory a loaded runtime holds while not running a job, MiB. */
export const RUNTIME_MEM_MIB = 512;
const MINUTE_MS = 60_000;
/** sysfs power is % of max with background power backed out: idle reads a few %. */
export const IDLE_PCT = 3;
export const PCT_PER_LOAD = 80;
/** Load at which the device saturates (Neuron has no 1 s power cap to model). */
export const MAX_LOAD = 1.12;

/** Look up a model by name (case-insensitive); throws listing the supported ones. */
export function neuronModelSpec(name: string | undefined): NeuronModelSpec {
  if (parseModelCap('sim-neuron', name).powerCapW !== undefined) {
    throw new Error(`sim-neuron: a power cap (${name}) is simulated for sim-nvml only: Neuron devices have no settable power limit`);
  }
  return lookupModel('sim-neuron', NEURON_MODELS, name, 'Trainium2');
}

/**
 * Whether a host runs its jobs on only half of its devices, the rest having no runtime attached
 * (about 1 host in 16, chosen by seed and host name; e.g. seed 8 with the default trn2 host name,
 * never the default seeds 1 and 2).
 */
export function isPartiallyAllocated(seed: number, hostname: string): boolean {
  return hashSeed(seed, hostname, 'allocation') % 16 === 8;
}

interface DeviceSim {
  info: ChipInfo;
  rng: Prng;
  traits: ChipTraits;
  state: ChipState;
  /** Runs the host's jobs (false: never has a runtime). */
  allocated: boolean;
  energyJ: number;
  ecc: number;
  phase: PhaseName;
}

/** One device's simulated interval, before power (known only once the minute is complete). */
interface Frame {
  phase: PhaseName;
  utilPct: number | null;
  memUsedBytes: number | null;
  extras?: Record<string, number>;
  ecc: number;
  /** Tokens the device's share of the job did in this interval. */
  tokens: number;
}

const NO_RUNTIME: Segment = { phase: 'idle', startMs: 0, endMs: Infinity, job: -1, memFrac: 0, attached: false };

/**
 * Create a simulated Neuron source (kind `sim-neuron`); `opts.model` is Trainium2 (default),
 * Trainium3, Inferentia2 or Trainium.
 */
export function createSimNeuronSource(opts: SimSourceOptions): SimChipSource {
  const spec = neuronModelSpec(opts.model);
  const cfg = simConfig('sim-neuron', opts, spec.chips);
  const hostname = opts.hostname ?? `${spec.hostPrefix}-sim-${cfg.seed}`;
  const instanceId = simInstanceId(cfg.seed, hostname);
  const host: HostInfo = { hostname, instanceId, instanceType: spec.instanceType };
  const schedule = new HostSchedule(cfg.seed, hostname);
  const partial = isPartiallyAllocated(cfg.seed, hostname);
  const memTotalBytes = spec.memTotalGiB * 1024 * MIB;
  const devices: DeviceSim[] = Array.from({ length: cfg.chips }, (_, index) => {
    const rng = createPrng(hashSeed(cfg.seed, hostname, 'neuron', index));
    const allocated = !partial || index < Math.ceil(cfg.chips / 2);
    return {
      info: {
        chipId: `${instanceId}-neuron${index}`,
        vendor: 'aws',
        model: spec.model,
        index,
        cores: spec.cores,
        memTotalBytes,
        ratedPowerW: spec.ratedW,
      },
      rng,
      traits: drawChipTraits(rng, spec.cores),
      state: initChipState(),
      allocated,
      energyJ: 0,
      ecc: 0,
      phase: allocated ? schedule.at(0).phase : 'idle',
    };
  });
  const dt = cfg.intervalMs;
  let step = 0;
  const peak = peakTokensPerS(spec.model);
  // the job runs on the devices that have a runtime (all of them but on partially allocated hosts)
  const work = new SimJobCounter(hostname, devices.filter((d) => d.allocated).map((d) => d.info.chipId), { generation: spec.model });
  /** The current simulated minute, simulated ahead: frames[i][chip], and each chip's minute power. */
  let frames: Frame[][] = [];
  let minutePowerW: number[] = [];
  let next = 0;

  function simulateDevice(d: DeviceSim, seg: Segment): { frame: Frame; pct: number } {
    const act = stepWorkload(d.allocated ? seg : NO_RUNTIME, d.state, d.traits, dt, d.rng);
    const pct = clamp(IDLE_PCT + PCT_PER_LOAD * Math.min(act.load, MAX_LOAD) + d.rng.normal() * 0.8, 0.5, 100);
    if (d.rng.chance(perStep(1 / (6 * 3600), dt))) d.ecc += 1;
    const tokens = (workRate(peak, act.phase, act.util) * dt) / 1000;
    if (!act.attached) return { frame: { phase: act.phase, utilPct: null, memUsedBytes: null, ecc: d.ecc, tokens }, pct };
    const extras: Record<string, number> = {};
    let sum = 0;
    for (let c = 0; c < spec.cores; c++) {
      const u =
        act.util === 0 ? 0 : round2(clamp(act.util + d.traits.coreBias[c]! * (act.util / 100) + d.rng.normal() * 1.2, 0, 100));
      extras[`nc${c}`] = u;
      sum += u;
    }
    const memMiB =
      act.phase === 'idle' || act.phase === 'cool-down'
        ? RUNTIME_MEM_MIB + d.traits.memJitterMiB
        : Math.round(act.memFrac * spec.memTotalGiB * 1024) + d.traits.memJitterMiB;
    const frame: Frame = {
      phase: act.phase,
      utilPct: round2(sum / spec.cores),
      memUsedBytes: Math.min(memMiB * MIB, memTotalBytes),
      extras,
      ecc: d.ecc,
      tokens,
    };
    return { frame, pct };
  }

  /** Simulate the whole simulated minute that the next read falls in; its sysfs power is that minute's mean. */
  function fillMinute(): void {
    const minute = Math.floor((step * dt) / MINUTE_MS);
    const sums = devices.map(() => 0);
    frames = [];
    next = 0;
    while (Math.floor((step * dt) / MINUTE_MS) === minute) {
      const seg = schedule.at(step * dt);
      step += 1;
      frames.push(
        devices.map((d, i) => {
          const { frame, pct } = simulateDevice(d, seg);
          sums[i] += pct;
          return frame;
        }),
      );
    }
    // sysfs keeps 2 decimals of % of max
    minutePowerW = sums.map((s) => round2((round2(s / frames.length) * spec.ratedW) / 100));
  }

  return {
    kind: 'sim-neuron',
    host,
    chips: devices.map((d) => d.info),
    async start() {},
    read(now: number): Sample[] {
      if (next >= frames.length) fillMinute();
      const row = frames[next]!;
      next += 1;
      return devices.map((d, i): Sample => {
        const f = row[i]!;
        const powerW = minutePowerW[i]!;
        d.phase = f.phase;
        d.energyJ += (powerW * dt) / 1000;
        work.add(f.tokens);
        const sample: Sample = {
          ts: now,
          chipId: d.info.chipId,
          utilPct: f.utilPct,
          memUtilPct: null,
          memUsedBytes: f.memUsedBytes,
          memTotalBytes,
          powerW,
          powerLimitW: spec.ratedW,
          tempC: null,
          // Rounded to mJ as neuron-monitor-source.ts gives its integrated energy.
          energyJ: Math.round(d.energyJ * 1000) / 1000,
          eccCorrected: f.ecc,
          eccUncorrected: 0,
          flags: { powerEstimated: true, energyDerived: true },
        };
        if (f.extras) sample.extras = f.extras;
        return sample;
      });
    },
    readWork(now: number) {
      return [work.report(now)];
    },
    async stop() {},
    health: alwaysOk('sim-neuron'),
    phaseOf(chipIndex: number): PhaseName {
      const d = devices[chipIndex];
      if (!d) throw new RangeError(`sim-neuron: no chip ${chipIndex} (have ${devices.length})`);
      return d.phase;
    },
  };
}
