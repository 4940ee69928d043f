/**
 * The agent loop: every interval read all sources, send one batch for all chips of the host,
 * keep it until the hub acknowledges it.
 */
import { PROTOCOL_VERSION, type HelloMessage } from '../schema/protocol.ts';
import type { Logger } from '../server/logger.ts';
import { HubLink } from './hub-link.ts';
import { PendingBatches } from './pending-batches.ts';
import type { ChipSource } from './sources/chip-source.ts';

export const AGENT_VERSION = '0.1.0';

export interface AgentOptions {
  hubs: string[];
  sources: ChipSource[];
  intervalMs: number;
  log: Logger;
  agentId?: string;
  token?: string;
  /** Most unacknowledged batches kept (oldest dropped and counted beyond it). */
  maxPendingBatches?: number;
}

export interface AgentStats {
  batchesSent: number;
  samplesSent: number;
  batchesAcked: number;
  samplesAcked: number;
  samplesStored: number;
  batchesRejected: number;
  pendingBatches: number;
  droppedSamples: number;
}

export interface RunningAgent {
  agentId: string;
  stats(): AgentStats;
  /** Stop sampling, wait up to `drainMs` for outstanding acks, disconnect. */
  stop(drainMs?: number): Promise<AgentStats>;
}

export async function runAgent(opts: AgentOptions): Promise<RunningAgent> {
  if (opts.sources.length === 0) throw new Error('at least one --source is required');
  if (opts.hubs.length === 0) throw new Error('at least one --hub is required');
  await Promise.all(opts.sources.map((s) => s.start()));
  const host = opts.sources[0].host;
  const agentId = opts.agentId ?? host.hostname.replace(/[^A-Za-z0-9._:-]/g, '-');
  const chips = opts.sources.flatMap((s) => s.chips);
  const hello: HelloMessage = { v: PROTOCOL_VERSION, type: 'hello', agentId, agentVersion: AGENT_VERSION, host, intervalMs: opts.intervalMs, chips };

  const pending = new PendingBatches(opts.maxPendingBatches ?? 3600);
  const counts = { batchesSent: 0, samplesSent: 0, batchesAcked: 0, samplesAcked: 0, samplesStored: 0, batchesRejected: 0 };
  const link = new HubLink({
    hubs: opts.hubs,
    hello,
    pending,
    log: opts.log,
    token: opts.token,
    onAck: (b, stored) => {
      counts.batchesAcked++;
      counts.samplesAcked += b.samples.length;
      counts.samplesStored += stored;
    },
    onReject: (b, code) => {
      counts.batchesRejected++;
      opts.log.error('batch rejected by hub and dropped', { seq: b.seq, samples: b.samples.length, code });
    },
  });
  link.start();

  let seq = 0;
  let stopped = false;
  const startAt = Date.now();
  let timer: NodeJS.Timeout;
  const tick = (n: number) => {
    if (stopped) return;
    const now = Date.now();
    const samples = opts.sources.flatMap((s) => s.read(now));
    pending.push({ seq: seq++, samples });
    counts.batchesSent++;
    counts.samplesSent += samples.length;
    link.flush();
    // Schedule against the start time so the interval does not drift.
    const next = Math.max(startAt + (n + 1) * opts.intervalMs, Date.now() + 1);
    timer = setTimeout(() => tick(n + 1), next - Date.now());
  };
  tick(0);

  const stats = (): AgentStats => ({ ...counts, pendingBatches: pending.size, droppedSamples: pending.dropped.samples });
  opts.log.info('agent started', { agentId, chips: chips.length, hubs: opts.hubs.join(','), intervalMs: opts.intervalMs });

  return {
    agentId,
    stats,
    async stop(drainMs = 3000) {
      stopped = true;
      clearTimeout(timer);
      const deadline = Date.now() + drainMs;
      while (pending.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await link.stop();
      await Promise.all(opts.sources.map((s) => s.stop()));
      return stats();
    },
  };
}
