/**
 * Live fan-out to browsers. Committed samples and status changes are coalesced: `publishSamples`
 * and `publishStatus` only queue, and one tick builds each frame once — one `fleet-update` (then
 * one `status`) for every fleet subscriber, one set of `samples` frames for every firehose
 * subscriber, one `samples` frame per subscribed chip — and sends the same Buffer to each of its
 * subscribers. Inventory changes and replies go out at once.
 *
 * Ticks: the first publish schedules a tick on `setImmediate` (sub-ms when idle). A tick sends in
 * slices of at most 5 ms (agent frames and acks are served in between) and the next one waits
 * `flushCostFactor` x the time it kept the loop busy, so fan-out takes a bounded share of the
 * event loop and, under load, frames grow instead of multiplying.
 *
 * Fleet subscriptions may carry a filter (only matching chips in every frame) and ask for the
 * compact form (`fleet-columns`, chips by slot); frames are built once per distinct subscription.
 * `alerts` subscriptions may carry the same filter: an `alert` frame is built once per distinct
 * filter and holds only the transitions of matching chips.
 *
 * The `summary` topic (the fleet's counts for a dashboard's header) has a timer of its own, on
 * while anyone subscribes: every `summaryMs` one computation over the fleet state and alerts
 * (`setSummarySource`) and one frame for every subscriber; a new subscriber gets the newest one
 * at once (computed then if there is none yet).
 *
 * Latest wins: a socket with more than `highWaterBytes` buffered skips frames; once it drains
 * below `lowWaterBytes` (checked on each tick and by a timer while any socket lags) a fleet
 * subscriber gets a fresh snapshot, so a slow browser never holds up the others.
 *
 * With a live bus (server/bus/), `tap` sees this hub's own changes as they are published (to pass
 * them on to other hubs) and `watcher` hears which chips and topics this hub's browsers watch
 * (to subscribe to them); changes from other hubs come in with `origin: 'remote'`, which the tap
 * does not see, and their fleet summaries' newest values by `publishFleetLatest`.
 */
import type { AlertEventAnswer } from '../../schema/api-answers.ts';
import type { ChipView, FleetFilter } from '../../schema/protocol.ts';
import { PROTOCOL_VERSION } from '../../schema/protocol-constants.ts';
import type { ChipStatus, Sample } from '../../schema/sample.ts';
import { fleetSub, type ChipMeta, type FleetSub } from './fleet-subscription.ts';
import { TickFrames, encode, fleetColumns } from './live-frames.ts';
import { fleetSummary, type SummarySource } from './live-summary.ts';

/** What the fan-out needs of a socket (a `ws` WebSocket, or a fake in tests). */
export interface LiveSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: Buffer, opts: { binary: boolean }): void;
}

/** Tuning of `LiveFanout` (defaults suit a dashboard hub). */
export interface LiveFanoutOptions {
  /** The next tick waits at least this × the time the last one kept the loop busy (default 1). */
  flushCostFactor?: number;
  /** Shortest time from one tick's start to the next, ms (default 0). */
  minTickMs?: number;
  /** Longest wait that pacing may impose between ticks, ms (default 50). */
  maxPaceMs?: number;
  /** Largest `samples` frame (samples); a bigger tick is split (default 2,000). */
  maxFrameSamples?: number;
  /** Above this many buffered bytes a socket lags and skips frames (default 1 MiB). */
  highWaterBytes?: number;
  /** A lagging socket rejoins below this many buffered bytes (default 64 KiB). */
  lowWaterBytes?: number;
  /** Alert transitions published within this many ms go out in one `alert` frame (default 100). */
  alertCoalesceMs?: number;
  /** How often the `summary` topic's frame is computed and sent while anyone subscribes, ms (default 1,000). */
  summaryMs?: number;
}

/** This hub's own live changes, as published (the live bus passes them on to other hubs). */
export interface LiveTap {
  samples(batch: readonly Sample[]): void;
  status(changes: readonly { chipId: string; status: ChipStatus }[]): void;
  inventory(chips: readonly ChipView[]): void;
}

