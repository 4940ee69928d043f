/**
 * The agent loop: every interval read all sources, spool one batch for all chips of the host,
 * and let the hub link deliver it; a batch leaves the spool only when the hub acknowledges it.
 */
import type { HelloMessage } from '../schema/protocol.ts';
import { PROTOCOL_VERSION } from '../schema/protocol-constants.ts';
import { FLEETSCOPE_VERSION } from '../schema/version.ts';
import type { HostInfo } from '../schema/sample.ts';
import type { Logger } from '../common/logger.ts';
import { HubLink } from './hub-link.ts';
import type { ChipSource } from './sources/chip-source.ts';
import { Spool } from './spool.ts';

export const AGENT_VERSION = FLEETSCOPE_VERSION;
export const DEFAULT_SPOOL_MAX_BYTES = 256 * 1024 * 1024;

export interface AgentOptions {
  hubs: string[];
  sources: ChipSource[];
  intervalMs: number;
  log: Logger;
  agentId?: string;
  token?: string;
  /** PEM CA for wss:// hubs with a private CA. */
  ca?: string | Buffer;
  /** Spool directory (survives restarts), or a function of the agent id giving one; null keeps unacknowledged batches in memory only. */
  spoolDir?: string | null | ((agentId: string) => string);
  /** Spool size limit in bytes (default 256 MiB); in memory: batches, default 3600. */
  spoolMaxBytes?: number;
  spoolMaxBatches?: number;
}

export interface AgentStats {
  /** Batches and samples produced by this run. */
  batchesSent: number;
  samplesSent: number;
  batchesAcked: number;
  samplesStored: number;
  batchesRejected: number;
  /** Unacknowledged batches in the spool (including ones from an earlier run). */
  pendingBatches: number;
  droppedBatches: number;
  droppedSamples: number;
  connected: boolean;
}

export interface RunningAgent {
  agentId: string;
  stats(): AgentStats;
  /** Stop sampling, wait up to `drainMs` for outstanding acks, disconnect, close the spool. */
  stop(drainMs?: number): Promise<AgentStats>;
}

/** One host, whatever mix of sources reports it: the first that knows its instance wins. */
function mergedHost(sources: ChipSource[]): HostInfo {
  return sources.find((s) => s.host.instanceId)?.host ?? sources[0].host;
}

export async function runAgent(opts: AgentOptions): Promise<RunningAgent> {
  if (opts.sources.length === 0) throw new Error('at least one --source is required');
  if (opts.hubs.length === 0) throw new Error('at least one --hub is required');
  try {
    await Promise.all(opts.sources.map((s) => s.start()));
  } catch (err) {
    await Promise.allSettled(opts.sources.map((s) => s.stop()));
    throw err;
  }
  // Some sources learn their host only when started (neuron-monitor's instance info).
  const host = mergedHost(opts.sources);
  const agentId = opts.agentId ?? host.hostname.replace(/[^A-Za-z0-9._:-]/g, '-');
  const spoolDir = typeof opts.spoolDir === 'function' ? opts.spoolDir(agentId) : (opts.spoolDir ?? null);
  let spool: Spool;
  try {
    spool = new Spool({ dir: spoolDir, maxBytes: opts.spoolMaxBytes ?? DEFAULT_SPOOL_MAX_BYTES, maxBatches: opts.spoolMaxBatches ?? 3600, segmentBatches: 300, log: opts.log });
  } catch (err) {
    await Promise.allSettled(opts.sources.map((s) => s.stop()));
    throw err;
  }
  const allChips = () => opts.sources.flatMap((s) => s.chips);
  const hello: HelloMessage = { v: PROTOCOL_VERSION, type: 'hello', agentId, agentVersion: AGENT_VERSION, host, intervalMs: opts.intervalMs, chips: allChips() };

  const counts = { batchesSent: 0, samplesSent: 0, batchesAcked: 0, samplesStored: 0, batchesRejected: 0 };
  const link = new HubLink({
    hubs: opts.hubs,
    hello,
    spool,
    log: opts.log,
    token: opts.token,
    ca: opts.ca,
    backfillAfterMs: Math.max(5000, 3 * opts.intervalMs),
    report: () => ({ health: opts.sources.map((s) => s.health()), dropped: { ...spool.dropped } }),
    onAck: (_seq, stored) => {
      counts.batchesAcked++;
      counts.samplesStored += stored;
    },
    onReject: (seq, code) => {
      counts.batchesRejected++;
      opts.log.error('batch rejected by hub and dropped', { seq, code });
    },
  });
  for (const s of opts.sources) {
    s.onInventoryChange?.(() => {
      opts.log.info('chip inventory changed', { source: s.kind, chips: s.chips.length });
      link.setChips(allChips());
    });
  }
  link.start();

  let stopped = false;
  const startAt = Date.now();
  let timer: NodeJS.Timeout;
  const tick = (n: number) => {
    if (stopped) return;
    const now = Date.now();
    const samples = opts.sources.flatMap((s) => s.read(now));
    if (samples.length > 0) {
      spool.append(samples, now);
      counts.batchesSent++;
      counts.samplesSent += samples.length;
      link.flush();
    }
    // Schedule against the start time so the interval does not drift.
    const next = Math.max(startAt + (n + 1) * opts.intervalMs, Date.now() + 1);
    timer = setTimeout(() => tick(n + 1), next - Date.now());
  };
  tick(0);

  const stats = (): AgentStats => ({
    ...counts,
    pendingBatches: spool.pendingBatches,
    droppedBatches: spool.dropped.batches,
    droppedSamples: spool.dropped.samples,
    connected: link.connected,
  });
  opts.log.info('agent started', { agentId, chips: hello.chips.length, hubs: opts.hubs.join(','), intervalMs: opts.intervalMs, spool: spoolDir ?? 'memory' });

  return {
    agentId,
    stats,
    async stop(drainMs = 3000) {
      stopped = true;
      clearTimeout(timer);
      const deadline = Date.now() + drainMs;
      while (spool.pendingBatches > 0 && link.connected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await link.stop();
      await Promise.allSettled(opts.sources.map((s) => s.stop()));
      spool.close();
      return stats();
    },
  };
}
