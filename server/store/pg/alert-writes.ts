/**
 * Alerting's hot rows in PostgreSQL: the state rows of alerts that changed (upserted, or deleted
 * when back to inactive) and the transitions of a pass, in one transaction of at most three
 * statements (unnest arrays: a pass of 10,000 changed alerts is not 10,000 round trips) — the rows the SQLite
 * store's alert-writes.ts writes, in the same shape (startsAt/endsAt inside the annotations JSON).
 */
import type pg from 'pg';
import type { AlertEvent } from '../../alerts/alert-events.ts';
import type { StateWrite } from '../../alerts/alert-store.ts';
import { inTransaction } from './pg-connection.ts';

export async function writeAlerts(pool: pg.Pool, states: readonly StateWrite[], events: readonly AlertEvent[], now: number): Promise<void> {
  if (states.length === 0 && events.length === 0) return;
  // The last write of each (rule, chip) wins; deletions and upserts each in one statement.
  const last = new Map<string, StateWrite>();
  for (const w of states) {
    const key = `${w.ruleId}\u0000${w.chipId}`;
    last.delete(key);
    last.set(key, w);
  }
  const gone = [...last.values()].filter((w) => w.state === null);
  const kept = [...last.values()].filter((w) => w.state !== null);
  await inTransaction(pool, async (client) => {
    if (gone.length > 0)
      await client.query('DELETE FROM alert_states s USING unnest($1::text[], $2::text[]) AS d(rule_id, chip_id) WHERE s.rule_id = d.rule_id AND s.chip_id = d.chip_id', [gone.map((w) => w.ruleId), gone.map((w) => w.chipId)]);
    if (kept.length > 0)
      await client.query(
        `INSERT INTO alert_states (rule_id, chip_id, state, labels, updated_at) SELECT r, c, s, l, $5::bigint FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(r, c, s, l)
           ON CONFLICT (rule_id, chip_id) DO UPDATE SET state = excluded.state, labels = excluded.labels, updated_at = excluded.updated_at`,
        [kept.map((w) => w.ruleId), kept.map((w) => w.chipId), kept.map((w) => JSON.stringify(w.state)), kept.map((w) => JSON.stringify(w.labels)), now],
      );
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
