/**
 * Which silences cover an alert, as the hub's notifier decides it (schema/alert-matchers.ts):
 * every matcher of an active silence must match the alert's labels. The dashboard only marks
 * alerts with it; the hub is what holds their notifications back.
 */
import { matchesAll } from '../../schema/alert-matchers.ts';
import type { SilenceAnswer } from '../../schema/api-answers.ts';

/** The active silences of `silences` whose matchers all match `labels`. */
export function silencesCovering(labels: Readonly<Record<string, string>>, silences: readonly SilenceAnswer[]): SilenceAnswer[] {
  return silences.filter((s) => {
    if (s.state !== 'active' || s.matchers.length === 0) return false;
    try {
      return matchesAll(s.matchers, labels);
    } catch {
      return false; // a regex this browser cannot compile: not shown as silenced
    }
  });
}
