/**
 * In-memory view of the fleet: every known chip with its host, latest sample and derived status.
 * Loaded from the store at start (chips seen before show as offline until their agent returns).
 * With a live bus (server/bus/) it also holds remote chips, those of agents connected to other
 * hubs: their status is the origin hub's, never derived here, and a local agent's hello for one
 * makes it local again.
 */
import type { ChipView, SourceHealthReport } from '../schema/protocol.ts';
import type { ChipInfo, ChipStatus, Sample } from '../schema/sample.ts';
import { deriveStatus, STALE_AFTER_INTERVALS } from './chip-status.ts';
import { DeadlineHeap } from './deadline-heap.ts';
import { keepLatest } from './latest-sample.ts';
import type { AgentRegistration, StoredChip } from './store/store.ts';

interface ChipEntry {
  view: ChipView;
  intervalMs: number;
  /** When the hub last heard from the chip (moved on by the time the hub did not read its agent's socket: agentReading). */
  lastSampleAt: number | null;
  /** False once the chip left its agent's inventory (shown offline). */
  active: boolean;
  /** The copy of its samples this entry keeps as `view.latest` and overwrites in place (latest-sample.ts); null: none yet. */
  ownLatest: Sample | null;
}

/** What the hub knows about an agent (GET /api/v1/agents). */
export interface AgentView {
  agentId: string;
  host: string;
  version: string;
  intervalMs: number;
  connected: boolean;
  chips: number;
  lastBatchAt: number | null;
  health: SourceHealthReport[];
  dropped: { batches: number; samples: number };
}

/** A status or alerting timer this late (ms) means the hub is behind its sockets: silence is not judged then. */
export const HUB_LAG_MS = 1_000;

export class FleetState {
  private readonly chips = new Map<string, ChipEntry>();
  /** agentId -> number of open connections of that agent */
  private readonly connected = new Map<string, number>();
  private readonly agents = new Map<string, AgentView>();
  /** Agents that push over HTTP without a connection (see pushAgentSeen). */
  private readonly pushAgents = new Set<string>();
  /**
   * agentId -> the chips in its inventory (active entries naming it): what one agent's hello,
   * disconnect or inventory touches, without a pass over the whole fleet.
   */
  private readonly byAgent = new Map<string, Set<string>>();
  /**
   * Each agent's inventory entries as agentEntries last listed them, valid while `entriesVersion`
   * is unchanged: every change of which entry a chip id maps to or of `byAgent` moves it on (an
   * entry turns inactive only as it leaves `byAgent`). An agent whose window of batches is full turns behind and back at every
   * batch (agentReading), each time listing its entries.
   */
  private readonly entriesOf = new Map<string, { version: number; entries: ChipEntry[] }>();
  private entriesVersion = 0;
  /**
   * When each agent's first live chip turns stale unless it is heard from: the only status change
   * that time makes (stale and offline chips change on samples and connections). The status timer
   * takes the due agents and looks at their chips instead of re-deriving every chip (100,000 chips
   * twice a second were ~8 % of the hub's main thread); one deadline per agent, not per chip, as an
   * agent's chips are heard together. An agent may be in it more than once: `watchedAt` holds the
   * deadline that counts.
   */
  private readonly liveUntil = new DeadlineHeap<string>();
  /** agentId -> its deadline in `liveUntil`, no later than that of any of its live chips. */
  private readonly watchedAt = new Map<string, number>();
  /**
   * Agents whose connection the hub is not reading (held back behind the writer's backlog, over
   * their frame rate, or their frames waiting for a turn), since when: their chips' samples may be
   * waiting, so their silence is not counted meanwhile (status and alerting's staleness), lest an
   * overloaded hub call its own delay the chips' and add a flood of stale alerts to its load.
   */
  private readonly unread = new Map<string, number>();
  /** Remote chips: chipId -> the id of the hub their agent is connected to (empty without a live bus: the per-sample paths test its size first). */
  private readonly remote = new Map<string, string>();

  private watchLive(e: ChipEntry): void {
    if (e.view.status === 'live' && e.lastSampleAt !== null) this.watchAgent(e.view.agentId, staleAt(e));
  }

