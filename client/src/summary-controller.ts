/**
 * SummaryController: a Lit ReactiveController holding the hub's newest fleet summary (the live
 * `summary` topic: chips live / stale / offline, live power, average utilization, idle but
 * powered, alerts firing and pending by severity), about once a second. What the header shows in
 * the views that do not hold the whole fleet (a chip, a host, the alerts): it costs a few hundred
 * bytes a second, where the whole fleet's live feed costs hundreds of kB at 10,000 chips.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { LiveServerMessage, SummaryMessage } from '../../schema/protocol.ts';
import type { Severity } from '../../schema/alert-rules.ts';
import { getLiveConnection, type LiveConnection } from './live-connection.ts';

/** The worst severity with an alert firing in `s`, or null when none fires. */
export function worstFiring(s: SummaryMessage): Severity | null {
  const f = s.alerts.firing;
  return f.critical ? 'critical' : f.warning ? 'warning' : f.info ? 'info' : null;
}

/** How many alerts fire in `s`. */
export function firingCount(s: SummaryMessage): number {
  const f = s.alerts.firing;
  return f.critical + f.warning + f.info;
}

export class SummaryController implements ReactiveController {
  /** The newest summary (null until the first arrives). */
  summary: SummaryMessage | null = null;

  private readonly conn: LiveConnection;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly host: ReactiveControllerHost,
    conn: LiveConnection = getLiveConnection(),
  ) {
    this.conn = conn;
    host.addController(this);
  }

  hostConnected(): void {
    this.unsubscribe = this.conn.subscribe({ topic: 'summary' }, (msg) => this.ingest(msg));
  }

  hostDisconnected(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  /** Applies one server message (exposed for tests). */
  ingest(msg: LiveServerMessage): void {
    if (msg.type !== 'summary') return;
    this.summary = msg;
    this.host.requestUpdate();
  }
}
