/**
 * The ingest pipeline every way in shares: register agents, commit batches, then update the
 * fleet view and fan the committed samples out to live subscribers.
 */
import { withBackfill } from '../schema/sample-flags.ts';
import type { ChipView, SourceHealthReport } from '../schema/protocol.ts';
import type { Sample } from '../schema/sample.ts';
import type { FleetState } from './fleet-state.ts';
import type { LiveFanout } from './live/live-fanout.ts';
import type { AgentRegistration, InsertResult, RecordBatch, Store } from './store/store.ts';
import { LINE_PROTOCOL_AGENT_VERSION } from './line-protocol/plan-write.ts';
import { decideHello, partitionChips, type ExistingAgent, type ForeignChip } from './ownership.ts';
import { AgentQuota, tooManyAgentsMessage } from './ws/agent-limits.ts';
import type { WorkReport } from '../schema/work.ts';
import type { WorkRecorder } from './work/work-recorder.ts';
import type { AgentEventSink } from './agent-events/agent-event-recorder.ts';
import type { EventLoopTurns } from './event-loop-turns.ts';

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
  /** Work counters the batch carried (schema/work.ts): recorded with it, before its ack. */
  work?: WorkReport[];
}

/** Above this many uncommitted rows, ingest stops reading from agents until the writer catches up. */
export const WRITER_HIGH_WATER_ROWS = 200_000;
const WRITER_LOW_WATER_ROWS = 100_000;

/**
 * An /ws/agent connection as ingest sees it: the token it authenticated with (null on an open hub)
 * and how to end it when a newer connection of the same agent (same token) replaces it.
 */
export interface AgentSession {
  readonly tokenId: string | null;
  replaced(): void;
}

/** A hello's outcome: the registration as made (chips owned by other agents left out, listed in `foreign`), or the refusal. */
export type HelloOutcome = { ok: true; registration: AgentRegistration; foreign: ForeignChip[] } | { ok: false; code: 'agent_owned' | 'out_of_range'; message: string };

/** An inventory change as made: the chips owned by other agents left out, listed in `foreign`. */
export interface InventoryOutcome {
  registration: AgentRegistration;
  foreign: ForeignChip[];
}

/** An admin's chip move: the chip's new view, or what was not found. */
export type MoveOutcome = { ok: true; chip: ChipView } | { ok: false; missing: 'chip' | 'agent' };

/**
 * What ingest tells alerting (server/alerts/alert-engine.ts): committed samples, and that an
 * agent's connection, inventory or chips changed (hello, disconnect, inventory, push registration, chip move).
 */
export interface IngestObserver {
  onSamples(samples: readonly Sample[], opts: { backfill: boolean }): void;
  onAgentChange(agentId: string): void;
  /** A hello brought these chips here: what to wait for before the agent is welcomed (null: nothing). */
  takeOver?(chipIds: readonly string[]): Promise<void> | null;
}

/** The ways samples come in: /ws/agent, POST /api/v1/write. */
export type IngestWay = 'ws' | 'line_protocol';

/** What ingest and its ways in tell self-observability (server/telemetry/hub-instruments.ts). */
export interface IngestProbe {
  /** A commit finished: samples stored, seconds from hand-over to the writer to commit. */
  committed(way: IngestWay, stored: number, seconds: number): void;
  /** Frames, requests or lines refused, by error code. */
  rejected(way: IngestWay, reason: string, count?: number): void;
  /** A batch or request waited for the writer before it was read on (backpressure). */
  ackWithheld(way: IngestWay): void;
  /** Alerting evaluated a commit's samples against its rules, taking this long. */
  evaluated(samples: number, seconds: number): void;
}

/** The samples of one agent within a multi-agent commit. */
export interface AgentSamples {
  agentId: string;
  samples: Sample[];
}

