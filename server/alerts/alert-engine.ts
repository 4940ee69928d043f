/**
 * The alert engine inside the hub: the rules in force (rule-set.ts), the state of each (rule, chip)
 * alert (alert-state.ts), and the one timer that drives `for` / `clear.for` expiries and liveness.
 *
 * Evaluation is driven by events, never by a scan of the fleet:
 * - committed samples (`onSamples`, called by Ingest after each commit): each sample is evaluated
 *   against the rules that select its chip (cached per chip, rebuilt when the rules or the chip's
 *   inventory change). The hot path allocates nothing while an alert is inactive and its condition
 *   does not hold. Samples not newer than the chip's latest evaluated one are dropped (repeats of a
 *   batch, spooled samples older than live ones). Backfill batches are evaluated as backfill: they
 *   update states and can resolve, never fire (alert-state.ts);
 * - connection changes (`onAgentChange`, called by Ingest on hello, disconnect, inventory change,
 *   push-agent registration and chip moves): `agentDisconnected` rules (built-in `agent-offline`)
 *   observe 1 or 0 for the agent's chips;
 * - the timer wheel (timer-wheel.ts), advanced every `tickMs` (250 ms): a pending alert's `for`
 *   and a firing one's `clear.for` run out; a chip's staleness deadline (`missedIntervals` rules,
 *   built-in `stale`: `since` is the chip's last live sample or its agent's hello, read from the
 *   fleet when the timer goes off, so a sample costs the engine nothing for staleness), one
 *   wheel entry per agent for its chips' deadlines (stale-timers.ts).
 *   Staleness is measured while the chip's agent is connected (a disconnected agent is
 *   `agent-offline`'s business). After a start, agents get the shortest `for` of the
 *   `agentDisconnected` rules to come back before their chips' alerts go pending (as from the start).
 *
 * Every transition is handed to the sinks (the live fan-out, the notifier) at once and written
 * (state row and event row) in one transaction per timer tick, on the store's writer thread
 * (alert-writes.ts), before `history` reads and at close. Only states that are not inactive are kept, in memory
 * and in alert_states; on start they are restored without firing again (restoreState). A rule that
 * goes away (deleted, disabled, no longer selecting the chip) ends its alerts at once: a firing one
 * resolves (firing → resolved), others go inactive.
 */
import type { AlertRule, RulesFile, Severity } from '../../schema/alert-rules.ts';
import type { ActiveAlert } from '../../schema/api-answers.ts';
import type { ChipView } from '../../schema/protocol.ts';
import type { Sample } from '../../schema/sample.ts';
import { silentLogger, type Logger } from '../../common/logger.ts';
import { HUB_LAG_MS, type FleetState } from '../fleet-state.ts';
import type { AlertEvent, AlertSink } from './alert-events.ts';
import { alertLabels } from './alert-labels.ts';
import { deadline, expire, INACTIVE, observe, restoreState, serializeState, type AlertState, type Step, type Transition } from './alert-state.ts';
import type { AlertStore, HistoryQuery, StateWrite, StoredAlertEvent } from './alert-store.ts';
import { breaches } from './breach-test.ts';
import { evaluateSample, missedIntervals, observeValue, selectorMatches, silenceDeadline, usesEstimatedPower } from './rule-eval.ts';
import { RuleCatalog, type CatalogChange, type RuleChange, type RulesFileChange } from './rule-catalog.ts';
import type { ResolvedRule } from './rule-set.ts';
import { alertAnnotations } from './templates.ts';
import { TimerWheel } from './timer-wheel.ts';
import { isAgentStale, StaleTimers, type AgentStale } from './stale-timers.ts';
import { compile, dropSlot, findInPick, NO_RULES, NO_SLOTS, putSlot, slotAt, slotOf, type ChipEntry, type CompiledRule, type RulePick, type Slot } from './alert-slots.ts';
import { fingerprint } from './webhook-payload.ts';

export interface AlertEngineOptions {
  store: AlertStore;
  fleet: FleetState;
  /** Who receives the transitions (the live fan-out, the notifier); more with `addSink`. */
  sinks?: AlertSink[];
  log?: Logger;
  /** The rules file's content at start (already checked), or null. */
  file?: RulesFile | null;
  /** The clock (default Date.now). */
  now?: () => number;
  /** How often the timer wheel is advanced, ms (default 250). */
  tickMs?: number;
  /** Transitions older than this are deleted from the history (checked hourly; default 90 days). */
  historyMs?: number;
}

