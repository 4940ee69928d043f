/**
 * The SQLite history's rows (schema/tables.ts alert_series, alert_transitions; migration 0011).
 * Every transition of an alert carries the same rule, chip, severity, labels and fingerprint, ~100
 * bytes that a row of its own and the chip index repeated for each transition. They are stored
 * once per alert in alert_series, and a transition row holds the series' key, its phases as one
 * small integer, its time, value and annotations. The view alert_events gives the rows back with
 * the columns of before.
 *
 * A writer remembers the keys of the series it wrote, with the `last_at` it wrote, and upserts a
 * series again only once that is TEXT_REFRESH_MS old (as alert-texts.ts does for texts), so the
 * history's prune, which drops series no transition names and whose `last_at` is older than its
 * cutoff minus TEXT_REFRESH_MS, never drops a key a writer still holds.
 */
import type { AlertEvent } from './alert-events.ts';
import type { AlertPhase } from './alert-state.ts';
import { WrittenKeys } from './alert-texts.ts';

/** The phases in the order of their codes (migration 0011's view reads them in this order). */
export const PHASES: readonly AlertPhase[] = ['inactive', 'pending', 'firing', 'resolved'];
const CODE = new Map(PHASES.map((p, i) => [p, i]));

/** A transition's `phases` column: 4 × the code of the phase left + that of the phase entered. */
export function phasesCode(from: AlertPhase, to: AlertPhase): number {
  const f = CODE.get(from);
  const t = CODE.get(to);
  if (f === undefined || t === undefined) throw new Error(`not an alert phase: ${f === undefined ? from : to}`);
  return 4 * f + t;
}

/** The columns of an alert_series row, `labels` as alert-texts.ts compacted them. */
export interface SeriesColumns {
  chipId: string;
  ruleId: string;
  severity: string;
  labels: string;
  fingerprint: string;
}

/** One writer's memory of the series it wrote: their ids, by their columns (alert-texts.ts WrittenKeys). */
export class SeriesMemory {
  private readonly known = new WrittenKeys<number>();

  /**
   * The series id of `e` (its `labels` column given): remembered, or from `upsert` (which writes
   * the row with `last_at` = e.at and returns its id) when unknown or TEXT_REFRESH_MS old.
   * `written` collects what a rollback must forget.
   */
  idOf(e: AlertEvent, labels: string, upsert: (row: SeriesColumns & { lastAt: number }) => number, written: string[]): number {
    const name = `${e.chipId}\u0000${e.ruleId}\u0000${labels}\u0000${e.severity}\u0000${e.fingerprint}`;
    const had = this.known.fresh(name, e.at);
    if (had !== undefined) return had;
    const id = upsert({ chipId: e.chipId, ruleId: e.ruleId, severity: e.severity, labels, fingerprint: e.fingerprint, lastAt: e.at });
    this.known.wrote(name, id, e.at);
    written.push(name);
    return id;
  }

  /** Forget what a rolled-back transaction wrote. */
  forget(written: readonly string[]): void {
    for (const name of written) this.known.forget(name);
  }
}
