/**
 * The hub on the live bus: what it publishes of its own agents and what it takes from other
 * hubs. Subjects are in subjects.ts, messages in bus-messages.ts, the transport is a LiveBus.
 *
 * Publishes (as LiveFanout's tap, so only this hub's own changes): every committed live sample,
 * one message per chip per agent commit, on `samples.<vendor>.<host>.<chip>`; every status change
 * on `status.<host>.<chip>`; alert transitions (an AlertSink) on `alerts.<host>.<chip>`; inventory
 * changes at once, as a summary of those chips (ahead of their samples); and every `summaryMs` a
 * fleet summary on `summary.<hub>` — chips whose status changed and the newest values of each chip
 * that reported since, every chip every `fullSummaryMs` and when another hub asks (`sync`); an
 * empty one still goes out, as a heartbeat. Publishing is deferred to `setImmediate` through a
 * bounded queue (drops counted) and done in slices of at most 5 ms, so it never holds up ingest.
 *
 * Subscribes to: summaries and status changes of every hub (the fleet overview), the samples of
 * each chip this hub's browsers watch (LiveFanout's watcher: subscribed when a chip gets its
 * first viewer, dropped with its last), all samples while a firehose viewer is connected, alert
 * transitions while an `alerts` viewer is. What comes in goes into FleetState and LiveFanout as
 * remote (never stored, never published again). A hub not heard from for `remoteTimeoutMs` has
 * its chips shown offline; on (re)connecting this hub asks for full summaries.
 */
import type { Logger } from '../../common/logger.ts';
import type { AlertEventAnswer } from '../../schema/api-answers.ts';
import type { ChipView } from '../../schema/protocol.ts';
import type { ChipStatus, Sample } from '../../schema/sample.ts';
import type { AlertSink } from '../alerts/alert-events.ts';
import type { FleetState } from '../fleet-state.ts';
import type { LiveFanout, LiveTap, LiveWatcher } from '../live/live-fanout.ts';
import { latestColumns, latestSamples, type BusMessage, type SummaryChip } from './bus-messages.ts';
import type { BusSubscription, LiveBus } from './live-bus.ts';
import type { Subjects } from './subjects.ts';

export interface BusBridgeOptions {
  /** How often the fleet summary goes out (default 500 ms, like the status tick). */
  summaryMs?: number;
  /** How often it holds every chip (default 10 s). */
  fullSummaryMs?: number;
  /** A hub not heard from this long has its chips shown offline (default 5 s). */
  remoteTimeoutMs?: number;
  /** Most samples waiting to be published; beyond, a commit's samples are dropped and counted (default 100,000). */
  maxPendingSamples?: number;
  /** Most chips per summary message (NATS refuses messages over its max_payload, 1 MiB by default). */
  summaryChipsPerPart?: number;
}

/** Counters of the bridge (besides the bus's own). */
export interface BridgeStats {
  /** Samples not published: the queue was full. */
  droppedSamples: number;
  droppedStatus: number;
  summaries: number;
  remoteSamples: number;
  /** Hubs heard from (and not gone quiet). */
  remoteHubs: number;
}

interface RemoteHub {
  lastSeen: number;
  gone: boolean;
  /** Its chips by slot (from its summaries' chip entries). */
  slots: Map<number, string>;
}

const DEFAULTS: Required<BusBridgeOptions> = { summaryMs: 500, fullSummaryMs: 10_000, remoteTimeoutMs: 5_000, maxPendingSamples: 100_000, summaryChipsPerPart: 500 };
/** A hub asks for full summaries (`sync`) at most this often, unless it just (re)connected. */
const SYNC_MIN_MS = 1_000;
/** Longest stretch one publishing turn keeps the event loop, ms. */
const SLICE_MS = 5;

