/**
 * The one write of alerting's hot rows: state rows of the (rule, chip) alerts that changed and the
 * transitions of a pass, in one transaction. The hub runs it on its SQLite writer thread
 * (writer-thread.ts), in turn with sample commits and folds, so the event loop never waits on the
 * write lock; an alert store opened without a writer runs it on its own connection.
 *
 * The statements are Drizzle queries on the tables of schema/tables.ts, prepared once per
 * connection (placeholders filled per row), run inside a better-sqlite3 transaction on that same
 * connection.
 */
import type Database from 'better-sqlite3';
import { and, eq, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { alertEvents, alertStates } from '../../schema/tables.ts';
import type { AlertEvent } from './alert-events.ts';
import type { StateWrite } from './alert-store.ts';

export type AlertWrite = (states: readonly StateWrite[], events: readonly AlertEvent[], now: number) => void;

/** The annotations row of an event: startsAt and endsAt go in under reserved keys (alert-store.ts eventOf). */
export const annotationsText = (e: AlertEvent): string =>
  JSON.stringify({ ...e.annotations, __startsAt: String(e.startsAt), ...(e.endsAt === null ? {} : { __endsAt: String(e.endsAt) }) });

/** An alert event as a row of alert_events (both dialects' tables have these columns), its labels as JSON text. */
export function eventRow(e: AlertEvent, labels: string) {
  return { ruleId: e.ruleId, chipId: e.chipId, fromPhase: e.from, toPhase: e.to, at: e.at, value: e.value, severity: e.severity, labels, annotations: annotationsText(e), fingerprint: e.fingerprint };
}

/** The write as a transaction on `conn` (call it as `.immediate(...)` to take the write lock up front). */
export function alertWriteTransaction(conn: Database.Database): Database.Transaction<AlertWrite> {
  const db = drizzle(conn);
  const p = sql.placeholder;
  const upsertState = db
    .insert(alertStates)
    .values({ ruleId: p('ruleId'), chipId: p('chipId'), state: p('state'), labels: p('labels'), updatedAt: p('updatedAt') })
    .onConflictDoUpdate({
      target: [alertStates.ruleId, alertStates.chipId],
      set: { state: sql`excluded.state`, labels: sql`excluded.labels`, updatedAt: sql`excluded.updated_at` },
    })
    .prepare();
  const deleteState = db
    .delete(alertStates)
    .where(and(eq(alertStates.ruleId, p('ruleId')), eq(alertStates.chipId, p('chipId'))))
    .prepare();
  const insertEvent = db
    .insert(alertEvents)
    .values({
      ruleId: p('ruleId'),
      chipId: p('chipId'),
      fromPhase: p('fromPhase'),
      toPhase: p('toPhase'),
      at: p('at'),
      value: p('value'),
      severity: p('severity'),
      labels: p('labels'),
      annotations: p('annotations'),
      fingerprint: p('fingerprint'),
    })
    .prepare();
  // An alert's labels object is the same for all its events of a pass: its JSON once.
  const labelsJson = new WeakMap<object, string>();
  const labelsText = (labels: Readonly<Record<string, string>>): string => {
    let text = labelsJson.get(labels);
    if (text === undefined) labelsJson.set(labels, (text = JSON.stringify(labels)));
    return text;
  };
  return conn.transaction((ws: readonly StateWrite[], events: readonly AlertEvent[], now: number) => {
    for (const w of ws) {
      if (w.state === null) deleteState.run({ ruleId: w.ruleId, chipId: w.chipId });
      else upsertState.run({ ruleId: w.ruleId, chipId: w.chipId, state: JSON.stringify(w.state), labels: labelsText(w.labels), updatedAt: now });
    }
    for (const e of events) insertEvent.run(eventRow(e, labelsText(e.labels)));
  });
}
