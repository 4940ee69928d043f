/**
 * Alerting's hot rows in PostgreSQL: the state rows of alerts that changed (upserted, or deleted
 * when back to inactive) and the transitions of a pass, in one transaction — the rows the SQLite
 * store's alert-writes.ts writes, in the same shape (startsAt/endsAt inside the annotations JSON).
 */
import type pg from 'pg';
import type { AlertEvent } from '../../alerts/alert-events.ts';
import type { StateWrite } from '../../alerts/alert-store.ts';
import { inTransaction } from './pg-connection.ts';

export async function writeAlerts(pool: pg.Pool, states: readonly StateWrite[], events: readonly AlertEvent[], now: number): Promise<void> {
  if (states.length === 0 && events.length === 0) return;
  await inTransaction(pool, async (client) => {
    for (const w of states) {
      if (w.state === null) await client.query('DELETE FROM alert_states WHERE rule_id = $1 AND chip_id = $2', [w.ruleId, w.chipId]);
      else {
        await client.query(
          'INSERT INTO alert_states (rule_id, chip_id, state, labels, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (rule_id, chip_id) DO UPDATE SET state = excluded.state, labels = excluded.labels, updated_at = excluded.updated_at',
          [w.ruleId, w.chipId, JSON.stringify(w.state), JSON.stringify(w.labels), now],
        );
      }
    }
    if (events.length === 0) return;
    const cols = {
      rule: events.map((e) => e.ruleId), chip: events.map((e) => e.chipId), from: events.map((e) => e.from), to: events.map((e) => e.to),
      at: events.map((e) => e.at), value: events.map((e) => e.value), severity: events.map((e) => e.severity), labels: events.map((e) => JSON.stringify(e.labels)),
      annotations: events.map((e) => JSON.stringify({ ...e.annotations, __startsAt: String(e.startsAt), ...(e.endsAt === null ? {} : { __endsAt: String(e.endsAt) }) })),
      fingerprint: events.map((e) => e.fingerprint),
    };
    await client.query(
      `INSERT INTO alert_events (rule_id, chip_id, from_phase, to_phase, at, value, severity, labels, annotations, fingerprint)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::float8[], $7::text[], $8::text[], $9::text[], $10::text[])`,
      Object.values(cols),
    );
  });
}