export type { RuleChange, RulesFileChange } from './rule-catalog.ts';

/** The wheel holds slots' expiries, agents' staleness entries (stale-timers.ts), and the after-start connection check. */
type TimerKey = Slot | AgentStale | typeof STARTUP_CHECK;
const STARTUP_CHECK = Symbol('startup agent check');
const HOUR = 3_600_000;
/** Queued writes beyond which `flush` writes at once rather than at the next tick. */
const PERSIST_AT = 5000;
const PHASE_ORDER = { firing: 0, pending: 1, resolved: 2, inactive: 3 } as const;

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (a[k] !== b[k]) return false;
  return true;
}

const isSlot = (k: TimerKey): k is Slot => typeof k === 'object' && 'rule' in k;

export class AlertEngine {
  private readonly store: AlertStore;
  private readonly fleet: FleetState;
  private readonly sinks: AlertSink[];
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly tickMs: number;
  private readonly historyMs: number;
  private readonly wheel: TimerWheel<TimerKey>;
  private readonly stale: StaleTimers;

  private readonly catalog: RuleCatalog;
  private compiled = new Map<string, CompiledRule>();
  private sampleRules: CompiledRule[] = [];
  private missedRules: CompiledRule[] = [];
  private disconnectedRules: CompiledRule[] = [];
  /** Bumped by rule changes (slots are re-chosen) and by fleet changes (views are re-checked). */
  private version = 1;
  private rulesVersion = 1;

  private readonly chips = new Map<string, ChipEntry>();
  /** Chips' picks, one per list of rules (most chips share one), by rule ids; for `picksOf`'s rules version. */
  private readonly picks = new Map<string, RulePick>();
  private picksOf = 0;
  /** Slots whose state is not inactive. */
  private readonly active = new Set<Slot>();
  /** What the current pass changed: published (and queued for writing) by `flush`. */
  private dirty = new Set<Slot>();
  private events: AlertEvent[] = [];
  /** Written by `persist`: the latest state of each changed (rule, chip), and events in order. */
  private readonly unwrittenStates = new Map<string, StateWrite>();
  private unwrittenEvents: AlertEvent[] = [];
  /** Settles once the last write handed to the store (and so every earlier one) is committed. */
  private written: Promise<void> = Promise.resolve();

  private timer: ReturnType<typeof setInterval> | null = null;
  private startedAt = 0;
  private nextPruneAt = 0;
  private closed = false;

  constructor(opts: AlertEngineOptions) {
    this.store = opts.store;
    this.fleet = opts.fleet;
    this.sinks = [...(opts.sinks ?? [])];
    this.log = opts.log ?? silentLogger;
    this.now = opts.now ?? Date.now;
    this.tickMs = opts.tickMs ?? 250;
    this.historyMs = opts.historyMs ?? 90 * 24 * HOUR;
    this.catalog = new RuleCatalog(opts.store, opts.file ?? null, this.now);
    this.wheel = new TimerWheel<TimerKey>({ tickMs: this.tickMs, slots: 1024, now: this.now() });
    this.stale = new StaleTimers((g, at) => this.wheel.schedule(g, at));
  }

  /** Also hand transitions to `sink` (e.g. the notifier, made after the engine). */
  addSink(sink: AlertSink): void {
    this.sinks.push(sink);
  }

  /**
   * Load the stored rules (throws when they clash with the rules file), restore the stored states
   * (nothing fires again), and start the timer. Call once, after the fleet is loaded.
   */
  start(): void {
    const now = this.now();
    this.startedAt = now;
    this.nextPruneAt = now;
    this.setResolved(this.catalog.load(this.log));

    for (const view of this.fleet.list()) {
      const e = this.entry(view.chipId);
      if (view.latest) remember(e.prev, view.latest);
    }
    for (const row of this.store.loadStates()) this.restore(row.ruleId, row.chipId, row.state, row.labels);
    this.scheduleStartupCheck(now);
    this.flush(now);
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
  }