/** What this hub's browsers watch, told as it changes: a chip's first viewer came or its last left; the firehose or alerts topic got its first subscriber or lost its last. */
export interface LiveWatcher {
  chip(chipId: string, watched: boolean): void;
  firehose(watched: boolean): void;
  alerts(watched: boolean): void;
}

/** Where a published change comes from: this hub's agents, or another hub's through the bus. */
export type LiveOrigin = 'local' | 'remote';

interface LiveClient {
  fleet: boolean;
  /** The fleet subscription's filter and form. */
  sub: FleetSub;
  firehose: boolean;
  /** `alerts` topic: alert transitions. */
  alerts: boolean;
  /** The alerts subscription's filter (its `compact` unused). */
  alertSub: FleetSub;
  /** `summary` topic. */
  summary: boolean;
  chips: Set<string>;
  lagging: boolean;
  /** While lagging it skipped an inventory or status frame (it then needs a whole snapshot to rejoin). */
  missedMeta: boolean;
}

const OPEN = 1;
const LAG_CHECK_MS = 50;
/** Longest stretch one tick keeps the event loop before letting I/O in, ms. */
const SLICE_MS = 5;

/** Counters of what the fan-out did (exposed for tests and benchmarks). */
export interface FanoutStats {
  flushes: number;
  /** Frames handed to sockets (one per subscriber per frame). */
  sends: number;
  /** Frames a lagging socket skipped. */
  skipped: number;
  /** Summaries computed (one per summary tick, whatever the number of subscribers). */
  summaries: number;
}

/** The hub's one fan-out: subscriptions of every /ws/live socket and the tick that feeds them. */
export class LiveFanout {
  readonly stats: FanoutStats = { flushes: 0, sends: 0, skipped: 0, summaries: 0 };
  private readonly clients = new Map<LiveSocket, LiveClient>();
  /** chipId -> sockets subscribed to that chip */
  private readonly chipSubs = new Map<string, Set<LiveSocket>>();
  private readonly opts: Required<LiveFanoutOptions>;
  private pending: Sample[] = [];
  /** Newest values of remote chips from fleet summaries: fleet frames only. */
  private pendingFleet: Sample[] = [];
  /** Local changes as published (none without a bus). */
  tap: LiveTap | null = null;
  /** Told what this hub's browsers watch (none without a bus). */
  watcher: LiveWatcher | null = null;
  private firehoseSubs = 0;
  private alertSubs = 0;
  private readonly pendingStatus = new Map<string, ChipStatus>();
  private scheduled = false;
  private flushing = false;
  private notBefore = 0;
  private lagTimer: ReturnType<typeof setInterval> | null = null;
  /** Snapshot frames by subscription key, for one event-loop turn. */
  private readonly snapshotCache = new Map<string, Buffer>();
  private readonly catchUpCache = new Map<string, Buffer>();
  /** Chip metadata for filters (built on the first filtered subscription, kept by inventory). */
  private meta: Map<string, ChipMeta> | null = null;
  /** Slots of compact subscriptions: chipId -> number, given once and kept while the hub runs. */
  private readonly slots = new Map<string, number>();
  private readonly slotOf = (chipId: string): number | undefined => this.slots.get(chipId);
  private readonly flushTick = () => {
    this.scheduled = false;
    this.flush();
  };

  constructor(
    private readonly snapshot: () => ChipView[],
    opts: LiveFanoutOptions = {},
  ) {
    this.opts = { flushCostFactor: 1, minTickMs: 0, maxPaceMs: 50, maxFrameSamples: 2_000, highWaterBytes: 1 << 20, lowWaterBytes: 64 << 10, alertCoalesceMs: 100, summaryMs: 1_000, ...opts };
  }

  get size(): number {
    return this.clients.size;
  }

  /** A new socket, subscribed to nothing yet. */
  add(ws: LiveSocket): void {
    this.clients.set(ws, { fleet: false, sub: fleetSub(undefined, false), firehose: false, alerts: false, alertSub: fleetSub(undefined, false), summary: false, chips: new Set(), lagging: false, missedMeta: false });
  }

  /** A closed socket: forget it and its subscriptions. */
  remove(ws: LiveSocket): void {
    const c = this.clients.get(ws);
    if (!c) return;
    for (const chipId of c.chips) this.unindexChip(ws, chipId);
    this.clients.delete(ws);
    if (c.firehose) this.countFirehose(-1);
    if (c.alerts) this.countAlerts(-1);
    if (c.summary) this.countSummary(-1);
  }

