/**
 * One-minute rollup buckets straight from the simulators' workload model, without simulating
 * every second: the host's job schedule (HostSchedule, the same one sim-nvml/sim-neuron follow)
 * splits each minute into phase pieces; each piece contributes what 1 s readings of that phase
 * would (mean from PHASE_LOADS and the chip's traits, per-second noise as the sources draw it, the
 * extremes a piece of that length would show, values quantized as the sources report them:
 * integer % and °C, power to 0.01 W, clocks in 15 MHz steps, memory in MiB); temperature follows
 * the two-pole thermal lag, Neuron power is one value per minute (sysfs), energy is the integral
 * of power (60 pairs per minute). Used for the 30 days of the 1-minute tier that the benchmark
 * cannot afford to simulate at 1 s for 1,000 chips.
 */
import { MIB } from '../schema/units.ts';
import {
  IDLE_PCT as NEURON_IDLE_PCT,
  MAX_LOAD as NEURON_MAX_LOAD,
  NEURON_MODELS,
  PCT_PER_LOAD as NEURON_PCT_PER_LOAD,
  RUNTIME_MEM_MIB,
  isPartiallyAllocated,
  type NeuronModelSpec,
} from '../agents/sources/sim-neuron.ts';
import { CAP_MARGIN_W, CONTEXT_MEM_MIB, ECC_PER_SECOND, IDLE_MEM_MIB, NVML_MODELS, type NvmlModelSpec } from '../agents/sources/sim-nvml.ts';
import { createPrng, hashSeed, type Prng } from '../agents/sources/prng.ts';
import { HostSchedule, PHASE_LOADS, clamp, drawChipTraits, perStep, stepThermal, type ChipTraits, type PhaseName, type ThermalState } from '../agents/sources/workload-model.ts';
import type { FieldStats, RollupBucket } from '../server/rollups/rollup-bucket.ts';
import { QUERY_SEED, MINUTE_MS, type BenchHost } from './query-dataset.ts';

const SECONDS = MINUTE_MS / 1000;

/** A stretch of one phase inside a minute. */
interface Piece {
  phase: PhaseName;
  attached: boolean;
  memFrac: number;
  seconds: number;
}

/** Extremes of n normal readings, in sd (about sqrt(2 ln n)), and the sd of their mean (AR(1), 1 s correlation). */
const SPREAD = Array.from({ length: SECONDS + 1 }, (_, n) => (n <= 1 ? 0 : Math.sqrt(2 * Math.log(n))));
const MEAN_SD = Array.from({ length: SECONDS + 1 }, (_, n) => Math.sqrt(Math.min(1, 2 / Math.max(1, n))));
const ECC_PER_MINUTE = perStep(ECC_PER_SECOND, MINUTE_MS);
/** Chance of a power peak over the limit within n capped seconds (sim-nvml: 4 % per second). */
const PEAK = Array.from({ length: SECONDS + 1 }, (_, n) => perStep(0.04, n * 1000));

/** Running stats of one field over a minute (sum of the per-second values); reused minute after minute. */
class Acc {
  cnt = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  last = 0;
  lastSec = 0;

  reset(): this {
    this.cnt = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = -Infinity;
    return this;
  }

  /**
   * `seconds` readings around `mean` (sd `sd`), quantized to `q`, within [lo, hi], ending at second
   * `endSec` (the last reading's value is drawn only for the minute's last piece).
   */
  piece(rng: Prng, seconds: number, endSec: number, mean: number, sd: number, q: number, lo: number, hi: number): void {
    if (sd === 0) return this.constant(quant(clamp(mean, lo, hi), q), seconds, endSec);
    const spread = sd * SPREAD[seconds];
    const u = rng.next();
    const min = quant(clamp(mean - spread * (0.85 + 0.3 * u), lo, hi), q);
    const max = quant(clamp(mean + spread * (1.15 - 0.3 * u), lo, hi), q);
    this.cnt += seconds;
    this.sum += clamp(mean + sd * rng.normal() * MEAN_SD[seconds], min, max) * seconds;
    if (min < this.min) this.min = min;
    if (max > this.max) this.max = max;
    if (endSec === SECONDS) this.last = clamp(quant(mean + sd * rng.normal(), q), min, max);
    this.lastSec = endSec - 1;
  }

  constant(v: number, seconds: number, endSec: number): void {
    this.cnt += seconds;
    this.sum += v * seconds;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    this.last = v;
    this.lastSec = endSec - 1;
  }

  stats(start: number, q: number): FieldStats | null {
    if (this.cnt === 0) return null;
    const sum = clamp(quant(this.sum, q), this.min * this.cnt, this.max * this.cnt);
    return { cnt: this.cnt, sum, min: this.min, max: this.max, last: this.last, lastTs: start + this.lastSec * 1000 };
  }
}

/** Round to a multiple of `q` (0.01 → two decimals without float noise). */
function quant(x: number, q: number): number {
  if (q >= 1) return Math.round(x / q) * q;
  const inv = Math.round(1 / q);
  return Math.round(x * inv) / inv;
}