  /** Stop the timer and write the latest values of the alerts in progress. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const slot of this.active) this.dirty.add(slot);
    this.flush(this.now(), false);
    this.persist(this.now());
  }

  // ---------- ingest ----------

  /** Committed samples (after the fleet applied them); `backfill`: a late batch. */
  onSamples(samples: readonly Sample[], opts: { backfill: boolean }): void {
    if (this.closed || (this.sampleRules.length === 0 && this.missedRules.length === 0)) return;
    const now = this.now();
    for (let k = 0; k < samples.length; k++) {
      const s = samples[k]!;
      let e = this.chips.get(s.chipId);
      if (e === undefined) e = this.entry(s.chipId);
      if (e.version !== this.version) this.refresh(e);
      const view = e.view;
      const prev = e.prev;
      if (view === null || s.ts <= prev.ts) continue;
      const { sample: rules, tests } = e.pick;
      for (let i = 0; i < tests.length; i++) {
        const slot = e.activeSample > 0 ? slotAt(e, 'sample', i) : undefined;
        if ((slot === undefined || slot.state === null) && !breaches(tests[i]!, s, view, prev)) continue;
        const cr = rules[i]!;
        const sl = slot ?? this.slotFor(e, cr, i);
        this.apply(sl, observe(sl.state ?? INACTIVE, evaluateSample(cr.rule, s, view, prev, now), cr.timing), s);
      }
      remember(prev, s);
      if (!opts.backfill && e.pick.missed.length > 0) this.heard(e, now);
    }
    if (this.events.length > 0 || this.dirty.size > 0) this.flush(now);
  }

  /** An agent connected, disconnected, changed its inventory or got a chip: observe its chips' connection. */
  onAgentChange(agentId: string): void {
    if (this.closed) return;
    this.version++;
    const now = this.now();
    const chips = this.fleet.agentChips(agentId);
    const connected = this.fleet.hasConnection(agentId) || this.fleet.isPushAgent(agentId);
    for (const view of chips) {
      const e = this.entry(view.chipId);
      this.refresh(e);
      if (connected && e.connectedAt === null) e.connectedAt = now;
      if (!connected) e.connectedAt = null;
      this.observeConnection(e, connected, now);
      this.armStale(e, now);
    }
    this.flush(now);
  }

  /**
   * An agent's hello brought these chips to this hub (Ingest calls it before the agent's samples
   * are read): where other hubs write alert states to the same store (PostgreSQL), take over
   * their stored states, so an alert firing on the hub the agent left goes on firing here without
   * a second notification. A (rule, chip) this hub already holds a state for, or whose rule it
   * does not apply to the chip, is left as it is. Null (nothing to wait for) where the store has
   * no such reading (SQLite: only this hub writes its states). Never rejects.
   */
  takeOver(chipIds: readonly string[]): Promise<void> | null {
    const store = this.store;
    if (this.closed || chipIds.length === 0 || !store.loadChipStates) return null;
    // This hub's own pending writes first: a state it ended a moment ago must not come back from the store.
    this.persist(this.now());
    return this.written.then(() => store.loadChipStates!(chipIds)).then(
      (rows) => {
        if (this.closed) return;
        for (const row of rows) {
          const known = this.chips.get(row.chipId);
          if (known && slotOf(known, row.ruleId)?.state) continue;
          const cr = this.compiled.get(row.ruleId);
          const view = this.fleet.get(row.chipId);
          if (!cr?.rule.enabled || !view || !selectorMatches(cr.rule.selector, view)) continue;
          const state = restoreState(row.state);
          if (state === null || state.phase === 'inactive') continue;
          this.restore(row.ruleId, row.chipId, row.state, row.labels);
        }
      },
      (err: unknown) => this.log.warn('reading the alert states of an agent taken over failed; its alerts start afresh', { err: String(err), chips: chipIds.length }),
    );
  }

  // ---------- timers ----------

  /** Advance the timer wheel to now (the interval timer calls it; tests may too). */
  tick(): void {
    if (this.closed) return;
    const now = this.now();
    // A timer may set another that is due already (a staleness check makes an alert pending whose
    // `for` has run out): a few rounds take those too.
    for (let round = 0; round < 4; round++) {
      const due = this.wheel.advance(now);
      if (due.length === 0) break;
      for (const { key, at } of due) {
        if (key === STARTUP_CHECK) this.startupCheck(now);
        else if (isSlot(key)) {
          key.timer = false;
          if (key.state !== null) this.apply(key, expire(key.state, at, key.rule.timing), null);
        } else if (isAgentStale(key)) {
          for (const e of this.stale.fired(key, now)) this.staleCheck(e, e.staleDue, now);
        }
      }
    }
    if (now >= this.nextPruneAt) {
      this.nextPruneAt = now + HOUR;
      try {
        const n = this.store.pruneEvents(now - this.historyMs);
        if (n > 0) this.log.info('alert history pruned', { events: n });
      } catch (err) {
        this.log.error('alert history prune failed', { err: String(err) });
      }
    }
    this.flush(now);
    this.persist(now);
  }