  /** The agent's chips are to be looked at by `at` (or earlier, where it is watched for earlier already). */
  private watchAgent(agentId: string, at: number): void {
    const watched = this.watchedAt.get(agentId);
    if (watched !== undefined && watched <= at) return;
    this.watchedAt.set(agentId, at);
    this.liveUntil.push(at, agentId);
  }

  /** The chip's entry is `e` from now on. */
  private setEntry(chipId: string, e: ChipEntry): void {
    this.chips.set(chipId, e);
    this.entriesVersion++;
  }

  private index(agentId: string, chipId: string): void {
    this.entriesVersion++;
    let set = this.byAgent.get(agentId);
    if (!set) this.byAgent.set(agentId, (set = new Set()));
    set.add(chipId);
  }

  private unindex(agentId: string, chipId: string): void {
    this.entriesVersion++;
    const set = this.byAgent.get(agentId);
    if (!set) return;
    set.delete(chipId);
    if (set.size === 0) this.byAgent.delete(agentId);
  }

  /** The entries of the agent's inventory (not to be changed by the caller: it may be the cached list). */
  private agentEntries(agentId: string): readonly ChipEntry[] {
    const cached = this.entriesOf.get(agentId);
    if (cached !== undefined && cached.version === this.entriesVersion) return cached.entries;
    const entries: ChipEntry[] = [];
    const ids = this.byAgent.get(agentId);
    if (ids !== undefined) {
      for (const chipId of ids) {
        const e = this.chips.get(chipId);
        if (e !== undefined && e.active && e.view.agentId === agentId) entries.push(e);
      }
    }
    if (cached !== undefined) {
      cached.version = this.entriesVersion;
      cached.entries = entries;
    } else if (ids !== undefined) this.entriesOf.set(agentId, { version: this.entriesVersion, entries });
    return entries;
  }

  load(stored: StoredChip[], latest: Map<string, Sample>): void {
    for (const c of stored) {
      this.setEntry(c.chipId, { view: chipView(c, c, 'offline', latest.get(c.chipId) ?? null), intervalMs: c.intervalMs, lastSampleAt: null, active: true, ownLatest: null });
      this.remote.delete(c.chipId);
      this.index(c.agentId, c.chipId);
    }
  }

  /** An agent said hello: (re)register its chips. Returns the chip views that changed. */
  agentConnected(reg: AgentRegistration, now = Date.now()): ChipView[] {
    this.connected.set(reg.agentId, (this.connected.get(reg.agentId) ?? 0) + 1);
    this.unread.delete(reg.agentId);
    this.setAgent(reg);
    return this.setInventory(reg, now);
  }

  /**
   * A push agent (a line-protocol host) registered or changed its inventory. It has no
   * connection: it counts as connected for good, so its chips are live or stale, never offline.
   */
  pushAgentSeen(reg: AgentRegistration, now = Date.now()): ChipView[] {
    this.pushAgents.add(reg.agentId);
    this.setAgent(reg);
    return this.setInventory(reg, now);
  }

  /** Was the agent registered as a push agent since the hub started? */
  isPushAgent(agentId: string): boolean {
    return this.pushAgents.has(agentId);
  }

  /** Does the agent have an open /ws/agent connection? */
  hasConnection(agentId: string): boolean {
    return this.connected.has(agentId);
  }

  /**
   * What alerting needs to time a chip's silence (server/alerts/alert-engine.ts): whether it is in
   * a connected (or push) agent's inventory, when its last live sample arrived (hub clock), its
   * sampling interval. Undefined for an unknown chip.
   */
  chipLiveness(chipId: string): { agentId: string; agentConnected: boolean; lastSampleAt: number | null; intervalMs: number; read: boolean } | undefined {
    const e = this.chips.get(chipId);
    if (!e) return undefined;
    const agentId = e.view.agentId;
    return { agentId, agentConnected: e.active && (this.connected.has(agentId) || this.pushAgents.has(agentId)), lastSampleAt: e.lastSampleAt, intervalMs: e.intervalMs, read: !this.unread.has(agentId) };
  }