  /**
   * Fleet topic on/off; on (again) takes the subscription's filter and form (`compact`) and sends
   * its snapshot right away.
   */
  setFleet(ws: LiveSocket, on: boolean, filter?: FleetFilter, compact = false): void {
    const c = this.clients.get(ws);
    if (!c) return;
    c.fleet = on;
    if (!on) return;
    c.sub = fleetSub(filter, compact);
    this.sendTo(ws, this.snapshotFrame(c.sub), true);
  }

  /** Firehose (`samples` topic) on/off. */
  setFirehose(ws: LiveSocket, on: boolean): void {
    const c = this.clients.get(ws);
    if (!c || c.firehose === on) return;
    c.firehose = on;
    this.countFirehose(on ? 1 : -1);
  }

  private countFirehose(d: 1 | -1): void {
    this.firehoseSubs += d;
    if (this.firehoseSubs === (d > 0 ? 1 : 0)) this.watcher?.firehose(d > 0);
  }

  private countAlerts(d: 1 | -1): void {
    this.alertSubs += d;
    if (this.alertSubs === (d > 0 ? 1 : 0)) this.watcher?.alerts(d > 0);
  }

  /**
   * `alerts` topic on/off; on (again) takes the subscription's filter (the snapshot of current
   * alerts is the endpoint's business: `alertFilter` says which to send).
   */
  setAlerts(ws: LiveSocket, on: boolean, filter?: FleetFilter): void {
    const c = this.clients.get(ws);
    if (!c) return;
    if (on) c.alertSub = fleetSub(filter, false);
    if (c.alerts === on) return;
    c.alerts = on;
    this.countAlerts(on ? 1 : -1);
  }

  /** The chip-id test of a socket's `alerts` filter, or undefined when it takes every chip's alerts. */
  alertFilter(ws: LiveSocket): ((chipId: string) => boolean) | undefined {
    const c = this.clients.get(ws);
    return c ? this.keeper(c.alertSub) : undefined;
  }

  /** Where the `summary` topic's figures come from (without one, the fleet snapshot and no alerts). */
  setSummarySource(source: SummarySource): void {
    this.summarySource = source;
  }

  /** `summary` topic on/off; on sends the newest summary at once. */
  setSummary(ws: LiveSocket, on: boolean): void {
    const c = this.clients.get(ws);
    if (!c) return;
    if (on) this.sendTo(ws, this.summaryFrame ?? this.computeSummary(), true);
    if (c.summary === on) return;
    c.summary = on;
    this.countSummary(on ? 1 : -1);
  }

  private summarySource: SummarySource | null = null;
  private summarySubs = 0;
  /** The newest summary frame (null when no one subscribes: it would go stale). */
  private summaryFrame: Buffer | null = null;
  private summaryTimer: ReturnType<typeof setInterval> | null = null;

  private countSummary(d: 1 | -1): void {
    this.summarySubs += d;
    if (this.summarySubs > 0 && this.summaryTimer === null) {
      this.summaryTimer = setInterval(this.summaryTick, this.opts.summaryMs);
      this.summaryTimer.unref?.();
    } else if (this.summarySubs === 0 && this.summaryTimer !== null) {
      clearInterval(this.summaryTimer);
      this.summaryTimer = null;
      this.summaryFrame = null;
    }
  }

  /** One summary over the whole fleet, encoded once; kept as the newest. */
  private computeSummary(): Buffer {
    const src = this.summarySource;
    this.stats.summaries++;
    this.summaryFrame = encode(fleetSummary(src ? src.chips() : this.snapshot(), src?.alerts?.() ?? [], Date.now()));
    return this.summaryFrame;
  }

  private readonly summaryTick = (): void => {
    let frame: Buffer | null = null;
    for (const [ws, c] of this.clients) {
      if (!c.summary || ws.readyState !== OPEN) continue;
      frame ??= this.computeSummary();
      this.send(ws, frame, this.isLagging(ws, c));
    }
  };

  /** Stops the summary timer (the hub is closing). */
  close(): void {
    if (this.summaryTimer) clearInterval(this.summaryTimer);
    this.summaryTimer = null;
  }