  private scheduleStartupCheck(now: number): void {
    if (this.disconnectedRules.length === 0) return;
    const wait = Math.min(...this.disconnectedRules.map((r) => r.timing.forMs));
    this.wheel.schedule(STARTUP_CHECK, now + wait);
  }

  /** Chips whose agent has not come back since the start: their agentDisconnected rules observe 1 as of the start. */
  private startupCheck(now: number): void {
    this.version++;
    for (const view of this.fleet.list()) {
      // Another hub's chip (live bus): that hub's alerting watches it.
      if (this.fleet.isRemote(view.chipId)) continue;
      const connected = this.fleet.hasConnection(view.agentId) || this.fleet.isPushAgent(view.agentId);
      if (connected) continue;
      const e = this.entry(view.chipId);
      this.refresh(e);
      this.observeConnection(e, false, Math.min(this.startedAt, now));
    }
  }

  private observeConnection(e: ChipEntry, connected: boolean, ts: number): void {
    const rules = e.pick.disconnected;
    for (let i = 0; i < rules.length; i++) {
      const slot = slotAt(e, 'disconnected', i);
      if (connected && (slot === undefined || slot.state === null)) continue;
      const cr = rules[i]!;
      const sl = slot ?? this.slotFor(e, cr, i);
      this.apply(sl, observe(sl.state ?? INACTIVE, observeValue(cr.rule, ts, connected ? 0 : 1), cr.timing), null);
    }
  }

  /** Since when the chip has been silent, or null when its agent is not connected (staleness is not measured). */
  private silentSince(e: ChipEntry, now: number): { since: number; intervalMs: number; agentId: string } | null {
    const li = this.fleet.chipLiveness(e.chipId);
    if (!li || !li.agentConnected) return null;
    e.connectedAt ??= now;
    // The hub is not reading the agent's socket (fleet-state.ts agentReading): no silence so far.
    if (!li.read) return { since: now, intervalMs: li.intervalMs, agentId: li.agentId };
    return { since: Math.max(li.lastSampleAt ?? -Infinity, e.connectedAt), intervalMs: li.intervalMs, agentId: li.agentId };
  }

  /**
   * Whether the staleness timer is to observe this missedIntervals alert: not while it fires or is
   * pending on a live breach (its `for` runs on its own timer); a pending one restored at start is
   * observed once more (its evidence is from before the start).
   */
  private awaitsSilence(slot: Slot | undefined): boolean {
    if (slot === undefined) return true;
    const st = slot.state;
    return st === null || st.phase === 'resolved' || (st.phase === 'pending' && !st.fresh);
  }

  /** Set the chip's staleness timer to the first deadline of its missedIntervals rules not yet breached (`known`: its silence, already read this turn). */
  private armStale(e: ChipEntry, now: number, known?: { since: number; intervalMs: number; agentId: string }): void {
    const rules = e.pick.missed;
    const silent = rules.length > 0 ? (known ?? this.silentSince(e, now)) : null;
    let due = Infinity;
    if (silent) {
      for (let i = 0; i < rules.length; i++) {
        if (!this.awaitsSilence(slotAt(e, 'missed', i))) continue;
        due = Math.min(due, silenceDeadline(rules[i]!.rule, silent.since, silent.intervalMs) ?? Infinity);
      }
    }
    if (due !== Infinity) this.stale.set(e, silent!.agentId, due);
    else if (e.staleTimer) this.stale.clear(e);
  }

