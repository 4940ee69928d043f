/** Maps `--source KIND` to a source factory. */
import type { ChipSource, SimSourceOptions } from './chip-source.ts';
import { createSimNeuronSource } from './sim-neuron.ts';
import { createSimNvmlSource } from './sim-nvml.ts';

export const SOURCE_KINDS = {
  'sim-nvml': { describe: 'simulated NVIDIA host (default p5.48xlarge, 8 x H100; --model H200|B200)', create: createSimNvmlSource },
  'sim-neuron': { describe: 'simulated Trainium host (default trn2.48xlarge, 16 x Trainium2; --model Trainium3|Inferentia2|Trainium)', create: createSimNeuronSource },
} as const satisfies Record<string, { describe: string; create: (o: SimSourceOptions) => ChipSource }>;

export type SourceKind = keyof typeof SOURCE_KINDS;

export function isSourceKind(kind: string): kind is SourceKind {
  return Object.hasOwn(SOURCE_KINDS, kind);
}

export function createSource(kind: string, opts: SimSourceOptions): ChipSource {
  if (!isSourceKind(kind)) {
    throw new Error(`unknown source ${JSON.stringify(kind)}; available: ${Object.keys(SOURCE_KINDS).join(', ')}`);
  }
  return SOURCE_KINDS[kind].create(opts);
}
