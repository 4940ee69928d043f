/**
 * The query benchmark's seeded fleet: 1,000 chips on 105 simulated hosts (NVIDIA H100/H200 p5 hosts
 * with 8 GPUs, AWS trn2 hosts with 16 Trainium2 and inf2 hosts with 12 Inferentia2), named and
 * identified exactly as the simulated sources name them (GPU UUIDs, `<instance-id>-neuron<N>`).
 * 100 of the chips (11 hosts, every model) also get 48 h of raw samples. Pure: no I/O.
 */
import type { ChipInfo, HostInfo } from '../schema/sample.ts';
import { createSimNeuronSource } from '../agents/sources/sim-neuron.ts';
import { createSimNvmlSource } from '../agents/sources/sim-nvml.ts';
import type { SimChipSource } from '../agents/sources/workload-model.ts';

export const QUERY_SEED = 7;
export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
export const TIER_1M_DAYS = 30;
export const RAW_HOURS = 48;

interface HostGroup {
  kind: 'sim-nvml' | 'sim-neuron';
  model: string;
  prefix: string;
  hosts: number;
  /** How many of these hosts also get raw samples. */
  rawHosts: number;
}

/** 400 H100 + 240 H200 + 240 Trainium2 + 120 Inferentia2 = 1,000 chips; raw: 48 + 24 + 16 + 12 = 100. */
const GROUPS: readonly HostGroup[] = [
  { kind: 'sim-nvml', model: 'H100', prefix: 'p5', hosts: 50, rawHosts: 6 },
  { kind: 'sim-nvml', model: 'H200', prefix: 'p5e', hosts: 30, rawHosts: 3 },
  { kind: 'sim-neuron', model: 'Trainium2', prefix: 'trn2', hosts: 15, rawHosts: 1 },
  { kind: 'sim-neuron', model: 'Inferentia2', prefix: 'inf2', hosts: 10, rawHosts: 1 },
];

export interface BenchHost {
  kind: 'sim-nvml' | 'sim-neuron';
  model: string;
  host: HostInfo;
  chips: ChipInfo[];
  /** Raw samples for the last RAW_HOURS (from the simulated source itself). */
  raw: boolean;
}

/** The simulated source of a host: the same ids, traits and schedule the seeding uses. */
export function hostSource(kind: BenchHost['kind'], model: string, hostname: string): SimChipSource {
  const opts = { seed: QUERY_SEED, intervalMs: 1000, model, hostname };
  return kind === 'sim-nvml' ? createSimNvmlSource(opts) : createSimNeuronSource(opts);
}

export function benchHosts(): BenchHost[] {
  const out: BenchHost[] = [];
  for (const g of GROUPS) {
    for (let i = 0; i < g.hosts; i++) {
      const src = hostSource(g.kind, g.model, `${g.prefix}-bench-${String(i).padStart(3, '0')}`);
      out.push({ kind: g.kind, model: g.model, host: src.host, chips: src.chips, raw: i < g.rawHosts });
    }
  }
  return out;
}

/** The dataset's time frame: 1-minute tier over [start, end), raw tier over [rawStart, end); end is a whole minute. */
export interface TimeFrame {
  start: number;
  end: number;
  rawStart: number;
}

export function timeFrame(now: number): TimeFrame {
  const end = now - (now % MINUTE_MS);
  return { start: end - TIER_1M_DAYS * DAY_MS, end, rawStart: end - RAW_HOURS * HOUR_MS };
}

/** Start of each 1m-tier row (an hour) that [start, end) touches. */
export function rowStarts(f: TimeFrame): number[] {
  const out: number[] = [];
  for (let r = f.start - (f.start % HOUR_MS); r < f.end; r += HOUR_MS) out.push(r);
  return out;
}

/**
 * Split hosts between `n` seeding processes with about equal work: a raw host's chips cost about
 * 4 times a minute-model chip (48 h of per-second simulation and chunk encoding on top of the 30 days).
 */
export function partitionHosts(hosts: readonly BenchHost[], n: number): number[][] {
  const cost = (h: BenchHost) => h.chips.length * (h.raw ? 4 : 1);
  const order = hosts.map((h, i) => i).sort((a, b) => cost(hosts[b]) - cost(hosts[a]));
  const parts: number[][] = Array.from({ length: n }, () => []);
  const load = new Array<number>(n).fill(0);
  for (const i of order) {
    const p = load.indexOf(Math.min(...load));
    parts[p].push(i);
    load[p] += cost(hosts[i]);
  }
  return parts.map((p) => p.sort((a, b) => a - b));
}
