/**
 * Alerting's hot rows in PostgreSQL: the state rows of alerts that changed (upserted, or deleted
 * when back to inactive) and the transitions of a pass, in one transaction — the rows the SQLite
 * store's alert-writes.ts writes, in the same shape (startsAt/endsAt inside the annotations JSON,
 * shared texts once in alert_texts: alert-texts.ts).
 *
 * Drizzle queries (node-postgres driver) on the tables of schema/pg/tables.ts, each a multi-row
 * statement (`.values(rows)`, deletions `rule_id = r AND chip_id IN (…)` per rule): a pass of
 * 10,000 changed alerts is a few dozen statements, not 10,000 round trips. A larger pass is cut
 * into statements of at most MAX_ROWS rows, in order, in the same transaction.
 */
import type pg from 'pg';
import { and, eq, inArray, or, sql, type SQL } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { alertEvents, alertStates, alertTexts } from '../../../schema/pg/tables.ts';
import type { AlertEvent } from '../../alerts/alert-events.ts';
import type { StateWrite } from '../../alerts/alert-store.ts';
import { distinctTexts, type AlertText, type AlertTextWriter, type CompactEvent } from '../../alerts/alert-texts.ts';
import { inTransaction } from './pg-connection.ts';

/** Most bind parameters in one statement (PostgreSQL takes 65,535). */
const MAX_PARAMS = 60_000;
/**
 * Most rows in one INSERT: Drizzle builds a statement row by row on the event loop (~25-40 µs a
 * row of alert_events here), so a large pass goes out as several statements with the loop free
 * between them.
 */
const MAX_ROWS = 1000;

function* chunks<T>(xs: readonly T[], size: number): Generator<readonly T[]> {
  for (let i = 0; i < xs.length; i += size) yield xs.slice(i, i + size);
}

/** An alert event as a row of alert_events, its labels and annotations as `compact` gave them. */
function eventRow(e: AlertEvent, columns: CompactEvent) {
  return { ruleId: e.ruleId, chipId: e.chipId, fromPhase: e.from, toPhase: e.to, at: e.at, value: e.value, severity: e.severity, labels: columns.labels, annotations: columns.annotations, fingerprint: e.fingerprint };
}

/** `texts`: the writer's memory of shared texts (one per store; alert-texts.ts). */
export async function writeAlerts(pool: pg.Pool, texts: AlertTextWriter, states: readonly StateWrite[], events: readonly AlertEvent[], now: number): Promise<void> {
  if (states.length === 0 && events.length === 0) return;
  const written: AlertText[] = [];
  const rows = events.map((e) => {
    const columns = texts.compact(e, JSON.stringify(e.labels));
    written.push(...columns.texts);
    return eventRow(e, columns);
  });
  try {
    await writeRows(pool, states, rows, distinctTexts(written), now);
  } catch (err) {
    // Texts the failed transaction did not store are written again by the next event naming them.
    texts.forgetWritten(written);
    throw err;
  }
}

async function writeRows(pool: pg.Pool, states: readonly StateWrite[], rows: readonly ReturnType<typeof eventRow>[], texts: readonly AlertText[], now: number): Promise<void> {
  // The last write of each (rule, chip) wins (one statement may not upsert a row twice).
  const last = new Map<string, StateWrite>();
  for (const w of states) {
    const key = `${w.ruleId}\u0000${w.chipId}`;
    last.delete(key);
    last.set(key, w);
  }
  const gone = [...last.values()].filter((w) => w.state === null);
  const kept = [...last.values()].filter((w) => w.state !== null);
  // The chips of each rule whose state rows go: `rule_id = r AND chip_id IN (…)` per rule.
  const goneByRule = new Map<string, string[]>();
  for (const w of gone) {
    const chips = goneByRule.get(w.ruleId);
    if (chips) chips.push(w.chipId);
    else goneByRule.set(w.ruleId, [w.chipId]);
  }
  await inTransaction(pool, async (client) => {
    const db = drizzle(client);
    // Deletions: `(rule_id = r AND chip_id IN (…)) OR …` over the rules, one statement unless
    // the parameters run over.
    let conds: SQL[] = [];
    let params = 0;
    const deleteGone = async () => {
      if (conds.length > 0) await db.delete(alertStates).where(or(...conds));
      conds = [];
      params = 0;
    };
    for (const [ruleId, chipIds] of goneByRule)
      for (const part of chunks(chipIds, MAX_PARAMS - 1)) {
        if (params + part.length + 1 > MAX_PARAMS) await deleteGone();
        conds.push(and(eq(alertStates.ruleId, ruleId), inArray(alertStates.chipId, part as string[]))!);
        params += part.length + 1;
      }
    await deleteGone();
    for (const part of chunks(kept, MAX_ROWS))
      await db
        .insert(alertStates)
        .values(part.map((w) => ({ ruleId: w.ruleId, chipId: w.chipId, state: JSON.stringify(w.state), labels: JSON.stringify(w.labels), updatedAt: now })))
        .onConflictDoUpdate({
          target: [alertStates.ruleId, alertStates.chipId],
          set: { state: sql`excluded.state`, labels: sql`excluded.labels`, updatedAt: sql`excluded.updated_at` },
        });
    for (const part of chunks(texts, MAX_ROWS))
      await db
        .insert(alertTexts)
        .values([...part])
        .onConflictDoUpdate({ target: alertTexts.hash, set: { lastAt: sql`excluded.last_at` }, setWhere: sql`${alertTexts.lastAt} < excluded.last_at` });
    for (const part of chunks(rows, MAX_ROWS)) await db.insert(alertEvents).values([...part]);
  });
}
