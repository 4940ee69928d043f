/**
 * Alerting's rows on PostgreSQL (tables alert_rules, alert_states, alert_events), the same
 * AlertStore as the SQLite one (alert-store.ts). Rules and states are read once at open (the
 * engine reads them at start) and kept in memory; rule changes are written behind, in order.
 * State writes and transitions go through the PostgreSQL store's `writeAlerts` (`writeVia`), so a
 * hub started later on the same schema continues each alert from its stored state instead of
 * firing it again, and a running hub taking over an agent reads that agent's chips' states first
 * (`loadChipStates`). History is read from the server.
 */
import type pg from 'pg';
import { silentLogger, type Logger } from '../../common/logger.ts';
import { writeAlerts } from '../store/pg/alert-writes.ts';
import { WriteQueue } from '../store/pg/write-queue.ts';
import type { AlertEvent } from './alert-events.ts';
import { AlertTextWriter, TEXT_REFRESH_MS } from './alert-texts.ts';
import { eventsOf, parse, record, type AlertStore, type EventRow, type StateWrite, type StoredRule, type StoredRuleSource, type StoredStateRow } from './alert-store.ts';

type WriteVia = (states: readonly StateWrite[], events: readonly AlertEvent[], now: number) => Promise<void>;

/** Reads rules and states; the store it gives writes states through `writeVia` (else on `pool`). */
export async function openPgAlertStore(pool: pg.Pool, writeVia?: WriteVia, log: Logger = silentLogger): Promise<AlertStore> {
  const rules = new Map<string, StoredRule>();
  for (const r of (await pool.query('SELECT id, source, body, updated_at FROM alert_rules ORDER BY id')).rows as { id: string; source: StoredRuleSource; body: string; updated_at: number }[])
    rules.set(r.id, { id: r.id, source: r.source, body: parse(r.body), updatedAt: r.updated_at });
  type StateRow = { rule_id: string; chip_id: string; state: string; labels: string; updated_at: number };
  const stateOf = (r: StateRow): StoredStateRow => ({ ruleId: r.rule_id, chipId: r.chip_id, state: parse(r.state), labels: record(r.labels), updatedAt: r.updated_at });
  const states: StoredStateRow[] = ((await pool.query('SELECT rule_id, chip_id, state, labels, updated_at FROM alert_states')).rows as StateRow[]).map(stateOf);
  const texts = new AlertTextWriter();
  const writes = new WriteQueue((err) => log.error('writing an alert rule to PostgreSQL failed', { error: String(err) }));

  return {
    loadRules: () => [...rules.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    saveRule(id, source, body, now = Date.now()) {
      rules.set(id, { id, source, body, updatedAt: now });
      const text = JSON.stringify(body);
      writes.push(() =>
        pool.query(
          'INSERT INTO alert_rules (id, source, body, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET source = excluded.source, body = excluded.body, updated_at = excluded.updated_at',
          [id, source, text, now],
        ),
      );
    },
    deleteRule(id) {
      if (!rules.delete(id)) return false;
      writes.push(() => pool.query('DELETE FROM alert_rules WHERE id = $1', [id]));
      return true;
    },
    loadStates: () => states,
    // Another hub's agent moving here: its chips' alerts as that hub last wrote them.
    loadChipStates: async (chipIds) =>
      ((await pool.query('SELECT rule_id, chip_id, state, labels, updated_at FROM alert_states WHERE chip_id = ANY($1::text[])', [chipIds])).rows as StateRow[]).map(stateOf),
    async write(ws, events, now = Date.now()) {
      if (ws.length === 0 && events.length === 0) return;
      await (writeVia ?? ((s, e, n) => writeAlerts(pool, texts, s, e, n)))(ws, events, now);
    },
    async history(q) {
      const where = ['at >= $1', 'at <= $2'];
      const args: (string | number)[] = [q.from, q.to];
      if (q.chipId !== undefined) where.push(`chip_id = $${args.push(q.chipId)}`);
      if (q.ruleId !== undefined) where.push(`rule_id = $${args.push(q.ruleId)}`);
      const res = await pool.query(`SELECT * FROM alert_events WHERE ${where.join(' AND ')} ORDER BY at DESC, id DESC LIMIT $${args.push(q.limit)}`, args);
      return eventsOf(res.rows as EventRow[], async (hashes) => new Map(((await pool.query('SELECT hash, text FROM alert_texts WHERE hash = ANY($1::text[])', [hashes])).rows as { hash: string; text: string }[]).map((r) => [r.hash, r.text])));
    },
    pruneEvents(before) {
      pool
        .query('DELETE FROM alert_events WHERE at < $1', [before])
        .then(async (res) => {
          if (res.rowCount) log.info('alert history pruned', { events: res.rowCount });
          await pool.query('DELETE FROM alert_texts WHERE last_at < $1', [before - TEXT_REFRESH_MS]);
        })
        .catch((err: unknown) => log.error('alert history prune failed', { error: String(err) }));
      return 0;
    },
    close: () => writes.settled(),
  };
}