  /**
   * The hub stopped (`on` false) or went back to (`on` true) reading the agent's connection. While
   * it does not read, its chips' silence is not counted; when it reads again, the time it did not
   * read is taken off each live chip's silence (a chip the agent no longer reports still turns
   * stale, once it has been silent that long while the hub read).
   */
  agentReading(agentId: string, on: boolean, now: number): void {
    if (!on) {
      if (this.connected.has(agentId) && !this.unread.has(agentId)) this.unread.set(agentId, now);
      return;
    }
    const since = this.unread.get(agentId);
    if (since === undefined) return;
    this.unread.delete(agentId);
    const unreadMs = now - since;
    if (unreadMs <= 0) return;
    for (const e of this.agentEntries(agentId)) {
      if (e.view.status === 'live' && e.lastSampleAt !== null) e.lastSampleAt = Math.min(now, e.lastSampleAt + unreadMs);
    }
  }

  /** The chips currently in the agent's inventory, by index. */
  agentChips(agentId: string): ChipView[] {
    return this.agentEntries(agentId)
      .map((e) => e.view)
      .sort((a, b) => a.index - b.index);
  }

  /** Whether the chip is in its agent's current inventory (false for one that left it, or an unknown chip). */
  isActive(chipId: string): boolean {
    return this.chips.get(chipId)?.active === true;
  }

  private setAgent(reg: AgentRegistration): void {
    const prev = this.agents.get(reg.agentId);
    this.agents.set(reg.agentId, {
      agentId: reg.agentId, host: reg.host.hostname, version: reg.agentVersion, intervalMs: reg.intervalMs, connected: true,
      chips: reg.chips.length, lastBatchAt: prev?.lastBatchAt ?? null, health: prev?.health ?? [], dropped: prev?.dropped ?? { batches: 0, samples: 0 },
    });
  }

  /** Replace an agent's chip inventory; chips that left it turn offline. Returns changed views. */
  setInventory(reg: AgentRegistration, now = Date.now()): ChipView[] {
    const ids = new Set(reg.chips.map((c) => c.chipId));
    const gone: ChipView[] = [];
    for (const e of this.agentEntries(reg.agentId)) {
      if (ids.has(e.view.chipId)) continue;
      e.active = false;
      e.view.status = 'offline';
      this.unindex(reg.agentId, e.view.chipId);
      gone.push(e.view);
    }
    const agent = this.agents.get(reg.agentId);
    if (agent) agent.chips = ids.size;
    return [...gone, ...this.upsertChips(reg, now)];
  }

  /** Record what an agent reports about itself with a batch. */
  agentReport(agentId: string, report: { health?: SourceHealthReport[]; dropped?: { batches: number; samples: number } }, now: number): void {
    const a = this.agents.get(agentId);
    if (!a) return;
    a.lastBatchAt = now;
    if (report.health) a.health = report.health;
    if (report.dropped) a.dropped = report.dropped;
  }

  listAgents(): AgentView[] {
    return [...this.agents.values()].sort((a, b) => a.agentId.localeCompare(b.agentId));
  }

  private upsertChips(reg: AgentRegistration, now: number): ChipView[] {
    return reg.chips.map((info) => {
      const prev = this.chips.get(info.chipId);
      const lastSampleAt = prev?.active && prev.view.agentId === reg.agentId ? prev.lastSampleAt : null;
      // The agent is connected (or a push agent): live if heard from within its intervals, else stale.
      const status = deriveStatus({ agentConnected: true, lastSampleAt, intervalMs: reg.intervalMs }, now);
      const view = chipView(info, { host: reg.host.hostname, instanceType: reg.host.instanceType, agentId: reg.agentId }, status, prev?.view.latest ?? null, prev?.view.job);
      const entry: ChipEntry = { view, intervalMs: reg.intervalMs, lastSampleAt, active: true, ownLatest: null };
      this.setEntry(info.chipId, entry);
      this.remote.delete(info.chipId);
      this.watchLive(entry);
      if (prev && prev.view.agentId !== reg.agentId) this.unindex(prev.view.agentId, info.chipId);
      this.index(reg.agentId, info.chipId);
      return view;
    });
  }

