/**
 * The one write of alerting's hot rows: state rows of the (rule, chip) alerts that changed and the
 * transitions of a pass, in one transaction. The hub runs it on its SQLite writer thread
 * (writer-thread.ts), in turn with sample commits and folds, so the event loop never waits on the
 * write lock; an alert store opened without a writer runs it on its own connection.
 */
import type Database from 'better-sqlite3';
import type { AlertEvent } from './alert-events.ts';
import type { StateWrite } from './alert-store.ts';

export type AlertWrite = (states: readonly StateWrite[], events: readonly AlertEvent[], now: number) => void;

/** The write as a transaction on `conn` (call it as `.immediate(...)` to take the write lock up front). */
export function alertWriteTransaction(conn: Database.Database): Database.Transaction<AlertWrite> {
  const upsertState = conn.prepare(
    'INSERT INTO alert_states (rule_id, chip_id, state, labels, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(rule_id, chip_id) DO UPDATE SET state = excluded.state, labels = excluded.labels, updated_at = excluded.updated_at',
  );
  const deleteState = conn.prepare('DELETE FROM alert_states WHERE rule_id = ? AND chip_id = ?');
  const insertEvent = conn.prepare(
    'INSERT INTO alert_events (rule_id, chip_id, from_phase, to_phase, at, value, severity, labels, annotations, fingerprint) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  // An alert's labels object is the same for all its events of a pass: its JSON once.
  const labelsJson = new WeakMap<object, string>();
  const labelsText = (labels: Readonly<Record<string, string>>): string => {
    let text = labelsJson.get(labels);
    if (text === undefined) labelsJson.set(labels, (text = JSON.stringify(labels)));
    return text;
  };
  return conn.transaction((ws: readonly StateWrite[], events: readonly AlertEvent[], now: number) => {
    for (const w of ws) {
      if (w.state === null) deleteState.run(w.ruleId, w.chipId);
      else upsertState.run(w.ruleId, w.chipId, JSON.stringify(w.state), labelsText(w.labels), now);
    }
    for (const e of events) {
      // startsAt and endsAt live in the annotations row under reserved keys (alert-store.ts eventOf).
      const annotations = { ...e.annotations, __startsAt: String(e.startsAt), ...(e.endsAt === null ? {} : { __endsAt: String(e.endsAt) }) };
      insertEvent.run(e.ruleId, e.chipId, e.from, e.to, e.at, e.value, e.severity, labelsText(e.labels), JSON.stringify(annotations), e.fingerprint);
    }
  });
}