  /**
   * The staleness timer went off at `at`: rules whose deadline passed observe the chip's missed
   * intervals. A check run over HUB_LAG_MS late (the hub behind its sockets, whose unread samples
   * may end the silence) is put off to a timely tick.
   */
  private staleCheck(e: ChipEntry, at: number, now: number): void {
    if (now - at > HUB_LAG_MS) {
      this.stale.postpone(e, now + this.tickMs);
      return;
    }
    if (e.version !== this.version) this.refresh(e);
    const silent = this.silentSince(e, at);
    if (!silent) return;
    const rules = e.pick.missed;
    for (let i = 0; i < rules.length; i++) {
      const cr = rules[i]!;
      const due = silenceDeadline(cr.rule, silent.since, silent.intervalMs);
      const slot = slotAt(e, 'missed', i);
      if (due === null || at < due || !this.awaitsSilence(slot)) continue;
      const value = missedIntervals(at, silent.since, silent.intervalMs);
      const sl = slot ?? this.slotFor(e, cr, i);
      this.apply(sl, observe(sl.state ?? INACTIVE, observeValue(cr.rule, at, value), cr.timing), null);
    }
    this.armStale(e, at, silent);
  }

  /** A live sample of the chip arrived: its missedIntervals alerts observe 0; the staleness timer counts again. */
  private heard(e: ChipEntry, now: number): void {
    let watching = e.staleTimer;
    for (const slot of e.slots) {
      if (slot.state === null || slot.index < 0 || slot.rule.kind !== 'missed') continue;
      this.apply(slot, observe(slot.state, observeValue(slot.rule.rule, now, 0), slot.rule.timing), null);
      watching = false;
    }
    if (!watching) this.armStale(e, now);
  }

  // ---------- state changes ----------

  /** Take a step's new state: events for its transitions, the expiry timer, what to write. */
  private apply(slot: Slot, step: Step, sample: Sample | null): void {
    const before = slot.state ?? INACTIVE;
    const after = step.state;
    let since = before.since;
    for (const t of step.transitions) {
      if (t.to === 'pending') {
        since = t.at;
        const rule = slot.rule.rule;
        const view = slot.chip.view!;
        const estimated = sample !== null && usesEstimatedPower(rule, sample);
        // A flapping alert goes pending again and again with the labels of its last run: made
        // again only when the rule, the chip's view or the power estimate changed.
        if (slot.labelsOf === null || slot.labelsOf.rule !== rule || slot.labelsOf.view !== view || slot.labelsOf.estimated !== estimated) {
          const labels = alertLabels(rule, view, { powerEstimated: estimated });
          slot.labelsOf = { rule, view, estimated };
          // Kept with their fingerprint (a hash per byte) when they came out the same.
          if (!slot.labels || !sameLabels(slot.labels, labels)) {
            slot.labels = labels;
            slot.fingerprint = fingerprint(labels);
          }
        }
      }
      this.events.push(this.event(slot, t, since ?? t.at));
    }
    this.setState(slot, after.phase === 'inactive' ? null : after);
    if (step.transitions.length > 0 || before.clearSince !== after.clearSince) this.dirty.add(slot);
    this.setExpiry(slot);
  }

  /** The one place a slot's state changes: the set of alerts in progress and the hot path's flags follow. */
  private setState(slot: Slot, state: AlertState | null): void {
    const had = slot.state !== null;
    slot.state = state;
    if (state === null) this.active.delete(slot);
    else this.active.add(slot);
    if (slot.index >= 0 && slot.rule.kind === 'sample' && had !== (state !== null)) slot.chip.activeSample += had ? -1 : 1;
  }

  private setExpiry(slot: Slot): void {
    const due = slot.state === null ? null : deadline(slot.state, slot.rule.timing);
    if (due !== null) {
      this.wheel.schedule(slot, due);
      slot.timer = true;
    } else if (slot.timer) {
      this.wheel.cancel(slot);
      slot.timer = false;
    }
  }

  private labelsOf(slot: Slot): Record<string, string> {
    if (!slot.labels) {
      slot.labels = alertLabels(slot.rule.rule, slot.chip.view ?? { chipId: slot.chip.chipId, host: '', vendor: 'nvidia', model: '' }, { powerEstimated: false });
      slot.fingerprint = fingerprint(slot.labels);
    }
    return slot.labels;
  }

  private annotations(slot: Slot, value: number | null): Record<string, string> {
    const chip = slot.chip.view ?? { chipId: slot.chip.chipId, host: '', vendor: 'nvidia' as const, model: '' };
    return alertAnnotations({ rule: slot.rule.rule, chip, value, labels: this.labelsOf(slot) });
  }

