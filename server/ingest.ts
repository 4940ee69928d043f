/**
 * The ingest pipeline every way in shares: register agents, commit batches, then update the
 * fleet view and fan the committed samples out to live subscribers.
 */
import type { ChipView, SourceHealthReport } from '../schema/protocol.ts';
import type { Sample } from '../schema/sample.ts';
import type { FleetState } from './fleet-state.ts';
import type { LiveFanout } from './live/live-fanout.ts';
import type { AgentRegistration, InsertResult, Store } from './store/store.ts';

export interface IngestMetrics {
  batches: number;
  samples: number;
  backfillSamples: number;
  rejectedFrames: number;
}

export interface BatchReport {
  backfill?: boolean;
  health?: SourceHealthReport[];
  dropped?: { batches: number; samples: number };
}

/** Above this many uncommitted rows, ingest stops reading from agents until the writer catches up. */
export const WRITER_HIGH_WATER_ROWS = 200_000;
const WRITER_LOW_WATER_ROWS = 100_000;

/** The samples of one agent within a multi-agent commit. */
export interface AgentSamples {
  agentId: string;
  samples: Sample[];
}

export class Ingest {
  readonly metrics: IngestMetrics = { batches: 0, samples: 0, backfillSamples: 0, rejectedFrames: 0 };

  constructor(
    private readonly store: Store,
    private readonly fleet: FleetState,
    private readonly fanout: LiveFanout,
  ) {}

  async register(reg: AgentRegistration): Promise<ChipView[]> {
    await this.store.registerAgent(reg, Date.now());
    const views = this.fleet.agentConnected(reg);
    this.fanout.publishInventory(views);
    return views;
  }

  /** True when the writer is behind: callers withhold acks and stop reading until `writerReady()`. */
  writerBusy(): boolean {
    return this.store.writeBacklog() > WRITER_HIGH_WATER_ROWS;
  }

  /** Resolves once the writer's backlog is back under the low-water mark. */
  async writerReady(): Promise<void> {
    while (this.store.writeBacklog() > WRITER_LOW_WATER_ROWS) await new Promise((r) => setTimeout(r, 5));
  }

  ownsChip(agentId: string, chipId: string): boolean {
    return this.fleet.isAgentChip(agentId, chipId);
  }

  agentGone(agentId: string): void {
    this.fanout.publishStatus(this.fleet.agentDisconnected(agentId, Date.now()));
  }

  /**
   * Register (or update) a push agent: a line-protocol host with no connection. Its chips count
   * as connected; their status comes from write times alone (see FleetState.pushAgentSeen).
   */
  async registerPushAgent(reg: AgentRegistration): Promise<void> {
    await this.store.registerAgent(reg, Date.now());
    this.fanout.publishInventory(this.fleet.pushAgentSeen(reg));
  }

  /** A new chip inventory from a connected agent. */
  async updateInventory(reg: AgentRegistration): Promise<void> {
    await this.store.registerAgent(reg, Date.now());
    this.fanout.publishInventory(this.fleet.setInventory(reg));
  }

  /**
   * Commit a validated batch; resolves after commit, then fans out. A backfill batch (data that
   * arrived late) is stored with the backfill flag and not pushed to live subscribers.
   */
  async commit(agentId: string, seq: number, batch: Sample[], opts: BatchReport = {}): Promise<InsertResult> {
    const samples = opts.backfill ? batch.map((s) => ({ ...s, flags: { ...s.flags, backfill: true } })) : batch;
    const res = await this.store.insertBatch(agentId, seq, samples, { backfill: opts.backfill });
    this.committed([agentId], samples, res, opts);
    return res;
  }

  /**
   * Commit the samples of several agents (line-protocol hosts, which have no batch sequence)
   * all-or-nothing: one store transaction, so if the store throws nothing is kept. Resolves
   * after commit, then updates the fleet and fans out like a live batch.
   */
  async commitMany(parts: AgentSamples[]): Promise<InsertResult> {
    const results = await this.store.insertBatches(parts.map((p) => ({ agentId: p.agentId, seq: null, samples: p.samples })));
    const res = { stored: results.reduce((n, r) => n + r.stored, 0) };
    this.committed(parts.map((p) => p.agentId), parts.length === 1 ? parts[0].samples : parts.flatMap((p) => p.samples), res, {});
    return res;
  }

  /** After a commit: metrics, agent reports, chip statuses, live fan-out (not for backfill). */
  private committed(agentIds: string[], samples: Sample[], res: InsertResult, opts: BatchReport): void {
    const now = Date.now();
    this.metrics.batches++;
    this.metrics.samples += res.stored;
    if (opts.backfill) this.metrics.backfillSamples += res.stored;
    for (const id of agentIds) this.fleet.agentReport(id, opts, now);
    this.fanout.publishStatus(this.fleet.applySamples(samples, now, opts.backfill));
    if (!opts.backfill) this.fanout.publishSamples(samples);
  }
}