export class BusBridge implements LiveTap, LiveWatcher {
  readonly stats: BridgeStats = { droppedSamples: 0, droppedStatus: 0, summaries: 0, remoteSamples: 0, remoteHubs: 0 };
  private readonly opts: Required<BusBridgeOptions>;
  private pendingBatches: (readonly Sample[])[] = [];
  /** The next of `pendingBatches` to publish (a slice may stop halfway). */
  private pendingHead = 0;
  private pendingSamples = 0;
  private pendingStatus: { chipId: string; status: ChipStatus }[] = [];
  private scheduled = false;
  private readonly subjectCache = new Map<string, { vendor: string; host: string; subject: string }>();
  /** Slots of this hub's chips in its summaries: given on first need, kept while the hub runs. */
  private readonly slots = new Map<string, number>();
  private readonly dirtyMeta = new Set<string>();
  /** Chips whose inventory entry changed since the last flush. */
  private readonly pendingInventory = new Set<string>();
  private readonly dirtyLatest = new Set<string>();
  private fullDue = true;
  private nextFull = 0;
  private lastSyncAsked = -Infinity;
  /** Drops already logged, and when (drops are logged at most once a minute). */
  private droppedLogged = 0;
  private droppedLoggedAt = -Infinity;
  private readonly hubs = new Map<string, RemoteHub>();
  private readonly chipSubs = new Map<string, BusSubscription>();
  private firehoseSub: BusSubscription | null = null;
  private alertsSub: BusSubscription | null = null;
  private readonly always: BusSubscription[] = [];
  private timer: ReturnType<typeof setInterval> | null = null;
  private closed = false;

  constructor(
    private readonly bus: LiveBus,
    private readonly subj: Subjects,
    private readonly fleet: FleetState,
    private readonly fanout: LiveFanout,
    private readonly log: Logger,
    opts: BusBridgeOptions = {},
  ) {
    this.opts = { ...DEFAULTS, ...opts };
  }

  /** Become the fan-out's tap and watcher, subscribe to the fleet overview, start the summary timer. */
  start(): void {
    this.fanout.tap = this;
    this.fanout.watcher = this;
    this.always.push(this.bus.subscribe(this.subj.allSummaries(), (m) => this.received(m)));
    this.always.push(this.bus.subscribe(this.subj.allStatus(), (m) => this.received(m)));
    this.always.push(this.bus.subscribe(this.subj.sync(), (m) => this.received(m)));
    this.bus.onStateChange((s) => {
      if (!s.connected) return;
      // (Re)connected: tell the others about this hub's fleet and ask for theirs.
      this.fullDue = true;
      this.askSync(true);
    });
    this.timer = setInterval(() => this.summaryTick(), this.opts.summaryMs);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    if (this.fanout.tap === this) this.fanout.tap = null;
    if (this.fanout.watcher === this) this.fanout.watcher = null;
    if (this.timer) clearInterval(this.timer);
    for (const s of [...this.always, ...this.chipSubs.values(), this.firehoseSub, this.alertsSub]) s?.unsubscribe();
    this.chipSubs.clear();
  }

  /** Alert transitions of this hub's engine (add it as a sink). */
  readonly alertSink: AlertSink = {
    publish: (events) => {
      if (this.closed || events.length === 0) return;
      const byChip = new Map<string, AlertEventAnswer[]>();
      for (const e of events as readonly AlertEventAnswer[]) {
        const g = byChip.get(e.chipId);
        if (g) g.push(e);
        else byChip.set(e.chipId, [e]);
      }
      const at = Date.now();
      for (const [chipId, evs] of byChip) {
        const host = this.fleet.get(chipId)?.host ?? '';
        this.bus.publish(this.subj.alerts(host, chipId), { hub: this.bus.hubId, t: 'alerts', at, events: evs });
      }
    },
  };

  // ---------- LiveTap: this hub's changes ----------

  samples(batch: readonly Sample[]): void {
    if (this.closed || batch.length === 0) return;
    if (this.pendingSamples + batch.length > this.opts.maxPendingSamples) {
      this.stats.droppedSamples += batch.length;
      return;
    }
    this.pendingBatches.push(batch);
    this.pendingSamples += batch.length;
    this.schedule();
  }

  status(changes: readonly { chipId: string; status: ChipStatus }[]): void {
    if (this.closed) return;
    if (this.pendingStatus.length + changes.length > this.opts.maxPendingSamples) {
      this.stats.droppedStatus += changes.length;
      return;
    }
    for (const c of changes) this.pendingStatus.push(c);
    this.schedule();
  }

