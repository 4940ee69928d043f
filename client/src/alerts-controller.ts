/**
 * AlertsController: a Lit ReactiveController holding the hub's current alerts (those not
 * inactive), kept current from the live `alerts` topic: an `alerts-snapshot` on every
 * (re)subscribe replaces them, then each `alert` frame's transitions are applied in order
 * (`to: inactive` removes an alert). The transitions seen live are also kept (the newest
 * `MAX_RECENT_EVENTS`), so a chip's chart can mark an alert's end the moment it happens.
 *
 * The live connection sends a topic's snapshot only to its first subscriber, so the dashboard
 * holds one of these (in `<fleet-app>`) and hands its fields down. `setFilter` narrows it to the
 * chips a view shows (the fleet topic's filter shape: the fleet view's filters, a host, a chip):
 * the hub then sends only their alerts, and a new filter is a new subscription (a fresh snapshot);
 * `setFilter(null)` drops the subscription. The host is asked to update at
 * most once per animation frame, and with thousands of alerts less often (`minUpdateIntervalMs`:
 * each update sorts them all); `alerts`, `byChip` and `recent` are replaced (never mutated)
 * when they change, so Lit's change detection sees them.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ActiveAlert, AlertEventAnswer } from '../../schema/api-answers.ts';
import type { FleetFilter, LiveServerMessage } from '../../schema/protocol.ts';
import { severityRank, worse, type Severity } from './alert-look.ts';
import { getLiveConnection, type LiveConnection } from './live-connection.ts';
import { PacedFlush } from './update-pace.ts';

/** Live transitions kept for the charts. */
export const MAX_RECENT_EVENTS = 500;

/** A chip's firing alerts at a glance: the worst severity, how many, and which (worst first). */
export interface ChipAlerts {
  severity: Severity;
  count: number;
  alerts: ActiveAlert[];
}

export const alertKey = (a: { ruleId: string; chipId: string }): string => `${a.ruleId}\u0000${a.chipId}`;

const PHASE_ORDER: Record<ActiveAlert['phase'], number> = { firing: 0, pending: 1, resolved: 2 };

/** Firing first, then pending, then resolved; within a phase the most severe, then the newest. */
export function compareAlerts(a: ActiveAlert, b: ActiveAlert): number {
  return (
    PHASE_ORDER[a.phase] - PHASE_ORDER[b.phase] ||
    severityRank(b.severity) - severityRank(a.severity) ||
    b.startsAt - a.startsAt ||
    (a.chipId < b.chipId ? -1 : a.chipId > b.chipId ? 1 : 0) ||
    (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0)
  );
}

/**
 * Applies transitions, in order, to `map` (key: `alertKey`). `to: inactive` removes the alert;
 * otherwise it takes the event's phase, labels, annotations and value, and its `firedAt` is the
 * event's time when it fires (kept while it stays firing or resolves). Returns whether anything changed.
 */
export function applyAlertEvents(map: Map<string, ActiveAlert>, events: readonly AlertEventAnswer[]): boolean {
  let changed = false;
  for (const e of events) {
    const key = alertKey(e);
    const old = map.get(key);
    if (e.to === 'inactive') {
      changed = map.delete(key) || changed;
      continue;
    }
    const firedAt = e.to === 'firing' ? (e.from === 'firing' ? (old?.firedAt ?? e.at) : e.at) : e.to === 'pending' ? null : (old?.firedAt ?? null);
    map.set(key, {
      ruleId: e.ruleId,
      chipId: e.chipId,
      phase: e.to,
      severity: e.severity,
      labels: e.labels,
      annotations: e.annotations,
      fingerprint: e.fingerprint,
      startsAt: e.startsAt,
      firedAt,
      value: e.value,
    });
    changed = true;
  }
  return changed;
}

/** chipId → its firing alerts (chips without one are absent). */
export function firingByChip(alerts: Iterable<ActiveAlert>): Map<string, ChipAlerts> {
  const out = new Map<string, ChipAlerts>();
  for (const a of alerts) {
    if (a.phase !== 'firing') continue;
    const c = out.get(a.chipId);
    if (!c) out.set(a.chipId, { severity: a.severity, count: 1, alerts: [a] });
    else {
      c.severity = worse(c.severity, a.severity);
      c.count++;
      c.alerts.push(a);
    }
  }
  for (const c of out.values()) c.alerts.sort(compareAlerts);
  return out;
}