  /**
   * Alert transitions (an AlertSink of the alert engine), in order, to every `alerts` subscriber,
   * lagging or not (each transition matters). Those published within `alertCoalesceMs` travel in
   * one `alert` frame: the engine publishes after every commit, and at 10,000 chips with flapping
   * rules that was ~600 frames a second to every dashboard.
   */
  publishAlerts(events: readonly AlertEventAnswer[]): void {
    if (events.length === 0 || this.clients.size === 0) return;
    for (const e of events) this.alertQueue.push(e);
    if (this.alertTimer === null) {
      this.alertTimer = setTimeout(this.flushAlerts, this.opts.alertCoalesceMs);
      this.alertTimer.unref?.();
    }
  }

  private alertQueue: AlertEventAnswer[] = [];
  private alertTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly flushAlerts = (): void => {
    this.alertTimer = null;
    const events = this.alertQueue;
    this.alertQueue = [];
    // One frame per distinct filter (null: none of its chips' alerts changed).
    const frames = new Map<string, Buffer | null>();
    for (const [ws, c] of this.clients) {
      if (!c.alerts || ws.readyState !== OPEN) continue;
      let frame = frames.get(c.alertSub.key);
      if (frame === undefined) {
        const keep = this.keeper(c.alertSub);
        const mine = keep ? events.filter((e) => keep(e.chipId)) : events;
        frame = mine.length ? encode({ v: PROTOCOL_VERSION, type: 'alert', events: mine }) : null;
        frames.set(c.alertSub.key, frame);
      }
      if (!frame) continue;
      this.stats.sends++;
      ws.send(frame, { binary: false });
    }
  };

  /** One chip's samples on/off (the chip history is the endpoint's business). */
  setChip(ws: LiveSocket, chipId: string, on: boolean): void {
    const c = this.clients.get(ws);
    if (!c) return;
    if (on) {
      c.chips.add(chipId);
      let subs = this.chipSubs.get(chipId);
      if (!subs) {
        this.chipSubs.set(chipId, (subs = new Set()));
        this.watcher?.chip(chipId, true);
      }
      subs.add(ws);
    } else if (c.chips.delete(chipId)) this.unindexChip(ws, chipId);
  }

  /** Send one frame to one socket now; `force` sends even while it lags (replies, snapshots). */
  sendTo(ws: LiveSocket, frame: Buffer, force = false): void {
    const c = this.clients.get(ws);
    if (!c || ws.readyState !== OPEN) return;
    if (!force && this.isLagging(ws, c)) return;
    ws.send(frame, { binary: false });
  }

  /** Committed live samples: queued for the next tick's frames. */
  publishSamples(batch: Sample[], origin: LiveOrigin = 'local'): void {
    if (origin === 'local' && this.tap !== null) this.tap.samples(batch);
    if (this.clients.size === 0 || batch.length === 0) return;
    if (this.pending.length === 0) this.pending = batch.slice();
    else for (const s of batch) this.pending.push(s);
    this.schedule();
  }

  /**
   * Status changes are coalesced into the tick too (the last change of a chip wins) and go to
   * fleet subscribers as one `status` frame, after that tick's `fleet-update`.
   */
  publishStatus(changes: { chipId: string; status: ChipStatus }[], origin: LiveOrigin = 'local'): void {
    if (changes.length === 0) return;
    if (origin === 'local') this.tap?.status(changes);
    if (this.clients.size === 0) return;
    for (const { chipId, status } of changes) {
      this.pendingStatus.delete(chipId); // re-insert: frame order follows the latest change
      this.pendingStatus.set(chipId, status);
    }
    this.schedule();
  }

