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
    const res = await this.store.insertBatch(agentId, seq, samples);
    const now = Date.now();
    this.metrics.batches++;
    this.metrics.samples += res.stored;
    if (opts.backfill) this.metrics.backfillSamples += res.stored;
    this.fleet.agentReport(agentId, opts, now);
    this.fanout.publishStatus(this.fleet.applySamples(samples, now, opts.backfill));
    if (!opts.backfill) this.fanout.publishSamples(samples);
    return res;
  }
}
