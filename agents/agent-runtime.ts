/**
 * The agent loop: every interval read all sources, spool one batch for all chips of the host
 * (with the work counters and job attribution gathered since the last one), and let the hub link
 * deliver it; a batch leaves the spool only when the hub acknowledges it.
 */
import type { HelloMessage } from '../schema/protocol.ts';
import { PROTOCOL_VERSION } from '../schema/protocol-constants.ts';
import { FLEETSCOPE_VERSION } from '../schema/version.ts';
import type { HostInfo } from '../schema/sample.ts';
import type { Logger } from '../common/logger.ts';
import { HubLink, type FrameEncoding } from './hub-link.ts';
import type { ChipSource } from './sources/chip-source.ts';
import { Spool } from './spool.ts';
import type { WorkReport } from '../schema/work.ts';
import type { WorkEndpoint } from './work/work-endpoint.ts';
import type { JobLabels } from './work/job-labels.ts';

export const AGENT_VERSION = FLEETSCOPE_VERSION;
export const DEFAULT_SPOOL_MAX_BYTES = 256 * 1024 * 1024;
/** Most work reports, and about the most bytes of them, one batch carries (the rest wait for the next). */
const WORK_PER_BATCH = 1000;
const WORK_BYTES_PER_BATCH = 1024 * 1024;

/** Work counters through the agent's local endpoint, and job attribution (agents/work/). */
export interface AgentWorkOptions {
  /** HTTP port on 127.0.0.1 for `POST /v1/work` (0: any free port). */
  port?: number;
  /** Unix socket for newline-delimited work reports. */
  socketPath?: string;
  /** File naming the job on this host (JSON or KEY=VALUE lines), re-read when it changes. */
  jobFile?: string;
  /** Environment variables naming the job; the first one set wins. */
  jobEnv?: string[];
}

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
  /** Work counters and job attribution; absent: neither (nothing of it is loaded). */
  work?: AgentWorkOptions;
  /** Batch encoding on the wire (default `auto`: binary frames to a hub that takes them). */
  frames?: FrameEncoding;
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
  /** Work reports (counters and job attribution) put into batches by this run. */
  workReportsSent: number;
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
  let work: { endpoint: WorkEndpoint | null; jobs: JobLabels | null };
  try {
    work = await startWork(opts);
  } catch (err) {
    spool.close();
    await Promise.allSettled(opts.sources.map((s) => s.stop()));
    throw err;
  }
  const allChips = () => opts.sources.flatMap((s) => s.chips);
  const hello: HelloMessage = { v: PROTOCOL_VERSION, type: 'hello', agentId, agentVersion: AGENT_VERSION, host, intervalMs: opts.intervalMs, chips: allChips() };

  const counts = { batchesSent: 0, samplesSent: 0, batchesAcked: 0, samplesStored: 0, batchesRejected: 0, workReportsSent: 0 };
  const link = new HubLink({
    hubs: opts.hubs,
    hello,
    spool,
    log: opts.log,
    token: opts.token,
    ca: opts.ca,
    backfillAfterMs: Math.max(5000, 3 * opts.intervalMs),
    frames: opts.frames,
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
    // Work of the sources' own jobs (simulators, a replay with its phases): cumulative counters,
    // so a tick without samples loses nothing (the next report carries them).
    const sourceWork = opts.sources.flatMap((s) => s.readWork?.(now) ?? []);
    void work.jobs?.poll();
    // A batch needs a sample: without one, work reports wait (coalesced) for the next tick.
    if (samples.length > 0) {
      const reports = [...sourceWork.slice(0, WORK_PER_BATCH), ...takeWork(work, now, WORK_PER_BATCH - Math.min(sourceWork.length, WORK_PER_BATCH))];
      spool.append(samples, now, reports);
      counts.workReportsSent += reports.length;
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
  if (work.endpoint) opts.log.info('work endpoint listening', { url: work.endpoint.url ?? undefined, socket: opts.work?.socketPath });

  return {
    agentId,
    stats,
    async stop(drainMs = 3000) {
      stopped = true;
      clearTimeout(timer);
      await work.endpoint?.stop();
      const deadline = Date.now() + drainMs;
      while (spool.pendingBatches > 0 && link.connected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await link.stop();
      await Promise.allSettled(opts.sources.map((s) => s.stop()));
      spool.close();
      return stats();
    },
  };
}

/** Start the work endpoint and read the job labels, as configured; modules loaded only when asked for. */
async function startWork(opts: AgentOptions): Promise<{ endpoint: WorkEndpoint | null; jobs: JobLabels | null }> {
  const w = opts.work;
  let endpoint: WorkEndpoint | null = null;
  let jobs: JobLabels | null = null;
  if (w && (w.port !== undefined || w.socketPath !== undefined)) {
    const { WorkEndpoint } = await import('./work/work-endpoint.ts');
    endpoint = new WorkEndpoint({ port: w.port, socketPath: w.socketPath, log: opts.log });
    await endpoint.start();
  }
  if (w && (w.jobFile !== undefined || w.jobEnv?.length)) {
    const { JobLabels } = await import('./work/job-labels.ts');
    jobs = new JobLabels({ jobFile: w.jobFile, jobEnv: w.jobEnv, log: opts.log });
    await jobs.ready();
  }
  return { endpoint, jobs };
}

/** The work reports for the batch made now: the job's attribution when due, then pending counters. */
function takeWork(work: { endpoint: WorkEndpoint | null; jobs: JobLabels | null }, now: number, room: number): WorkReport[] {
  const out: WorkReport[] = [];
  if (room <= 0) return out;
  const attribution = work.jobs?.due(now) ?? null;
  if (attribution) {
    out.push(attribution);
    work.jobs!.sent(attribution);
  }
  if (work.endpoint && room > out.length) out.push(...work.endpoint.drain(room - out.length, WORK_BYTES_PER_BATCH));
  return out;
}