  private event(slot: Slot, t: Transition, startsAt: number): AlertEvent {
    const labels = this.labelsOf(slot);
    return {
      ruleId: slot.rule.rule.id,
      chipId: slot.chip.chipId,
      from: t.from,
      to: t.to,
      at: t.at,
      value: t.value,
      severity: (labels.severity as Severity | undefined) ?? slot.rule.rule.severity,
      labels,
      annotations: this.annotations(slot, t.value),
      fingerprint: slot.fingerprint,
      startsAt,
      endsAt: t.to === 'resolved' ? t.at : null,
    };
  }

  /** The alert's rule went away: a firing alert resolves, any other goes inactive; its row is deleted. */
  private end(slot: Slot, now: number): void {
    const st = slot.state;
    if (st === null) return;
    const to = st.phase === 'firing' ? 'resolved' : 'inactive';
    this.events.push(this.event(slot, { from: st.phase, to, at: Math.max(now, st.lastTs ?? now), value: st.value }, st.since ?? now));
    this.setState(slot, null);
    this.dirty.add(slot);
    this.setExpiry(slot);
    dropSlot(slot.chip, slot.rule.rule.id);
  }

  /**
   * Hand this pass's events to the sinks, and queue what it changed for writing. Writes go out
   * in one transaction per timer tick (or sooner when many are queued): a store busy with samples
   * holds its write lock, so a write per commit would stall the event loop, and flapping alerts
   * (pending ⇄ inactive) would cost a transaction each. A state changed several times in a tick is
   * written once.
   */
  private flush(now: number, publish = true): void {
    if (this.dirty.size === 0 && this.events.length === 0) return;
    for (const slot of this.dirty) {
      const key = `${slot.rule.rule.id}\u0000${slot.chip.chipId}`;
      this.unwrittenStates.delete(key); // re-inserted last: a later write of the same key wins
      this.unwrittenStates.set(key, { ruleId: slot.rule.rule.id, chipId: slot.chip.chipId, state: slot.state === null ? null : serializeState(slot.state), labels: slot.labels ?? {} });
    }
    const events = this.events;
    this.dirty = new Set();
    this.events = [];
    for (const e of events) this.unwrittenEvents.push(e);
    if (this.unwrittenEvents.length >= PERSIST_AT || this.unwrittenStates.size >= PERSIST_AT) this.persist(now);
    if (!publish || events.length === 0) return;
    for (const sink of this.sinks) {
      try {
        sink.publish(events);
      } catch (err) {
        this.log.error('alert sink failed', { err: String(err) });
      }
    }
  }

  /** Write the queued states and events (one transaction, committed in order after the earlier ones). */
  private persist(now: number): void {
    if (this.unwrittenStates.size === 0 && this.unwrittenEvents.length === 0) return;
    const states = [...this.unwrittenStates.values()];
    const events = this.unwrittenEvents;
    this.unwrittenStates.clear();
    this.unwrittenEvents = [];
    const log = (err: unknown) => this.log.error('alert state write failed', { err: String(err), states: states.length, events: events.length });
    try {
      this.written = this.store.write(states, events, now).catch(log);
    } catch (err) {
      log(err);
    }
  }

  // ---------- chips ----------

  private entry(chipId: string): ChipEntry {
    let e = this.chips.get(chipId);
    if (!e) {
      e = { chipId, view: null, version: 0, rulesVersion: 0, pick: NO_RULES, slots: NO_SLOTS, activeSample: 0, prev: { ts: -Infinity, eccUncorrected: null }, connectedAt: null, staleTimer: false, staleDue: Infinity, staleGroup: null };
      this.chips.set(chipId, e);
    }
    return e;
  }

  /** Re-check the chip's view and, when it or the rules changed, choose its rules again. */
  private refresh(e: ChipEntry): void {
    e.version = this.version;
    const view = this.fleet.get(e.chipId) ?? null;
    if (view === e.view && e.rulesVersion === this.rulesVersion) return;
    e.view = view;
    e.rulesVersion = this.rulesVersion;
    e.pick = this.pickFor(view);
    // The slots follow their rules' new places; those of rules that no longer select the chip go,
    // but those holding a state (the rule change ended them; a restore ends them next).
    const kept: Slot[] = [];
    let activeSample = 0;
    for (const slot of e.slots) {
      const found = findInPick(e.pick, slot.rule.rule.id);
      if (found !== null) slot.rule = found.cr;
      slot.index = found === null ? -1 : found.index;
      if (found === null && slot.state === null) continue;
      kept.push(slot);
      if (slot.index >= 0 && slot.rule.kind === 'sample' && slot.state !== null) activeSample++;
    }
    e.slots = kept.length === 0 ? NO_SLOTS : kept;
    e.activeSample = activeSample;
  }