  /** An agent's connection closed. Returns its chips' status changes (the status timer refreshes the rest). */
  agentDisconnected(agentId: string, now: number): { chipId: string; status: ChipStatus }[] {
    const n = (this.connected.get(agentId) ?? 1) - 1;
    if (n > 0) this.connected.set(agentId, n);
    else {
      this.connected.delete(agentId);
      this.unread.delete(agentId);
      const a = this.agents.get(agentId);
      if (a) a.connected = false;
    }
    return this.refresh(this.agentEntries(agentId), now);
  }

  /** The chip ids of the agent's inventory. */
  agentChipIds(agentId: string): string[] {
    return [...(this.byAgent.get(agentId) ?? [])];
  }

  /** The job running on each given chip now (null: none any more). Returns the views that changed. */
  setJobs(jobs: ReadonlyMap<string, string | null>): ChipView[] {
    const changed: ChipView[] = [];
    for (const [chipId, job] of jobs) {
      const e = this.chips.get(chipId);
      if (!e || (e.view.job ?? null) === job) continue;
      // Undefined, not deleted: a deleted property would give the view a hidden class of its own.
      e.view.job = job ?? undefined;
      changed.push(e.view);
    }
    return changed;
  }

  isAgentChip(agentId: string, chipId: string): boolean {
    return this.chips.get(chipId)?.view.agentId === agentId;
  }

  /** An admin moved a chip to another agent: `c` is the chip as now stored. Returns its new view. */
  moveChip(c: StoredChip, now: number): ChipView {
    const prev = this.chips.get(c.chipId);
    const connected = this.connected.has(c.agentId) || this.pushAgents.has(c.agentId);
    const view = chipView(c, c, deriveStatus({ agentConnected: connected, lastSampleAt: null, intervalMs: c.intervalMs }, now), prev?.view.latest ?? null, prev?.view.job);
    this.setEntry(c.chipId, { view, intervalMs: c.intervalMs, lastSampleAt: null, active: true, ownLatest: null });
    this.remote.delete(c.chipId);
    if (prev) this.unindex(prev.view.agentId, c.chipId);
    this.index(c.agentId, c.chipId);
    for (const id of new Set([prev?.view.agentId, c.agentId])) {
      const a = id === undefined ? undefined : this.agents.get(id);
      if (a) a.chips = this.byAgent.get(a.agentId)?.size ?? 0;
    }
    return view;
  }

  /**
   * Live samples arrived (before they are committed): their chips were heard from now. A chip whose
   * samples wait behind a busy writer is not silent, so neither its status nor alerting's staleness
   * counts the wait.
   */
  heard(batch: readonly Sample[], now: number): void {
    for (let i = 0; i < batch.length; i++) {
      const e = this.chips.get(batch[i]!.chipId);
      if (e !== undefined && e.active) e.lastSampleAt = now;
    }
  }

  /** `heard` for samples known by their chip ids (one per sample). */
  heardChips(chipIds: readonly string[], now: number): void {
    for (let i = 0; i < chipIds.length; i++) {
      const e = this.chips.get(chipIds[i]!);
      if (e !== undefined && e.active) e.lastSampleAt = now;
    }
  }

  /** Record committed samples; returns status changes (e.g. stale -> live). */
  applySamples(batch: Sample[], now: number, backfill = false): { chipId: string; status: ChipStatus }[] {
    const changes: { chipId: string; status: ChipStatus }[] = [];
    for (const s of batch) {
      const e = this.chips.get(s.chipId);
      if (!e || (this.remote.size > 0 && this.remote.has(s.chipId))) continue;
      if (!e.view.latest || s.ts >= e.view.latest.ts) setLatest(e, s);
      // Late data says nothing about whether the chip is reporting now.
      if (backfill) continue;
      e.lastSampleAt = now;
      // A batch committed after its agent left does not make the chip live again.
      if (e.view.status !== 'live' && this.isConnected(e)) {
        e.view.status = 'live';
        this.watchLive(e);
        changes.push({ chipId: s.chipId, status: 'live' });
      }
    }
    return changes;
  }