/** Several chips' firing alerts together (a host row), or null when none fires. */
export function mergeChipAlerts(list: Iterable<ChipAlerts | undefined>): ChipAlerts | null {
  let out: ChipAlerts | null = null;
  for (const c of list) {
    if (!c) continue;
    if (!out) out = { severity: c.severity, count: c.count, alerts: [...c.alerts] };
    else {
      out.severity = worse(out.severity, c.severity);
      out.count += c.count;
      out.alerts.push(...c.alerts);
    }
  }
  out?.alerts.sort(compareAlerts);
  return out;
}

/** "HighPower (critical): GPU-… at 612 W", one line per alert, for a badge's tooltip. */
export function alertsTitle(alerts: readonly ActiveAlert[], max = 8): string {
  const lines = alerts.slice(0, max).map((a) => `${a.labels.alertname ?? a.ruleId} (${a.severity})${a.annotations.summary ? `: ${a.annotations.summary}` : ''}`);
  if (alerts.length > max) lines.push(`… and ${alerts.length - max} more`);
  return lines.join('\n');
}

export class AlertsController implements ReactiveController {
  /** Alerts that are not inactive, sorted by `compareAlerts`. Replaced on each change. */
  alerts: readonly ActiveAlert[] = [];
  /** Firing alerts by chip. Replaced on each change. */
  byChip: ReadonlyMap<string, ChipAlerts> = new Map();
  /** How many alerts fire, and the worst severity among them (null: none). */
  firing = 0;
  worst: Severity | null = null;
  /** Transitions received live, oldest first (at most `MAX_RECENT_EVENTS`). Replaced on each change. */
  recent: readonly AlertEventAnswer[] = [];
  /** Transitions received live so far (a change means new ones). */
  eventCount = 0;
  /** True once a snapshot has arrived. */
  loaded = false;
  /** Increments on every flush that changed something. */
  version = 0;

  private readonly map = new Map<string, ActiveAlert>();
  private readonly conn: LiveConnection;
  private unsubscribe: (() => void) | null = null;
  private pendingEvents: AlertEventAnswer[] = [];
  private readonly pace = new PacedFlush(() => this.flush(), () => this.map.size);
  private dirty = false;
  private filter: FleetFilter | undefined | null = undefined;
  private filterKey = '{}';
  private connected = false;

  constructor(
    private readonly host: ReactiveControllerHost,
    conn: LiveConnection = getLiveConnection(),
  ) {
    this.conn = conn;
    host.addController(this);
  }

  hostConnected(): void {
    this.connected = true;
    this.subscribe();
  }

  /** The filter subscribed with: undefined for every chip, null for none (no subscription). */
  get currentFilter(): FleetFilter | undefined | null {
    return this.filter;
  }

  /** Only the alerts of chips matching `filter` (undefined: all; null: no subscription); a change re-subscribes. */
  setFilter(filter: FleetFilter | undefined | null): void {
    const key = filter === null ? 'null' : JSON.stringify(filter ?? {});
    if (key === this.filterKey) return;
    this.filterKey = key;
    this.filter = filter;
    if (!this.connected) return;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.loaded = false;
    this.subscribe();
  }

  private subscribe(): void {
    if (this.filter === null) return;
    this.unsubscribe = this.conn.subscribe(this.filter ? { topic: 'alerts', filter: this.filter } : { topic: 'alerts' }, (msg) => this.ingest(msg));
  }

  hostDisconnected(): void {
    this.connected = false;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.pace.cancel();
  }

  /** Applies one server message (exposed for tests). */
  ingest(msg: LiveServerMessage): void {
    switch (msg.type) {
      case 'alerts-snapshot':
        this.map.clear();
        for (const a of msg.alerts) this.map.set(alertKey(a), a);
        this.loaded = true;
        break;
      case 'alert':
        applyAlertEvents(this.map, msg.events);
        this.pendingEvents.push(...msg.events);
        break;
      default:
        return;
    }
    this.dirty = true;
    this.pace.schedule();
  }

  private flush(): void {
    if (!this.dirty) return;
    this.dirty = false;
    this.alerts = [...this.map.values()].sort(compareAlerts);
    this.byChip = firingByChip(this.alerts);
    let firing = 0;
    let worst: Severity | null = null;
    for (const a of this.alerts) {
      if (a.phase !== 'firing') continue;
      firing++;
      worst = worst ? worse(worst, a.severity) : a.severity;
    }
    this.firing = firing;
    this.worst = worst;
    if (this.pendingEvents.length) {
      this.eventCount += this.pendingEvents.length;
      this.recent = [...this.recent, ...this.pendingEvents].slice(-MAX_RECENT_EVENTS);
      this.pendingEvents = [];
    }
    this.version++;
    this.host.requestUpdate();
  }
}
