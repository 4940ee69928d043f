/**
 * The one write of alerting's hot rows: state rows of the (rule, chip) alerts that changed and the
 * transitions of a pass, in one transaction, the texts the transitions share stored once
 * (alert-texts.ts). The hub runs it on its SQLite writer thread
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
import { alertEvents, alertStates, alertTexts } from '../../schema/tables.ts';
import type { AlertEvent } from './alert-events.ts';
import type { StateWrite } from './alert-store.ts';
import { AlertTextWriter, type AlertText, type CompactEvent } from './alert-texts.ts';

export type AlertWrite = (states: readonly StateWrite[], events: readonly AlertEvent[], now: number) => void;

/** An alert event as a row of alert_events (both dialects' tables have these columns), its labels and annotations as `compact` gave them. */
export function eventRow(e: AlertEvent, columns: CompactEvent) {
  return { ruleId: e.ruleId, chipId: e.chipId, fromPhase: e.from, toPhase: e.to, at: e.at, value: e.value, severity: e.severity, labels: columns.labels, annotations: columns.annotations, fingerprint: e.fingerprint };
}

/** The write as a transaction on `conn` that takes the write lock up front. */
export function alertWriteTransaction(conn: Database.Database): { immediate: AlertWrite } {
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
  const upsertText = db
    .insert(alertTexts)
    .values({ hash: p('hash'), text: p('text'), lastAt: p('lastAt') })
    .onConflictDoUpdate({ target: alertTexts.hash, set: { lastAt: sql`excluded.last_at` }, setWhere: sql`${alertTexts.lastAt} < excluded.last_at` })
    .prepare();
  const texts = new AlertTextWriter();
  // An alert's labels object is the same for all its events of a pass: its JSON once.
  const labelsJson = new WeakMap<object, string>();
  const labelsText = (labels: Readonly<Record<string, string>>): string => {
    let text = labelsJson.get(labels);
    if (text === undefined) labelsJson.set(labels, (text = JSON.stringify(labels)));
    return text;
  };
  const write = conn.transaction((ws: readonly StateWrite[], events: readonly AlertEvent[], now: number, written: AlertText[]) => {
    for (const w of ws) {
      if (w.state === null) deleteState.run({ ruleId: w.ruleId, chipId: w.chipId });
      else upsertState.run({ ruleId: w.ruleId, chipId: w.chipId, state: JSON.stringify(w.state), labels: labelsText(w.labels), updatedAt: now });
    }
    for (const e of events) {
      const columns = texts.compact(e, labelsText(e.labels));
      written.push(...columns.texts);
      for (const t of columns.texts) upsertText.run({ hash: t.hash, text: t.text, lastAt: t.lastAt });
      insertEvent.run(eventRow(e, columns));
    }
  });
  // The texts a rolled-back write did not store are written again by the next event naming them.
  const immediate: AlertWrite = (ws, events, now) => {
    const written: AlertText[] = [];
    try {
      write.immediate(ws, events, now, written);
    } catch (err) {
      texts.forgetWritten(written);
      throw err;
    }
  };
  return { immediate };
}