  /** Inventory changes go out at once, ahead of the chips' samples (a hello comes before any of them). */
  inventory(chips: readonly ChipView[]): void {
    if (this.closed) return;
    for (const c of chips) this.pendingInventory.add(c.chipId);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /**
   * Publish what is queued: one message per chip per batch, then status changes, in slices of at
   * most SLICE_MS (agent frames, acks and live frames are served in between).
   */
  private flush(): void {
    this.scheduled = false;
    if (this.closed) return;
    const hub = this.bus.hubId;
    const t0 = performance.now();
    const at = Date.now();
    if (this.pendingInventory.size > 0) {
      const ids = [...this.pendingInventory];
      this.pendingInventory.clear();
      this.publishSummary(at, false, ids, []);
    }
    while (this.pendingHead < this.pendingBatches.length) {
      const batch = this.pendingBatches[this.pendingHead++]!;
      this.pendingSamples -= batch.length;
      const byChip = new Map<string, Sample[]>();
      for (const s of batch) {
        const g = byChip.get(s.chipId);
        if (g) g.push(s);
        else byChip.set(s.chipId, [s]);
      }
      for (const [chipId, samples] of byChip) {
        const subject = this.samplesSubject(chipId);
        if (subject === null) continue;
        this.dirtyLatest.add(chipId);
        this.bus.publish(subject, { hub, t: 'samples', at, chip: chipId, samples });
      }
      if (this.pendingHead < this.pendingBatches.length && performance.now() - t0 >= SLICE_MS) return this.schedule();
    }
    this.pendingBatches = [];
    this.pendingHead = 0;
    const statuses = this.pendingStatus;
    this.pendingStatus = [];
    for (const { chipId, status } of statuses) {
      const view = this.fleet.get(chipId);
      if (!view) continue;
      this.dirtyMeta.add(chipId);
      this.bus.publish(this.subj.status(view.host, chipId), { hub, t: 'status', at, chip: chipId, status });
    }
  }

  /** A local chip's samples subject, kept while its vendor and host stay (escaping a host costs more than publishing). */
  private samplesSubject(chipId: string): string | null {
    const view = this.fleet.get(chipId);
    if (!view) return null;
    const c = this.subjectCache.get(chipId);
    if (c && c.vendor === view.vendor && c.host === view.host) return c.subject;
    const subject = this.subj.samples(view.vendor, view.host, chipId);
    this.subjectCache.set(chipId, { vendor: view.vendor, host: view.host, subject });
    return subject;
  }

  // ---------- the fleet summary ----------

  /** Every `summaryMs`: hubs gone quiet turn offline; this hub's summary goes out. */
  summaryTick(now = Date.now()): void {
    if (this.closed) return;
    for (const [id, h] of this.hubs) {
      if (h.gone || now - h.lastSeen <= this.opts.remoteTimeoutMs) continue;
      h.gone = true;
      this.stats.remoteHubs--;
      const changes = this.fleet.remoteHubGone(id);
      this.log.warn('hub on the bus went quiet; its chips show offline', { hubId: id, chips: changes.length });
      this.fanout.publishStatus(changes, 'remote');
    }
    this.logDrops(now);
    if (!this.bus.state().connected) return;
    const full = this.fullDue || now >= this.nextFull;
    const all = full ? this.fleet.listLocal().map((v) => v.chipId) : null;
    this.publishSummary(now, full, all ?? [...this.dirtyMeta], all ?? [...this.dirtyLatest]);
    this.dirtyMeta.clear();
    this.dirtyLatest.clear();
    if (full) {
      this.fullDue = false;
      this.nextFull = now + this.opts.fullSummaryMs;
    }
    this.stats.summaries++;
  }

  /** Messages and samples not published (bus down, queue full): a warning at most once a minute when there are new ones. */
  private logDrops(now: number): void {
    const dropped = this.bus.stats.droppedDisconnected + this.stats.droppedSamples + this.stats.droppedStatus;
    if (dropped === this.droppedLogged || now - this.droppedLoggedAt < 60_000) return;
    this.log.warn('live bus: not published (bus down or queue full)', { messagesWhileDisconnected: this.bus.stats.droppedDisconnected, samplesQueueFull: this.stats.droppedSamples, statusQueueFull: this.stats.droppedStatus });
    this.droppedLogged = dropped;
    this.droppedLoggedAt = now;
  }

  /** A summary of these chips' entries and these chips' newest values, in parts. */
  private publishSummary(now: number, full: boolean, chipIds: readonly string[], latestIds: readonly string[]): void {
    const chips: SummaryChip[] = [];
    for (const id of chipIds) {
      const v = this.fleet.get(id);
      if (!v || this.fleet.isRemote(id)) continue;
      const { latest: _latest, ...chip } = v;
      chips.push({ ...chip, slot: this.slot(id) });
    }
    const latest: { slot: number; sample: Sample }[] = [];
    for (const id of latestIds) {
      const v = this.fleet.get(id);
      if (!v?.latest || this.fleet.isRemote(id)) continue;
      latest.push({ slot: this.slot(id), sample: v.latest });
    }
    // Chip entries are ~300 bytes, latest values ~40: ten times as many of those per part.
    const per = this.opts.summaryChipsPerPart;
    const perLatest = 10 * per;
    const parts = Math.max(1, Math.ceil(chips.length / per), Math.ceil(latest.length / perLatest));
    const subject = this.subj.summary(this.bus.hubId);
    // One part per turn of the event loop: a full summary of 10,000 chips is ~3 MB of JSON.
    const publishPart = (part: number): void => {
      if (this.closed) return;
      this.bus.publish(subject, {
        hub: this.bus.hubId, t: 'summary', at: now, full, part, parts,
        chips: chips.slice(part * per, (part + 1) * per),
        latest: latestColumns(latest.slice(part * perLatest, (part + 1) * perLatest), now),
      });
      if (part + 1 < parts) setImmediate(publishPart, part + 1);
    };
    publishPart(0);
  }

  private slot(chipId: string): number {
    let n = this.slots.get(chipId);
    if (n === undefined) this.slots.set(chipId, (n = this.slots.size));
    return n;
  }

  private askSync(force = false): void {
    const now = Date.now();
    if (!force && now - this.lastSyncAsked < SYNC_MIN_MS) return;
    this.lastSyncAsked = now;
    this.bus.publish(this.subj.sync(), { hub: this.bus.hubId, t: 'sync', at: now });
  }

  // ---------- LiveWatcher: what this hub's browsers watch ----------

  chip(chipId: string, watched: boolean): void {
    if (this.closed) return;
    if (watched) {
      if (!this.chipSubs.has(chipId)) this.chipSubs.set(chipId, this.bus.subscribe(this.subj.chipSamples(chipId), (m) => this.firehoseSub === null && this.received(m)));
    } else {
      this.chipSubs.get(chipId)?.unsubscribe();
      this.chipSubs.delete(chipId);
    }
  }

  firehose(watched: boolean): void {
    if (this.closed) return;
    if (watched) this.firehoseSub ??= this.bus.subscribe(this.subj.allSamples(), (m) => this.received(m));
    else {
      this.firehoseSub?.unsubscribe();
      this.firehoseSub = null;
    }
  }

  alerts(watched: boolean): void {
    if (this.closed) return;
    if (watched) this.alertsSub ??= this.bus.subscribe(this.subj.allAlerts(), (m) => this.received(m));
    else {
      this.alertsSub?.unsubscribe();
      this.alertsSub = null;
    }
  }

  /** Chips with a samples subscription (tests, debugging). */
  watchedChips(): string[] {
    return [...this.chipSubs.keys()];
  }

  // ---------- from other hubs ----------

  private received(m: BusMessage): void {
    if (this.closed || m.hub === this.bus.hubId) return;
    switch (m.t) {
      case 'samples': {
        const kept = this.fleet.applyRemoteSamples(m.hub, m.samples);
        this.stats.remoteSamples += kept.length;
        this.fanout.publishSamples(kept, 'remote');
        return;
      }
      case 'status': {
        const change = this.fleet.applyRemoteStatus(m.hub, m.chip, m.status);
        if (change) this.fanout.publishStatus([change], 'remote');
        return;
      }
      case 'alerts':
        this.fanout.publishAlerts(m.events);
        return;
      case 'sync':
        this.fullDue = true;
        return;
      case 'summary': {
        let h = this.hubs.get(m.hub);
        if (!h) this.hubs.set(m.hub, (h = { lastSeen: 0, gone: true, slots: new Map() }));
        if (h.gone) {
          h.gone = false;
          this.stats.remoteHubs++;
          this.log.info('hub on the bus heard from', { hubId: m.hub });
          // New to this hub (or back): a delta summary names only some of its chips.
          if (!m.full) this.askSync();
        }
        h.lastSeen = Date.now();
        for (const c of m.chips) h.slots.set(c.slot, c.chipId);
        const changed = this.fleet.applyRemoteChips(m.hub, m.chips.map(({ slot: _slot, ...c }) => c));
        if (changed.length) this.fanout.publishInventory(changed, 'remote');
        const slots = h.slots;
        const { samples, unknown } = latestSamples(m.latest, m.at, (slot) => {
          const id = slots.get(slot);
          return id === undefined ? undefined : { chipId: id, memTotalBytes: this.fleet.get(id)?.memTotalBytes ?? null };
        });
        // Chips this hub has not been told about yet (it just joined, or missed a summary): ask for all.
        if (unknown.length > 0) this.askSync();
        const latest = this.fleet.applyRemoteSamples(m.hub, samples, true);
        if (latest.length) this.fanout.publishFleetLatest(latest);
        return;
      }
    }
  }
}