function constStats(v: number, start: number): FieldStats {
  return { cnt: SECONDS, sum: v * SECONDS, min: v, max: v, last: v, lastTs: start + (SECONDS - 1) * 1000 };
}

/** The ECC counter over one minute (rarely steps by one). */
function eccStats(chip: { ecc: number; rng: Prng }, start: number): FieldStats {
  const before = chip.ecc;
  if (!chip.rng.chance(ECC_PER_MINUTE)) return constStats(before, start);
  const k = chip.rng.int(1, SECONDS - 1);
  chip.ecc += 1;
  return { cnt: SECONDS, sum: before * k + chip.ecc * (SECONDS - k), min: before, max: chip.ecc, last: chip.ecc, lastTs: start + (SECONDS - 1) * 1000 };
}

interface ChipModel {
  rng: Prng;
  traits: ChipTraits;
  thermal: ThermalState;
  ecc: number;
  /** Neuron: the device runs the host's jobs (else it never has a runtime attached). */
  allocated: boolean;
}

export class HostMinuteModel {
  private readonly schedule: HostSchedule;
  private readonly chips: ChipModel[];
  private readonly nvml: NvmlModelSpec | null;
  private readonly neuron: NeuronModelSpec | null;
  private readonly acc = Array.from({ length: 6 }, () => new Acc());

  /** `t0`: the wall time at which the host's simulated schedule starts. */
  constructor(
    host: BenchHost,
    private readonly t0: number,
  ) {
    const name = host.host.hostname;
    this.schedule = new HostSchedule(QUERY_SEED, name);
    this.nvml = host.kind === 'sim-nvml' ? NVML_MODELS[host.model.toUpperCase()] : null;
    this.neuron = host.kind === 'sim-neuron' ? NEURON_MODELS[host.model.toUpperCase()] : null;
    const partial = this.neuron !== null && isPartiallyAllocated(QUERY_SEED, name);
    this.chips = host.chips.map((_, i) => ({
      // the same traits the simulated source draws for this chip, then a stream of our own
      traits: this.nvml ? drawChipTraits(createPrng(hashSeed(QUERY_SEED, name, 'gpu', i)), 0) : drawChipTraits(createPrng(hashSeed(QUERY_SEED, name, 'neuron', i)), this.neuron!.cores),
      rng: createPrng(hashSeed(QUERY_SEED, name, 'minute-model', i)),
      thermal: { fast: 0, slow: 0 },
      ecc: 0,
      allocated: !partial || i < Math.ceil(host.chips.length / 2),
    }));
  }

  /** One bucket per chip (in the host's chip order) for the minute starting at `start`. */
  minute(start: number): RollupBucket[] {
    const pieces: Piece[] = [];
    let t = start - this.t0;
    const endT = t + MINUTE_MS;
    while (t < endT) {
      const seg = this.schedule.at(t);
      const e = Math.min(seg.endMs, endT);
      pieces.push({ phase: seg.phase, attached: seg.attached, memFrac: seg.memFrac, seconds: (e - t) / 1000 });
      t = e;
    }
    return this.chips.map((c) => (this.nvml ? this.gpuMinute(this.nvml, c, pieces, start) : this.neuronMinute(this.neuron!, c, pieces, start)));
  }