export class Ingest {
  readonly metrics: IngestMetrics = { batches: 0, samples: 0, backfillSamples: 0, rejectedFrames: 0 };
  /** Self-observability, set by the hub (none by default). */
  probe: IngestProbe | null = null;
  /** Where work counters go, set by the hub (none: they are dropped). */
  work: WorkRecorder | null = null;
  /** Where agent connection events go (server/agent-events), set by the hub (none: not recorded). Never waited on. */
  agentEvents: AgentEventSink | null = null;
  /**
   * Turns of the event loop for the work after each commit (fleet state, fan-out, alerting; set by
   * the hub, event-loop-turns.ts): a commit of the writer resolves hundreds of batches at once, and
   * their work in one go would hold every other request for a few hundred milliseconds. None: at once.
   */
  commitTurns: EventLoopTurns | null = null;
  /** The newest /ws/agent connection of each connected agent id. */
  private readonly sessions = new Map<string, AgentSession>();
  /** Agent ids seen (from the store on first use): the token each is bound to; line-protocol host? */
  private readonly bindings = new Map<string, { tokenId: string | null; pushAgent: boolean }>();
  /** Inventory changes (hellos, inventories, line-protocol registrations, chip moves) are decided one at a time. */
  private inventoryTurn: Promise<unknown> = Promise.resolve();
  /**
   * Chips of hellos decided and not yet applied (their registration still committing), and those
   * commits: hellos decide in turn but commit together (the writer takes the registrations that
   * arrive meanwhile in one transaction), so thousands of agents reconnecting at once are
   * registered in a few commits, not one round trip to the writer each.
   */
  private readonly claims = new Map<string, string>();
  private readonly helloCommits = new Set<Promise<unknown>>();
  /** The wait for the writer's backlog to drain, shared by everyone held back (writerReady). */
  private ready: Promise<void> | null = null;

  constructor(
    private readonly store: Store,
    private readonly fleet: FleetState,
    private readonly fanout: LiveFanout,
    /** Has this token been revoked? (Its agent ids are then free for the next token: rotation.) */
    private readonly tokenRevoked: (tokenId: string) => boolean = () => false,
    /** Agent ids bound per token, bounded (seeded from the store by the hub). */
    private readonly quota: AgentQuota = new AgentQuota(),
    /** Alerting, told of commits and connection changes (none by default). */
    private readonly observer: IngestObserver | null = null,
  ) {}

  /**
   * Run `fn` alone among inventory changes: ownership is decided and registered without another
   * registration deciding in between (two hellos claiming the same new chip, say). Registration
   * methods of this class take the turn themselves; `registerPushAgent` must be called inside one.
   */
  withInventoryTurn<T>(fn: () => Promise<T>): Promise<T> {
    // Hellos decided before and still committing are applied first: the fleet is whole for `fn`.
    return this.turn(async () => {
      await this.hellosApplied();
      return fn();
    });
  }