  /** The rules selecting a chip with this view, as a pick shared with every chip they select alike. */
  private pickFor(view: ChipView | null): RulePick {
    if (view === null) return NO_RULES;
    if (this.picksOf !== this.rulesVersion) {
      this.picks.clear();
      this.picksOf = this.rulesVersion;
    }
    const sample = this.sampleRules.filter((cr) => selectorMatches(cr.rule.selector, view));
    const missed = this.missedRules.filter((cr) => selectorMatches(cr.rule.selector, view));
    const disconnected = this.disconnectedRules.filter((cr) => selectorMatches(cr.rule.selector, view));
    let key = '';
    for (const list of [sample, missed, disconnected]) {
      for (const cr of list) key += `${cr.rule.id}\u0000`;
      key += '\u0001';
    }
    let pick = this.picks.get(key);
    if (pick === undefined) this.picks.set(key, (pick = { sample, tests: sample.map((cr) => cr.test), missed, disconnected }));
    return pick;
  }

  /** The chip's slot of `cr`, the `index`-th rule of its kind in the chip's pick: made now if it has none. */
  private slotFor(e: ChipEntry, cr: CompiledRule, index: number): Slot {
    const had = slotAt(e, cr.kind, index);
    if (had !== undefined) return had;
    const slot: Slot = { rule: cr, chip: e, state: null, labels: null, labelsOf: null, fingerprint: '', timer: false, index };
    e.slots = [...e.slots, slot];
    return slot;
  }

  private restore(ruleId: string, chipId: string, raw: unknown, labels: Record<string, string>): void {
    const state = restoreState(raw);
    const cr = this.compiled.get(ruleId);
    const e = this.entry(chipId);
    this.refresh(e);
    if (state === null || state.phase === 'inactive') {
      if (state === null) this.log.warn('stored alert state unreadable; dropped', { ruleId, chipId });
      this.unwrittenStates.set(`${ruleId}\u0000${chipId}`, { ruleId, chipId, state: null, labels: {} });
      return;
    }
    const placed = findInPick(e.pick, ruleId);
    const slot: Slot = slotOf(e, ruleId) ?? { rule: cr ?? compile({ ...this.placeholderRule(ruleId) }), chip: e, state: null, labels: null, labelsOf: null, fingerprint: '', timer: false, index: placed?.index ?? -1 };
    this.setState(slot, state);
    slot.labels = Object.keys(labels).length > 0 ? labels : null;
    slot.fingerprint = slot.labels ? fingerprint(slot.labels) : '';
    if (!cr || !cr.rule.enabled || e.view === null || !selectorMatches(cr.rule.selector, e.view)) {
      this.end(slot, this.now());
      return;
    }
    putSlot(e, slot);
    this.setExpiry(slot);
  }

  /** A stand-in for a rule that no longer exists (to end its restored alerts). */
  private placeholderRule(id: string): AlertRule {
    return { id, name: id, enabled: false, selector: {}, field: 'powerW', op: '>', threshold: 0, and: [], for: '0s', clear: {}, severity: 'warning', labels: {} };
  }

  // ---------- rules ----------

  private setResolved(resolved: ResolvedRule[]): void {
    this.compiled = new Map(resolved.map((r) => [r.rule.id, compile(r.rule)]));
    const enabled = [...this.compiled.values()].filter((c) => c.rule.enabled);
    this.sampleRules = enabled.filter((c) => c.kind === 'sample');
    this.missedRules = enabled.filter((c) => c.kind === 'missed');
    this.disconnectedRules = enabled.filter((c) => c.kind === 'disconnected');
    this.rulesVersion++;
    this.version++;
  }

  /** Put a new rule set in force: alerts of rules gone end, the others carry on under the new rule; liveness is observed again. */
  private applyRules(resolved: ResolvedRule[]): void {
    this.setResolved(resolved);
    const now = this.now();
    for (const slot of [...this.active]) {
      const cr = this.compiled.get(slot.rule.rule.id);
      const view = this.fleet.get(slot.chip.chipId);
      if (!cr || !cr.rule.enabled || !view || !selectorMatches(cr.rule.selector, view)) this.end(slot, now);
      else {
        slot.rule = cr;
        this.setExpiry(slot);
      }
    }
    const afterStart = !this.wheel.dueAt(STARTUP_CHECK);
    for (const view of this.fleet.list()) {
      if (this.fleet.isRemote(view.chipId)) continue;
      const e = this.entry(view.chipId);
      this.refresh(e);
      const connected = this.fleet.hasConnection(view.agentId) || this.fleet.isPushAgent(view.agentId);
      if (connected || afterStart) this.observeConnection(e, connected, now);
      this.armStale(e, now);
    }
    this.flush(now);
  }

