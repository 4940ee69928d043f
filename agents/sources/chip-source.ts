/**
 * What every telemetry source gives the agent: the host, the chip inventory, and one sample per
 * chip on each read. Sources own their I/O (child processes, files); the agent owns the clock.
 */
import type { ChipInfo, HostInfo, Sample } from '../../schema/sample.ts';

export interface ChipSource {
  /** The --source kind, e.g. `sim-nvml`. */
  readonly kind: string;
  readonly host: HostInfo;
  /** The chips this source reports; stable for a source's lifetime unless it says otherwise. */
  readonly chips: ChipInfo[];
  /** Prepare (spawn children, open files). Sim sources resolve at once. */
  start(): Promise<void>;
  /** One sample per chip at time `now` (ms since epoch). Each call advances the source by one interval. */
  read(now: number): Sample[];
  stop(): Promise<void>;
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
}
