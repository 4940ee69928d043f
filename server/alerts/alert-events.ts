/**
 * A change of phase of one alert as the rest of the hub sees it: stored in the history, pushed to
 * live subscribers, and handed to the notifier (which sends transitions into `firing` and, when a
 * receiver wants them, from `firing` to `resolved`).
 */
import type { Severity } from '../../schema/alert-rules.ts';
import type { AlertPhase } from './alert-state.ts';

export interface AlertEvent {
  ruleId: string;
  chipId: string;
  from: AlertPhase;
  to: AlertPhase;
  /** When it happened (ms). */
  at: number;
  /** The value that caused it. */
  value: number | null;
  severity: Severity;
  /** Fixed when the alert went pending (alert-labels.ts); the fingerprint is computed from them. */
  labels: Readonly<Record<string, string>>;
  /** summary, description and the triggering values (templates.ts). */
  annotations: Readonly<Record<string, string>>;
  fingerprint: string;
  /** When the breach began (the alert's startsAt). */
  startsAt: number;
  /** When it resolved; null while it is not resolved. */
  endsAt: number | null;
}

/** Takes alert events as they happen (the notifier, the live fan-out). Must not throw or block. */
export interface AlertSink {
  publish(events: readonly AlertEvent[]): void;
}