  /** The rules in force (built-ins, API, file), disabled ones included. */
  rules(): ResolvedRule[] {
    return this.catalog.rules();
  }

  rule(id: string): ResolvedRule | undefined {
    return this.catalog.rule(id);
  }

  createRule(body: unknown): RuleChange {
    return this.inForce(this.catalog.create(body));
  }

  putRule(id: string, body: unknown): RuleChange {
    return this.inForce(this.catalog.put(id, body));
  }

  deleteRule(id: string): RuleChange {
    return this.inForce(this.catalog.delete(id));
  }

  /** Whether a rules file content would resolve with the API's rules (nothing changes). */
  checkRulesFile(file: RulesFile | null): RulesFileChange {
    return this.catalog.checkFile(file);
  }

  /** A new rules file content (reload): in force when it resolves with the API's rules; else nothing changes. */
  setRulesFile(file: RulesFile | null): RulesFileChange {
    return this.inForce(this.catalog.setFile(file));
  }

  /** Put the catalog's new set in force, if the change made one. */
  private inForce<C>(c: CatalogChange<C>): C {
    if (c.inForce) this.applyRules(c.inForce);
    return c.change;
  }

  // ---------- reads ----------

  /** Alerts that are not inactive: firing first, then pending, then just resolved; newest first within each. */
  activeAlerts(filter: { chipId?: string; ruleId?: string; phase?: 'pending' | 'firing' | 'resolved' } = {}): ActiveAlert[] {
    const out: ActiveAlert[] = [];
    for (const slot of this.active) {
      const st = slot.state!;
      if (filter.chipId !== undefined && slot.chip.chipId !== filter.chipId) continue;
      if (filter.ruleId !== undefined && slot.rule.rule.id !== filter.ruleId) continue;
      if (filter.phase !== undefined && st.phase !== filter.phase) continue;
      const labels = this.labelsOf(slot);
      out.push({
        ruleId: slot.rule.rule.id,
        chipId: slot.chip.chipId,
        phase: st.phase as ActiveAlert['phase'],
        severity: (labels.severity as Severity | undefined) ?? slot.rule.rule.severity,
        labels,
        annotations: this.annotations(slot, st.value),
        fingerprint: slot.fingerprint,
        startsAt: st.since ?? st.lastTs ?? 0,
        firedAt: st.firedAt,
        value: st.value,
      });
    }
    return out.sort((a, b) => PHASE_ORDER[a.phase] - PHASE_ORDER[b.phase] || b.startsAt - a.startsAt || (a.chipId < b.chipId ? -1 : a.chipId > b.chipId ? 1 : 0) || (a.ruleId < b.ruleId ? -1 : 1));
  }

  /**
   * The alerts firing now, each as the event that made it fire (from pending, at its firedAt): for
   * the notifier after a restart (Notifier.resume), which learns of them without sending them again.
   */
  firingEvents(): AlertEvent[] {
    const out: AlertEvent[] = [];
    for (const slot of this.active) {
      const st = slot.state!;
      if (st.phase !== 'firing') continue;
      out.push(this.event(slot, { from: 'pending', to: 'firing', at: st.firedAt ?? st.since ?? 0, value: st.value }, st.since ?? st.firedAt ?? 0));
    }
    return out;
  }

  /** Stored transitions, newest first (every transition so far committed first). */
  async history(q: HistoryQuery): Promise<StoredAlertEvent[]> {
    if (!this.closed) this.persist(this.now());
    await this.written;
    return this.store.history(q);
  }
}

/** `s` as the chip's previous sample, as rules read it: its time and ECC counter, written into the entry's `prev`. */
function remember(prev: ChipEntry['prev'], s: Pick<Sample, 'ts' | 'eccUncorrected'>): void {
  prev.ts = s.ts;
  prev.eccUncorrected = s.eccUncorrected ?? null;
}
