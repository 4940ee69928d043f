/**
 * The one write of alerting's hot rows: state rows of the (rule, chip) alerts that changed and the
 * transitions of a pass, in one transaction, the texts the transitions share stored once
 * (alert-texts.ts) and the columns an alert's transitions share once per alert
 * (alert-history-rows.ts). The hub runs it on its SQLite writer thread
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
import { alertSeries, alertStates, alertTexts, alertTransitions } from '../../schema/tables.ts';
import type { AlertEvent } from './alert-events.ts';
import type { StateWrite } from './alert-store.ts';
import { AlertTextWriter, type AlertText } from './alert-texts.ts';
import { phasesCode, SeriesMemory, type SeriesColumns } from './alert-history-rows.ts';

export type AlertWrite = (states: readonly StateWrite[], events: readonly AlertEvent[], now: number) => void;

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
  const upsertSeries = db
    .insert(alertSeries)
    .values({ chipId: p('chipId'), ruleId: p('ruleId'), severity: p('severity'), labels: p('labels'), fingerprint: p('fingerprint'), lastAt: p('lastAt') })
    .onConflictDoUpdate({
      target: [alertSeries.chipId, alertSeries.ruleId, alertSeries.labels, alertSeries.severity, alertSeries.fingerprint],
      set: { lastAt: sql`max(${alertSeries.lastAt}, excluded.last_at)` },
    })
    .returning({ id: alertSeries.id })
    .prepare();
  const insertTransition = db
    .insert(alertTransitions)
    .values({ series: p('series'), phases: p('phases'), at: p('at'), value: p('value'), annotations: p('annotations') })
    .prepare();
  const upsertText = db
    .insert(alertTexts)
    .values({ hash: p('hash'), text: p('text'), lastAt: p('lastAt') })
    .onConflictDoUpdate({ target: alertTexts.hash, set: { lastAt: sql`excluded.last_at` }, setWhere: sql`${alertTexts.lastAt} < excluded.last_at` })
    .prepare();
  const texts = new AlertTextWriter();
  const series = new SeriesMemory();
  const seriesId = (row: SeriesColumns & { lastAt: number }) => upsertSeries.get({ ...row })!.id;
  // An alert's labels object is the same for all its events of a pass: its JSON once.
  const labelsJson = new WeakMap<object, string>();
  const labelsText = (labels: Readonly<Record<string, string>>): string => {
    let text = labelsJson.get(labels);
    if (text === undefined) labelsJson.set(labels, (text = JSON.stringify(labels)));
    return text;
  };
  const write = conn.transaction((ws: readonly StateWrite[], events: readonly AlertEvent[], now: number, written: AlertText[], seriesWritten: string[]) => {
    for (const w of ws) {
      if (w.state === null) deleteState.run({ ruleId: w.ruleId, chipId: w.chipId });
      else upsertState.run({ ruleId: w.ruleId, chipId: w.chipId, state: JSON.stringify(w.state), labels: labelsText(w.labels), updatedAt: now });
    }
    for (const e of events) {
      const columns = texts.compact(e, labelsText(e.labels));
      written.push(...columns.texts);
      for (const t of columns.texts) upsertText.run({ hash: t.hash, text: t.text, lastAt: t.lastAt });
      const id = series.idOf(e, columns.labels, seriesId, seriesWritten);
      insertTransition.run({ series: id, phases: phasesCode(e.from, e.to), at: e.at, value: e.value, annotations: columns.annotations });
    }
  });
  // The texts and series a rolled-back write did not store are written again by the next event naming them.
  const immediate: AlertWrite = (ws, events, now) => {
    const written: AlertText[] = [];
    const seriesWritten: string[] = [];
    try {
      write.immediate(ws, events, now, written, seriesWritten);
    } catch (err) {
      texts.forgetWritten(written);
      series.forget(seriesWritten);
      throw err;
    }
  };
  return { immediate };
}
