/**
 * The ingest pipeline every way in shares: register agents, commit batches, then update the
 * fleet view and fan the committed samples out to live subscribers.
 */
import type { ChipView } from '../schema/protocol.ts';
import type { Sample } from '../schema/sample.ts';
import type { FleetState } from './fleet-state.ts';
import type { LiveFanout } from './live/live-fanout.ts';
import type { AgentRegistration, InsertResult, Store } from './store/store.ts';

export interface IngestMetrics {
  batches: number;
  samples: number;
  rejectedFrames: number;
}

export class Ingest {
  readonly metrics: IngestMetrics = { batches: 0, samples: 0, rejectedFrames: 0 };

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

  ownsChip(agentId: string, chipId: string): boolean {
    return this.fleet.isAgentChip(agentId, chipId);
  }

  agentGone(agentId: string): void {
    this.fanout.publishStatus(this.fleet.agentDisconnected(agentId, Date.now()));
  }

  /** Commit a validated batch; resolves after commit, then fans out. */
  async commit(agentId: string, seq: number, batch: Sample[]): Promise<InsertResult> {
    const res = await this.store.insertBatch(agentId, seq, batch);
    this.metrics.batches++;
    this.metrics.samples += res.stored;
    this.fanout.publishStatus(this.fleet.applySamples(batch, Date.now()));
    this.fanout.publishSamples(batch);
    return res;
  }
}