  /**
   * Live chips whose deadline passed: those not heard from since turn stale. Returns the status
   * changes. `lagMs`: how late the caller's timer ran; a hub that far behind may not have read
   * samples waiting in its sockets, so no chip turns stale then (each is looked at again an
   * interval later).
   */
  refreshStatuses(now: number, lagMs = 0): { chipId: string; status: ChipStatus }[] {
    const changes: { chipId: string; status: ChipStatus }[] = [];
    for (let agentId = this.liveUntil.popDue(now); agentId !== undefined; agentId = this.liveUntil.popDue(now)) {
      // Watched again for a later time since this entry was pushed, or twice for one time: not due.
      const watched = this.watchedAt.get(agentId);
      if (watched === undefined || watched > now) continue;
      this.watchedAt.delete(agentId);
      // Its socket is not being read, or the hub is behind: its chips stay live, looked at again an interval later.
      const hold = lagMs > HUB_LAG_MS || this.unread.has(agentId);
      let next = Infinity;
      for (const e of this.agentEntries(agentId)) {
        if (e.view.status !== 'live' || e.lastSampleAt === null || (this.remote.size > 0 && this.remote.has(e.view.chipId))) continue;
        const at = staleAt(e);
        if (at > now) next = Math.min(next, at);
        else if (hold) next = Math.min(next, now + e.intervalMs);
        else {
          const status = deriveStatus({ agentConnected: this.isConnected(e), lastSampleAt: e.lastSampleAt, intervalMs: e.intervalMs }, now);
          if (status === e.view.status) continue;
          e.view.status = status;
          changes.push({ chipId: e.view.chipId, status });
        }
      }
      if (next !== Infinity) this.watchAgent(agentId, next);
    }
    return changes;
  }

  /** In a connected (or push) agent's inventory. */
  private isConnected(e: ChipEntry): boolean {
    const agentId = e.view.agentId;
    return e.active && (this.connected.has(agentId) || this.pushAgents.has(agentId));
  }

  private refresh(entries: Iterable<ChipEntry>, now: number): { chipId: string; status: ChipStatus }[] {
    const changes: { chipId: string; status: ChipStatus }[] = [];
    for (const e of entries) {
      const status = deriveStatus({ agentConnected: this.isConnected(e), lastSampleAt: e.lastSampleAt, intervalMs: e.intervalMs }, now);
      if (status !== e.view.status) {
        e.view.status = status;
        this.watchLive(e);
        changes.push({ chipId: e.view.chipId, status });
      }
    }
    return changes;
  }

  // ---------- remote chips (the live bus) ----------

  /** Is the chip an agent's of another hub? */
  isRemote(chipId: string): boolean {
    return this.remote.has(chipId);
  }

  /** The hub a remote chip's agent is connected to (undefined for a local chip). */
  remoteHub(chipId: string): string | undefined {
    return this.remote.get(chipId);
  }

  /**
   * Chips of another hub's agents, with their status there (its fleet summary). A chip of a
   * connected local agent stays local (this hub's agent has it now); any other entry becomes
   * the remote chip. Returns the views that are new or changed.
   */
  applyRemoteChips(hubId: string, chips: readonly Omit<ChipView, 'latest'>[]): ChipView[] {
    const changed: ChipView[] = [];
    for (const c of chips) {
      const prev = this.chips.get(c.chipId);
      if (prev && !this.remote.has(c.chipId) && this.isConnected(prev)) continue;
      if (prev && this.remote.get(c.chipId) === hubId && sameRemote(prev.view, c)) continue;
      if (prev && !this.remote.has(c.chipId)) this.unindex(prev.view.agentId, c.chipId);
      const view = chipView(c, c, c.status, prev?.view.latest ?? null, c.job);
      this.setEntry(c.chipId, { view, intervalMs: prev?.intervalMs ?? 1000, lastSampleAt: null, active: true, ownLatest: null });
      this.remote.set(c.chipId, hubId);
      changed.push(view);
    }
    return changed;
  }

  /** A remote chip's status changed on its hub. Returns the change, or null when it is not that hub's chip or nothing changed. */
  applyRemoteStatus(hubId: string, chipId: string, status: ChipStatus): { chipId: string; status: ChipStatus } | null {
    if (this.remote.get(chipId) !== hubId) return null;
    const e = this.chips.get(chipId)!;
    if (e.view.status === status) return null;
    e.view.status = status;
    return { chipId, status };
  }

