/** Maps `--source KIND` to a source factory. */
import type { Logger } from '../../common/logger.ts';
import type { ChipSource, SimSourceOptions } from './chip-source.ts';
import { parseModelCap } from './model-table.ts';
import { createNeuronMonitorSource } from './neuron-monitor-source.ts';
import { createNvidiaSmiSource } from './nvidia-smi-source.ts';
import { createReplaySource } from './replay-source.ts';
import { createSimNeuronSource } from './sim-neuron.ts';
import { createSimNvmlSource } from './sim-nvml.ts';

/** Everything any source may be configured with (each source reads what it needs). */
export interface SourceOptions extends SimSourceOptions {
  log: Logger;
  /** `nvidia-smi` binary (default: `nvidia-smi` on PATH). */
  nvidiaSmiPath?: string;
  /** `neuron-monitor` binary (default: `neuron-monitor` on PATH). */
  neuronMonitorPath?: string;
  /** Neuron driver sysfs root (default `/sys/devices/virtual/neuron_device`). */
  neuronSysfsDir?: string;
  /** Capture file for `replay`. */
  replayFile?: string;
  /** Replay speed factor (default 1 = real time). */
  replaySpeed?: number;
  /** Replay from the start again when the file ends. */
  replayLoop?: boolean;
  /**
   * Phases file for `replay` (phases with start times and training steps, like
   * test/fixtures/nvidia-h200-training/phases.json): the replay then reports a `steps` counter.
   * Default: `phases.json` next to the capture when it has a `steps` object.
   */
  replayPhases?: string;
}

interface SourceKindEntry {
  describe: string;
  create(o: SourceOptions): ChipSource;
}

export const SOURCE_KINDS: Record<string, SourceKindEntry> = {
  'sim-nvml': { describe: 'simulated NVIDIA host (default p5.48xlarge, 8 x H100; :H200, :B200; power-capped: :H100@400W)', create: createSimNvmlSource },
  'sim-neuron': { describe: 'simulated Trainium host (default trn2.48xlarge, 16 x Trainium2; :Trainium3, :Inferentia2, :Trainium)', create: createSimNeuronSource },
  'nvidia-smi': { describe: 'NVIDIA GPUs via one long-running nvidia-smi --query-gpu -lms child (--nvidia-smi PATH; energy integrated from power)', create: createNvidiaSmiSource },
  replay: { describe: 'replay a capture file (--replay FILE): nvidia-smi CSV, NVML JSON lines or neuron-monitor JSON, re-stamped as live data; training steps from a phases.json next to it', create: createReplaySource },
  'neuron-monitor': { describe: 'AWS Neuron host: a long-lived neuron-monitor child (--neuron-monitor PATH) + driver sysfs power (estimated)', create: createNeuronMonitorSource },
};

export function createSource(kind: string, opts: SourceOptions): ChipSource {
  const entry = Object.hasOwn(SOURCE_KINDS, kind) ? SOURCE_KINDS[kind] : undefined;
  if (!entry) throw new Error(`unknown source ${JSON.stringify(kind)}; available: ${Object.keys(SOURCE_KINDS).join(', ')}`);
  return entry.create(opts);
}

/** A parsed `--source` value: `KIND`, `KIND:MODEL` or `KIND:MODEL@WATTS` (a power-capped simulated model). */
export interface SourceSpec {
  kind: string;
  model?: string;
  powerCapW?: number;
}

/**
 * Parse a `--source` value: `sim-nvml`, `sim-nvml:H200`, `sim-nvml:H100@400W` (H100s capped at
 * 400 W), `sim-nvml:@400W` (the default model, capped). Throws a clear Error for a malformed cap.
 */
export function parseSourceSpec(spec: string): SourceSpec {
  const colon = spec.indexOf(':');
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const rest = colon < 0 ? '' : spec.slice(colon + 1);
  const out: SourceSpec = { kind };
  if (rest === '') return out;
  const parsed = parseModelCap(kind, rest);
  if (parsed.model !== undefined) out.model = parsed.model;
  if (parsed.powerCapW !== undefined) out.powerCapW = parsed.powerCapW;
  return out;
}