  private gpuMinute(spec: NvmlModelSpec, c: ChipModel, pieces: readonly Piece[], start: number): RollupBucket {
    const { rng, traits } = c;
    const [util, memUtil, mem, power, temp, clock] = this.acc.map((a) => a.reset());
    const idleW = spec.idleW + traits.idleOffsetW;
    const capW = spec.limitW - CAP_MARGIN_W;
    let sec = 0;
    for (const p of pieces) {
      const ph = PHASE_LOADS[p.phase];
      const end = sec + p.seconds;
      const load = ph.load * traits.loadScale;
      const demandW = idleW + load * (spec.limitW - spec.idleW);
      const capped = demandW > capW;
      const meanW = capped ? capW : demandW;
      const sdW = capped ? 1.3 : Math.hypot(ph.loadSd * traits.loadScale * (spec.limitW - spec.idleW), 0.25);
      power.piece(rng, p.seconds, end, meanW, sdW, 0.01, idleW * 0.95, spec.limitW + 20);
      // the power controller's short peaks over the limit
      if (capped && rng.chance(PEAK[p.seconds])) power.max = Math.max(power.max, quant(capW + rng.range(4, 16), 0.01));
      const meanUtil = ph.util === 0 ? 0 : clamp(ph.util + traits.utilBias, 0, 100);
      util.piece(rng, p.seconds, end, meanUtil, ph.utilSd, 1, 0, 100);
      const meanMemUtil = ph.memUtil === 0 ? 0 : ph.memUtil * (meanUtil / ph.util);
      memUtil.piece(rng, p.seconds, end, meanMemUtil, ph.memUtil === 0 ? 0 : Math.hypot((ph.memUtil / ph.util) * ph.utilSd, 0.5), 1, 0, 100);
      let memMiB: number;
      if (p.phase === 'idle') memMiB = p.attached ? CONTEXT_MEM_MIB : IDLE_MEM_MIB;
      else if (p.phase === 'cool-down') memMiB = CONTEXT_MEM_MIB + traits.memJitterMiB;
      else memMiB = Math.max(CONTEXT_MEM_MIB, Math.round(p.memFrac * spec.memTotalMiB)) + traits.memJitterMiB;
      mem.constant(Math.min(memMiB, spec.memTotalMiB) * MIB, p.seconds, end);
      // temperature: integer °C along the thermal lag from the piece's start to its end
      const riseC = (spec.fullRiseC * traits.tempScale * (meanW - idleW)) / (spec.limitW - spec.idleW);
      const before = traits.tempIdleC + c.thermal.fast + c.thermal.slow;
      const after = traits.tempIdleC + stepThermal(c.thermal, riseC, p.seconds * 1000);
      temp.cnt += p.seconds;
      temp.sum += ((before + after) / 2) * p.seconds;
      temp.min = Math.min(temp.min, Math.round(Math.min(before, after)));
      temp.max = Math.max(temp.max, Math.round(Math.max(before, after)));
      temp.last = Math.round(after);
      temp.lastSec = end - 1;
      const [lo, hi] = ph.clock;
      if (lo === 0) clock.constant(spec.idleClockMhz, p.seconds, end);
      else if (capped) {
        const mhz = spec.maxClockMhz * Math.pow(capW / demandW, 1.1);
        clock.piece(rng, p.seconds, end, mhz, mhz * 0.015, 15, spec.idleClockMhz, spec.maxClockMhz);
      } else clock.piece(rng, p.seconds, end, (spec.maxClockMhz * (lo + hi)) / 2, (spec.maxClockMhz * (hi - lo)) / Math.sqrt(12), 15, spec.maxClockMhz * lo, spec.maxClockMhz * hi);
      sec = end;
    }
    const powerStats = power.stats(start, 0.01)!;
    return {
      start,
      n: SECONDS,
      f: [
        util.stats(start, 1),
        memUtil.stats(start, 1),
        mem.stats(start, MIB),
        constStats(spec.memTotalMiB * MIB, start),
        powerStats,
        constStats(spec.limitW, start),
        temp.stats(start, 1),
        clock.stats(start, 15),
        eccStats(c, start),
        constStats(0, start),
      ],
      // NVML's energy counter advances by each 1 s power reading: the minute's energy is the power sum
      energyJ: powerStats.sum,
      energyPairs: SECONDS,
    };
  }

  private neuronMinute(spec: NeuronModelSpec, c: ChipModel, pieces: readonly Piece[], start: number): RollupBucket {
    const { rng, traits } = c;
    const [util, mem] = this.acc.map((a) => a.reset());
    const memTotal = spec.memTotalGiB * 1024 * MIB;
    const coreBias = traits.coreBias.reduce((a, b) => a + b, 0) / traits.coreBias.length;
    let pctSum = 0;
    let sec = 0;
    for (const p of pieces) {
      const end = sec + p.seconds;
      const ph = PHASE_LOADS[c.allocated ? p.phase : 'idle'];
      const attached = c.allocated && p.attached;
      pctSum += (NEURON_IDLE_PCT + NEURON_PCT_PER_LOAD * Math.min(ph.load * traits.loadScale, NEURON_MAX_LOAD)) * p.seconds;
      if (attached) {
        const u = ph.util === 0 ? 0 : clamp(ph.util + traits.utilBias, 0, 100);
        const meanUtil = u * (1 + coreBias / 100);
        util.piece(rng, p.seconds, end, meanUtil, ph.util === 0 ? 0 : Math.hypot(ph.utilSd, 1.2 / Math.sqrt(spec.cores)), 0.01, 0, 100);
        const memMiB = p.phase === 'idle' || p.phase === 'cool-down' ? RUNTIME_MEM_MIB + traits.memJitterMiB : Math.round(p.memFrac * spec.memTotalGiB * 1024) + traits.memJitterMiB;
        mem.constant(Math.min(memMiB * MIB, memTotal), p.seconds, end);
      }
      sec = end;
    }
    // sysfs: the minute's mean % of max device power (2 decimals), one value for the whole minute
    const pct = clamp(pctSum / SECONDS + (rng.normal() * 0.8) / Math.sqrt(SECONDS), 0.5, 100);
    const watts = quant((quant(pct, 0.01) * spec.ratedW) / 100, 0.01);
    return {
      start,
      n: SECONDS,
      f: [
        util.stats(start, 0.01),
        null,
        mem.stats(start, MIB),
        constStats(memTotal, start),
        { ...constStats(watts, start), sum: quant(watts * SECONDS, 0.01) },
        constStats(spec.ratedW, start),
        null,
        null,
        eccStats(c, start),
        constStats(0, start),
      ],
      // energy integrated from power by the source (flagged derived)
      energyJ: quant(watts * SECONDS, 0.01),
      energyPairs: SECONDS,
    };
  }
}