  /**
   * Samples of remote chips (committed on their hub): they become the chips' latest. `partial`:
   * a summary's overview values, which replace only an older latest (not a full sample of the
   * same time). Returns those of `hubId`'s chips.
   */
  applyRemoteSamples(hubId: string, samples: readonly Sample[], partial = false): Sample[] {
    const kept: Sample[] = [];
    for (const s of samples) {
      if (this.remote.get(s.chipId) !== hubId) continue;
      const e = this.chips.get(s.chipId)!;
      if (!e.view.latest || s.ts > e.view.latest.ts || (!partial && s.ts === e.view.latest.ts)) setLatest(e, s);
      kept.push(s);
    }
    return kept;
  }

  /** A hub went quiet (or the bus is down): its chips turn offline here. Returns the status changes. */
  remoteHubGone(hubId: string): { chipId: string; status: ChipStatus }[] {
    const changes: { chipId: string; status: ChipStatus }[] = [];
    for (const [chipId, hub] of this.remote) {
      if (hub !== hubId) continue;
      const e = this.chips.get(chipId)!;
      if (e.view.status === 'offline') continue;
      e.view.status = 'offline';
      changes.push({ chipId, status: 'offline' });
    }
    return changes;
  }

  /** The chips of this hub's own agents (what it tells other hubs about), in `list()` order. */
  listLocal(): ChipView[] {
    return this.list().filter((c) => !this.remote.has(c.chipId));
  }

  get(chipId: string): ChipView | undefined {
    return this.chips.get(chipId)?.view;
  }

  /** Every chip's view, in no particular order (what counts and lookups need, without list()'s sort). */
  *views(): IterableIterator<ChipView> {
    for (const e of this.chips.values()) yield e.view;
  }

  list(): ChipView[] {
    return [...this.chips.values()]
      .map((e) => e.view)
      .sort((a, b) => a.host.localeCompare(b.host) || a.index - b.index || a.chipId.localeCompare(b.chipId));
  }
}

/** When a live chip turns stale unless it is heard from. */
function staleAt(e: ChipEntry): number {
  return e.lastSampleAt! + STALE_AFTER_INTERVALS * e.intervalMs + 1;
}

/** `s` as the chip's latest: a copy the entry owns, overwritten by later samples; the sample object itself is not held (latest-sample.ts). */
function setLatest(e: ChipEntry, s: Sample): void {
  e.ownLatest = keepLatest(e.view.latest === e.ownLatest ? e.ownLatest : null, s);
  e.view.latest = e.ownLatest;
}

/**
 * A chip's view, its properties always in the same order and all present (`job` undefined when
 * none; JSON leaves it out). Views built by spreading their parts each got a hidden class of their
 * own (9,989 among 10,000 chips), which made every read of a view property in the hot paths
 * (samples, statuses, agents' reading) a lookup in the megamorphic cache.
 */
function chipView(
  info: ChipInfo,
  where: { host: string; instanceType: string | null; agentId: string },
  status: ChipStatus,
  latest: Sample | null,
  job?: string,
): ChipView {
  return {
    chipId: info.chipId,
    vendor: info.vendor,
    model: info.model,
    index: info.index,
    cores: info.cores,
    memTotalBytes: info.memTotalBytes,
    ratedPowerW: info.ratedPowerW,
    host: where.host,
    instanceType: where.instanceType,
    agentId: where.agentId,
    status,
    latest,
    job,
  };
}

/** Is a remote chip's view the same as a summary's entry (status and inventory)? */
function sameRemote(v: ChipView, c: Omit<ChipView, 'latest'>): boolean {
  return (
    v.status === c.status && v.agentId === c.agentId && v.host === c.host && v.instanceType === c.instanceType && v.vendor === c.vendor && v.model === c.model &&
    v.index === c.index && v.cores === c.cores && v.memTotalBytes === c.memTotalBytes && v.ratedPowerW === c.ratedPowerW
  );
}