  private turn<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.inventoryTurn.then(fn);
    this.inventoryTurn = run.catch(() => undefined);
    return run;
  }

  /** Settles once every hello decided so far is committed and applied (or failed). */
  private async hellosApplied(): Promise<void> {
    while (this.helloCommits.size > 0) await Promise.allSettled([...this.helloCommits]);
  }

  /** Who has the chip: a hello decided and not yet applied, else the fleet. */
  private ownerOf(chipId: string): string | undefined {
    return this.claims.get(chipId) ?? this.fleet.get(chipId)?.agentId;
  }

  /**
   * An agent's hello on `session` (server/ownership.ts): refused when the id is another token's;
   * chips other agents own are left out of the registration; an older connection of the same
   * agent is told it was replaced once the new one is registered (counted connected first, so its
   * close never shows the agent disconnected).
   */
  hello(reg: AgentRegistration, session: AgentSession): Promise<HelloOutcome> {
    // Decided in turn, against the fleet and the claims of hellos decided before (committed or not).
    const decided = this.turn(async () => {
      const existing = await this.existingAgent(reg.agentId);
      const decision = decideHello(reg.agentId, existing, session.tokenId);
      if (!decision.ok) return decision;
      // A new binding (a new id, or one claimed from a revoked or null binding) counts against the token's quota.
      const rebinding = existing !== null && existing.tokenId !== decision.bindTo;
      const bound = existing === null || rebinding;
      if (bound) {
        if (!this.quota.tryBind(decision.bindTo)) return { ok: false as const, code: 'out_of_range' as const, message: tooManyAgentsMessage(this.quota.maxPerToken) };
        if (rebinding) this.quota.unbind(existing.tokenId);
      }
      const { kept, foreign } = partitionChips(reg.agentId, reg.chips, (chipId) => this.ownerOf(chipId));
      const registration: AgentRegistration = { ...reg, chips: kept, tokenId: decision.bindTo };
      for (const c of kept) this.claims.set(c.chipId, reg.agentId);
      const before = this.bindings.get(reg.agentId);
      this.bindings.set(reg.agentId, { tokenId: decision.bindTo, pushAgent: false });
      const committed = this.store.registerAgent(registration, Date.now());
      this.helloCommits.add(committed);
      const undo = () => {
        // Not stored: the binding and the quota go back to what they were.
        if (before) this.bindings.set(reg.agentId, before);
        else this.bindings.delete(reg.agentId);
        if (bound) {
          this.quota.unbind(decision.bindTo);
          if (rebinding) this.quota.tryBind(existing.tokenId);
        }
      };
      return { ok: true as const, registration, foreign, committed, undo };
    });
    return decided.then(async (d): Promise<HelloOutcome> => {
      if (!d.ok) return d;
      try {
        await d.committed;
      } catch (err) {
        d.undo();
        throw err;
      } finally {
        for (const c of d.registration.chips) if (this.claims.get(c.chipId) === reg.agentId) this.claims.delete(c.chipId);
        this.helloCommits.delete(d.committed);
      }
      this.fanout.publishInventory(this.fleet.agentConnected(d.registration));
      // Alert states another hub left for these chips (shared database) are read before the agent's samples are.
      const takingOver = this.observer?.takeOver?.(d.registration.chips.map((c) => c.chipId));
      if (takingOver) await takingOver;
      this.observer?.onAgentChange(reg.agentId);
      const older = this.sessions.get(reg.agentId);
      this.sessions.set(reg.agentId, session);
      if (older && older !== session) this.agentEvents?.record(reg.agentId, 'disconnected', 'replaced');
      this.agentEvents?.record(reg.agentId, 'connected');
      if (older && older !== session) older.replaced();
      return { ok: true, registration: d.registration, foreign: d.foreign };
    });
  }

  private async existingAgent(agentId: string): Promise<ExistingAgent | null> {
    let b = this.bindings.get(agentId);
    if (!b) {
      const stored = await this.store.getAgent(agentId);
      if (!stored) return null;
      b = { tokenId: stored.tokenId, pushAgent: stored.version === LINE_PROTOCOL_AGENT_VERSION };
      this.bindings.set(agentId, b);
    }
    return {
      tokenId: b.tokenId,
      pushAgent: b.pushAgent || this.fleet.isPushAgent(agentId),
      connected: this.sessions.has(agentId) || this.fleet.hasConnection(agentId),
      tokenRevoked: b.tokenId !== null && this.tokenRevoked(b.tokenId),
    };
  }

  /** True when the writer is behind: callers withhold acks and stop reading until `writerReady()`. */
  writerBusy(): boolean {
    return this.store.writeBacklog() > WRITER_HIGH_WATER_ROWS;
  }

  /**
   * Resolves once the writer's backlog is back under the low-water mark. Every waiter shares one
   * check every 5 ms (thousands of agents held back at once do not each poll).
   */
  writerReady(): Promise<void> {
    if (this.store.writeBacklog() <= WRITER_LOW_WATER_ROWS) return Promise.resolve();
    this.ready ??= new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (this.store.writeBacklog() > WRITER_LOW_WATER_ROWS) return;
        clearInterval(timer);
        this.ready = null;
        resolve();
      }, 5);
    });
    return this.ready;
  }

  ownsChip(agentId: string, chipId: string): boolean {
    return this.fleet.isAgentChip(agentId, chipId);
  }

  /**
   * The hub fell behind (`on` false) or caught up (`on` true) with the agent's connection
   * `session` (not reading it, its frames waiting, acks owed): silence meanwhile is not the chips'
   * (fleet-state.ts agentReading).
   */
  agentReading(agentId: string, session: AgentSession, on: boolean): void {
    if (this.sessions.get(agentId) !== session) return;
    this.fleet.agentReading(agentId, on, Date.now());
  }

  /** A connection of the agent closed (after its last commit); `session`: that connection's. */
  agentGone(agentId: string, session?: AgentSession): void {
    // A replaced connection's end was recorded when it was replaced.
    const current = session === undefined || this.sessions.get(agentId) === session;
    if (session !== undefined && current) this.sessions.delete(agentId);
    if (current) this.agentEvents?.record(agentId, 'disconnected');
    this.fanout.publishStatus(this.fleet.agentDisconnected(agentId, Date.now()));
    this.observer?.onAgentChange(agentId);
  }

  /**
   * Register (or update) a push agent: a line-protocol host with no connection. Its chips count
   * as connected; their status comes from write times alone (see FleetState.pushAgentSeen). Call
   * it inside `withInventoryTurn`, with the registration planned in that turn (chips that other
   * agents own left out).
   */
  async registerPushAgent(reg: AgentRegistration): Promise<void> {
    await this.store.registerAgent(reg, Date.now());
    this.fanout.publishInventory(this.fleet.pushAgentSeen(reg));
    this.observer?.onAgentChange(reg.agentId);
  }

  /**
   * A push agent whose inventory the fleet has (loaded from the store) writes for the first time
   * since the hub started: counted as connected again, nothing stored. False (nothing done) when
   * the store does not have the agent as a push agent: register it instead. Call it inside
   * `withInventoryTurn`.
   */
  async resumePushAgent(reg: AgentRegistration): Promise<boolean> {
    const existing = await this.existingAgent(reg.agentId);
    if (existing === null || !existing.pushAgent) return false;
    this.fanout.publishInventory(this.fleet.pushAgentSeen(reg));
    this.observer?.onAgentChange(reg.agentId);
    return true;
  }

  /** A new chip inventory from a connected agent; chips other agents own are left out. */
  updateInventory(reg: AgentRegistration): Promise<InventoryOutcome> {
    return this.withInventoryTurn(async () => {
      const { kept, foreign } = partitionChips(reg.agentId, reg.chips, (chipId) => this.ownerOf(chipId));
      const registration: AgentRegistration = { ...reg, chips: kept };
      await this.store.registerAgent(registration, Date.now());
      this.fanout.publishInventory(this.fleet.setInventory(registration));
      this.observer?.onAgentChange(reg.agentId);
      return { registration, foreign };
    });
  }

  /** An admin gives a chip to another agent (its batches may then name it; the former owner's may not). */
  moveChip(chipId: string, agentId: string): Promise<MoveOutcome> {
    return this.withInventoryTurn(async (): Promise<MoveOutcome> => {
      if (!this.fleet.get(chipId)) return { ok: false, missing: 'chip' };
      if (!(await this.store.getAgent(agentId))) return { ok: false, missing: 'agent' };
      const now = Date.now();
      const stored = await this.store.moveChip(chipId, agentId, now);
      if (!stored) return { ok: false, missing: 'chip' };
      const chip = this.fleet.moveChip(stored, now);
      this.fanout.publishInventory([chip]);
      this.observer?.onAgentChange(agentId);
      return { ok: true, chip };
    });
  }

  /**
   * Commit a validated batch; resolves after commit, then fans out. A backfill batch (data that
   * arrived late) is stored with the backfill flag and not pushed to live subscribers. `again`:
   * the same samples made anew after the commit (a binary frame decoded a second time); with it,
   * `batch` is read only now and not held across the commit, so that its objects die young
   * instead of being promoted by the garbage collector (the commit takes ~1 s at full ingest).
   */
  commit(agentId: string, seq: number, batch: Sample[], opts: BatchReport = {}, again?: () => Sample[]): Promise<InsertResult> {
    if (!opts.backfill) this.fleet.heard(batch, Date.now());
    const t0 = performance.now();
    const work = this.recordWork(agentId, opts);
    const samples = opts.backfill ? batch.map(withBackfill) : batch;
    const stored = this.store.insertBatch(agentId, seq, samples, { backfill: opts.backfill });
    return this.afterCommit(agentId, stored, work, t0, opts, again ? () => (opts.backfill ? again().map(withBackfill) : again()) : keep(samples));
  }

  /**
   * Commit a live batch a binary frame gave as a sample record (server/ws/frame-record.ts), as
   * `commit` does its samples: no sample object is made before the commit; `again` makes them
   * after it. Only for a store that `takesRecords`.
   */
  commitRecord(agentId: string, seq: number, batch: RecordBatch, opts: BatchReport, again: () => Sample[]): Promise<InsertResult> {
    if (!this.store.insertRecord) throw new Error('this store takes no sample records: commit the samples');
    this.fleet.heardChips(batch.keys.chipIds, Date.now());
    const t0 = performance.now();
    const work = this.recordWork(agentId, opts);
    const stored = this.store.insertRecord(agentId, seq, batch);
    return this.afterCommit(agentId, stored, work, t0, opts, again);
  }

  /** Whether the store takes batches as sample records (commitRecord). */
  get takesRecords(): boolean {
    return this.store.insertRecord !== undefined;
  }

  /** The work counters a batch carried, recorded (with it, before its ack); null when none. */
  private recordWork(agentId: string, opts: BatchReport): Promise<unknown> | null {
    const work = opts.work?.length && this.work ? this.work.record(agentId, opts.work, this.fleet.agentChipIds(agentId), (id) => this.fleet.isAgentChip(agentId, id)) : null;
    work?.catch(() => undefined);
    return work;
  }

  private async afterCommit(agentId: string, stored: Promise<InsertResult>, work: Promise<unknown> | null, t0: number, opts: BatchReport, samples: () => Sample[]): Promise<InsertResult> {
    const res = await stored;
    if (work) await work;
    this.probe?.committed('ws', res.stored, (performance.now() - t0) / 1000);
    // After the commit's duration is taken: the wait for a turn is not part of it.
    const turn = this.commitTurns?.turn();
    if (turn) await turn;
    this.committed([agentId], samples(), res, opts);
    return res;
  }

  /**
   * Commit the samples of several agents (line-protocol hosts, which have no batch sequence)
   * all-or-nothing: one store transaction, so if the store throws nothing is kept. Resolves
   * after commit, then updates the fleet and fans out like a live batch.
   */
  async commitMany(parts: AgentSamples[]): Promise<InsertResult> {
    const now = Date.now();
    for (const p of parts) this.fleet.heard(p.samples, now);
    const t0 = performance.now();
    const results = await this.store.insertBatches(parts.map((p) => ({ agentId: p.agentId, seq: null, samples: p.samples })));
    const res = { stored: results.reduce((n, r) => n + r.stored, 0) };
    this.probe?.committed('line_protocol', res.stored, (performance.now() - t0) / 1000);
    const turn = this.commitTurns?.turn();
    if (turn) await turn;
    this.committed(parts.map((p) => p.agentId), parts.length === 1 ? parts[0].samples : parts.flatMap((p) => p.samples), res, {});
    return res;
  }

  /** After a commit: metrics, agent reports, chip statuses, live fan-out (not for backfill), alerting. */
  private committed(agentIds: string[], samples: Sample[], res: InsertResult, opts: BatchReport): void {
    const now = Date.now();
    this.metrics.batches++;
    this.metrics.samples += res.stored;
    if (opts.backfill) this.metrics.backfillSamples += res.stored;
    for (const id of agentIds) this.fleet.agentReport(id, opts, now);
    this.fanout.publishStatus(this.fleet.applySamples(samples, now, opts.backfill));
    if (!opts.backfill) this.fanout.publishSamples(samples);
    if (this.observer === null) return;
    const t0 = this.probe ? performance.now() : 0;
    this.observer.onSamples(samples, { backfill: opts.backfill === true });
    this.probe?.evaluated(samples.length, (performance.now() - t0) / 1000);
  }
}

/** `x`, given later (in a closure that holds nothing else). */
const keep = <T>(x: T) => () => x;
