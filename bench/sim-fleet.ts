/**
 * Hosts for the ingest generators, with values from the agents' own simulators (agents/sources:
 * sim-nvml's and sim-neuron's workload models), so what the hub stores moves the way a fleet's
 * readings do: phases, power following load, thermal lag, memory steps. Host `h` is a p5 with 16
 * H100, a p5e with 16 H200 or (one host in four) a trn2 with 16 Trainium2, each seeded by its
 * number, so two runs send the same values. The simulators advance one interval (1 s) per read:
 * a generator sending faster than 1 Hz replays simulated seconds on wall-clock timestamps.
 */
import type { ChipInfo, HostInfo, Sample } from '../schema/sample.ts';
import type { WorkReport } from '../schema/work.ts';
import type { BatchMessage } from '../schema/protocol.ts';
import { createSimNeuronSource } from '../agents/sources/sim-neuron.ts';
import { createSimNvmlSource } from '../agents/sources/sim-nvml.ts';

export const CHIPS_PER_HOST = 16;

export interface SimHost {
  readonly host: HostInfo;
  readonly chips: ChipInfo[];
  /** The next sample of every chip, stamped `ts`. */
  next(ts: number): Sample[];
  /** The host's job's work counters as of the last `next` (one report), stamped `ts`. */
  work(ts: number): WorkReport[];
  /** What an agent reports with every batch (agents/agent-runtime.ts): its source's health, its spool's drops. */
  report(): Pick<BatchMessage, 'health' | 'dropped'>;
}

export function simHost(h: number, prefix = 'bench'): SimHost {
  const hostname = `${prefix}-host-${String(h).padStart(5, '0')}`;
  const opts = { seed: h + 1, intervalMs: 1000, chips: CHIPS_PER_HOST, hostname };
  const source = h % 4 === 3 ? createSimNeuronSource({ ...opts, model: 'Trainium2' }) : createSimNvmlSource({ ...opts, model: h % 2 === 0 ? 'H100' : 'H200' });
  let simNow = 1_700_000_000_000;
  return {
    host: source.host,
    chips: source.chips,
    next(ts) {
      simNow += 1000;
      const samples = source.read(simNow);
      for (const s of samples) s.ts = ts;
      return samples;
    },
    work(ts) {
      return (source.readWork?.(simNow) ?? []).map((r) => ({ ...r, ts }));
    },
    report() {
      return { health: [source.health()], dropped: { batches: 0, samples: 0 } };
    },
  };
}