  /**
   * Inventory changes go to fleet subscribers at once — before any sample of a new chip, which
   * can only be committed after its agent's hello. Their `latest` already includes queued samples.
   */
  publishInventory(chips: ChipView[], origin: LiveOrigin = 'local'): void {
    if (!chips.length) return;
    if (origin === 'local') this.tap?.inventory(chips);
    this.snapshotCache.clear();
    if (this.meta) for (const c of chips) this.meta.set(c.chipId, c);
    const frames = new Map<string, Buffer | null>();
    for (const [ws, c] of this.clients) {
      if (!c.fleet || ws.readyState !== OPEN) continue;
      let f = frames.get(c.sub.key);
      if (f === undefined) {
        const mine = c.sub.match ? chips.filter(c.sub.match) : chips;
        f = mine.length ? encode({ v: PROTOCOL_VERSION, type: 'inventory', chips: mine, ...(c.sub.compact ? { slots: mine.map((x) => this.slot(x.chipId)) } : {}) }) : null;
        frames.set(c.sub.key, f);
      }
      if (!f) continue;
      const lagging = this.isLagging(ws, c);
      if (lagging) c.missedMeta = true;
      this.send(ws, f, lagging);
    }
  }

  /**
   * Newest values of remote chips (other hubs' fleet summaries): queued for the next tick's
   * fleet frames only (their chips' viewers get full samples from `publishSamples`).
   */
  publishFleetLatest(latest: Sample[]): void {
    if (this.clients.size === 0 || latest.length === 0) return;
    for (const s of latest) this.pendingFleet.push(s);
    this.schedule();
  }

