/**
 * What every telemetry source gives the agent: the host, the chip inventory, the samples produced
 * since the last read, and its own health. Sources own their I/O (child processes, files,
 * sysfs); the agent owns the clock.
 */
import type { ChipInfo, HostInfo, Sample } from '../../schema/sample.ts';
import type { SourceHealth } from '../../schema/protocol.ts';
import type { WorkReport } from '../../schema/work.ts';

/** Health of one source, reported to the hub with every batch (defined by `sourceHealthSchema`). */
export type { SourceHealth };

export interface ChipSource {
  /** The --source kind, e.g. `sim-nvml`. */
  readonly kind: string;
  readonly host: HostInfo;
  /** The chips this source reports now. May change while running: then inventory listeners fire. */
  readonly chips: ChipInfo[];
  /** Prepare (discover, spawn children, open files). Rejects with a clear message if the source cannot work at all. */
  start(): Promise<void>;
  /**
   * Samples produced since the previous read. Simulated sources produce exactly one per chip, at
   * `now`, advancing by one interval per call. Real sources return every reading their tool
   * emitted since the previous call, with the tool's own timestamps (possibly none).
   */
  read(now: number): Sample[];
  /** Work counters of the job(s) running on this source's chips since the previous call (simulators, replay with a phases file); absent: none. */
  readWork?(now: number): WorkReport[];
  stop(): Promise<void>;
  health(): SourceHealth;
  /** Register a listener for inventory changes (a GPU appeared or disappeared). */
  onInventoryChange?(listener: () => void): void;
}

export interface SimSourceOptions {
  /** Seed for the deterministic simulation (default 1). */
  seed: number;
  /** Sampling interval in ms: the simulation advances this much per read. */
  intervalMs: number;
  /** Chip model, e.g. H100, H200, B200 / Trainium2, Trainium3, Inferentia2. */
  model?: string;
  /** Number of chips (default per instance type). */
  chips?: number;
  /** Host name (default derived from the seed, e.g. `p5-sim-1`). */
  hostname?: string;
  /**
   * Power cap, W (sim-nvml only; also `model` `H100@400W`): the simulated GPUs report it as their
   * power limit, never draw more, and lose step rate as the real H200 capture did under a cap.
   */
  powerCapW?: number;
  /**
   * Follow the workload schedule (phases) of this host instead of the source's own: a capped host
   * that runs the same work as an uncapped twin, so the two differ by the cap alone (the demo).
   */
  scheduleOf?: string;
}

/** Health of a source that cannot fail (simulators). */
export function alwaysOk(kind: string): () => SourceHealth {
  const h: SourceHealth = { kind, state: 'ok', restarts: 0, parseErrors: 0, lastError: null };
  return () => ({ ...h });
}