  /**
   * Starts a tick: takes what is queued, then sends its frames (built once each, on first need)
   * to every subscriber, in slices of at most SLICE_MS so agent frames and acks are served in
   * between. The next tick waits `flushCostFactor` x the time this one kept the loop busy.
   */
  private flush(): void {
    if (this.flushing) return; // the running tick schedules the next when it is done
    if (this.pending.length === 0 && this.pendingStatus.size === 0 && this.pendingFleet.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const fleetOnly = this.pendingFleet;
    if (fleetOnly.length > 0) this.pendingFleet = [];
    const status = [...this.pendingStatus].map(([chipId, st]) => ({ chipId, status: st }));
    this.pendingStatus.clear();
    if (this.clients.size === 0) return;
    const t0 = performance.now();
    const frames = new TickFrames(batch, status, performance.timeOrigin + t0, this.chipSubs, this.opts.maxFrameSamples, fleetOnly.length === 0 ? batch : batch.concat(fleetOnly));
    const queue = [...this.clients.keys()];
    let next = 0;
    let busy = 0;
    this.flushing = true;
    const slice = () => {
      const s0 = performance.now();
      while (next < queue.length) {
        const ws = queue[next++];
        const c = this.clients.get(ws);
        if (c && ws.readyState === OPEN) this.deliverTick(ws, c, frames);
        if (next < queue.length && performance.now() - s0 >= SLICE_MS) {
          busy += performance.now() - s0;
          setImmediate(slice);
          return;
        }
      }
      const end = performance.now();
      busy += end - s0;
      this.flushing = false;
      this.stats.flushes++;
      this.notBefore = Math.max(t0 + this.opts.minTickMs, end + busy * this.opts.flushCostFactor);
      if (this.pending.length || this.pendingStatus.size || this.pendingFleet.length) this.schedule();
    };
    slice();
  }

  /** One socket's share of a tick: its chips' samples, then fleet-update and status, then firehose. */
  private deliverTick(ws: LiveSocket, c: LiveClient, frames: TickFrames): void {
    const lagging = this.isLagging(ws, c);
    // A firehose subscriber already gets its chips' samples in the firehose.
    if (c.chips.size > 0 && !c.firehose) {
      for (const chipId of c.chips) {
        const f = frames.chip(chipId);
        if (f) this.send(ws, f, lagging);
      }
    }
    if (c.fleet) {
      const keep = this.keeper(c.sub);
      const f = frames.fleet(c.sub.key, c.sub.compact, keep, this.slotOf);
      if (f) this.send(ws, f, lagging);
      const st = frames.status(c.sub.key, keep);
      if (st) {
        if (lagging) c.missedMeta = true;
        this.send(ws, st, lagging);
      }
    }
    if (c.firehose) for (const f of frames.firehose()) this.send(ws, f, lagging);
  }

  private send(ws: LiveSocket, frame: Buffer, lagging: boolean): void {
    if (lagging) this.stats.skipped++;
    else {
      this.stats.sends++;
      ws.send(frame, { binary: false });
    }
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const wait = this.notBefore - performance.now();
    if (wait <= 0) setImmediate(this.flushTick);
    else setTimeout(this.flushTick, Math.min(wait, this.opts.maxPaceMs)).unref();
  }

  /**
   * The fleet snapshot as a frame, built at most once per event-loop turn (a reconnect storm
   * brings many subscribes in one turn). Changes after it are queued for the tick or, for
   * inventory, sent to every fleet subscriber, so a subscriber misses nothing.
   */
  private snapshotFrame(sub: FleetSub): Buffer {
    let f = this.snapshotCache.get(sub.key);
    if (!f) {
      if (this.snapshotCache.size === 0) setImmediate(() => this.snapshotCache.clear());
      let chips = this.snapshot();
      if (sub.match) {
        this.meta ??= new Map(chips.map((c) => [c.chipId, c]));
        chips = chips.filter(sub.match);
      }
      f = encode({ v: PROTOCOL_VERSION, type: 'fleet-snapshot', chips, ...(sub.compact ? { slots: chips.map((c) => this.slot(c.chipId)) } : {}) });
      this.snapshotCache.set(sub.key, f);
    }
    return f;
  }

  /** The chip-id test of a filtered subscription (chips without metadata are left out), or undefined for all. */
  private keeper(sub: FleetSub): ((chipId: string) => boolean) | undefined {
    const match = sub.match;
    if (!match) return undefined;
    if (!this.meta) this.meta = new Map(this.snapshot().map((c) => [c.chipId, c]));
    const meta = this.meta;
    return (chipId) => {
      const m = meta.get(chipId);
      return m !== undefined && match(m);
    };
  }

  /** A chip's slot, given on first need. */
  private slot(chipId: string): number {
    let s = this.slots.get(chipId);
    if (s === undefined) this.slots.set(chipId, (s = this.slots.size));
    return s;
  }

  private unindexChip(ws: LiveSocket, chipId: string): void {
    const subs = this.chipSubs.get(chipId);
    if (!subs) return;
    subs.delete(ws);
    if (subs.size > 0) return;
    this.chipSubs.delete(chipId);
    this.watcher?.chip(chipId, false);
  }

  /** Lagging sockets skip frames; when drained they get a fresh snapshot and rejoin. */
  private isLagging(ws: LiveSocket, c: LiveClient): boolean {
    if (!c.lagging) {
      if (ws.bufferedAmount <= this.opts.highWaterBytes) return false;
      c.lagging = true;
      this.watchLaggards();
      return true;
    }
    if (ws.bufferedAmount > this.opts.lowWaterBytes) return true;
    c.lagging = false;
    // A compact subscriber that missed only value frames catches up with one frame of every chip's
    // newest values (~33 B a chip); a whole snapshot (~10x that) for 100 lagging dashboards at
    // 10,000 chips was what kept them lagging.
    if (c.fleet) ws.send(c.sub.compact && !c.missedMeta ? this.catchUpFrame(c.sub) : this.snapshotFrame(c.sub), { binary: false });
    c.missedMeta = false;
    return false;
  }

  /** Every matching chip's newest values as one `fleet-columns` frame, built at most once per event-loop turn. */
  private catchUpFrame(sub: FleetSub): Buffer {
    let f = this.catchUpCache.get(sub.key);
    if (!f) {
      if (this.catchUpCache.size === 0) setImmediate(() => this.catchUpCache.clear());
      const latest: Sample[] = [];
      for (const c of this.snapshot()) if (c.latest) latest.push(c.latest);
      f = encode(fleetColumns(latest, performance.timeOrigin + performance.now(), this.slotOf, this.keeper(sub)));
      this.catchUpCache.set(sub.key, f);
    }
    return f;
  }

  /** While any socket lags, check now and then whether it drained (no frame may come to tell). */
  private watchLaggards(): void {
    if (this.lagTimer) return;
    this.lagTimer = setInterval(() => {
      let still = 0;
      for (const [ws, c] of this.clients) if (c.lagging && ws.readyState === OPEN && this.isLagging(ws, c)) still++;
      if (still === 0 && this.lagTimer) {
        clearInterval(this.lagTimer);
        this.lagTimer = null;
      }
    }, LAG_CHECK_MS);
    this.lagTimer.unref();
  }
}
