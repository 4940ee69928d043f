/**
 * Agent connection events on PostgreSQL (the `agent_events` table of schema/pg/tables.ts; rows in
 * server/agent-events/agent-event-rows.ts): one INSERT per call (unnest), reads per agent, retention.
 */
import type pg from 'pg';
import { AGENT_EVENTS_READ_LIMIT, type AgentEventRow, type AgentEventWrite } from '../../agent-events/agent-event-rows.ts';

export async function writeAgentEvents(pool: pg.Pool, events: readonly AgentEventWrite[]): Promise<void> {
  if (events.length === 0) return;
  // WITH ORDINALITY: identities are given in the order recorded (ties of ts read back in that order).
  await pool.query(
    'INSERT INTO agent_events (agent_id, ts, kind, hub, detail) SELECT a, t, k, h, d FROM unnest($1::text[], $2::int8[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS e(a, t, k, h, d, n) ORDER BY n',
    [events.map((e) => e.agentId), events.map((e) => e.ts), events.map((e) => e.kind), events.map((e) => e.hub ?? null), events.map((e) => e.detail ?? null)],
  );
}

export async function readAgentEvents(pool: pg.Pool, agentId: string, from: number, to: number, limit = AGENT_EVENTS_READ_LIMIT): Promise<AgentEventRow[]> {
  const r = await pool.query<AgentEventRow>('SELECT ts, kind, hub, detail FROM agent_events WHERE agent_id = $1 AND ts >= $2::int8 AND ts <= $3::int8 ORDER BY ts, id LIMIT $4', [agentId, from, to, limit]);
  return r.rows.map((x) => ({ ts: Number(x.ts), kind: x.kind, hub: x.hub, detail: x.detail }));
}

/** Events older than `before` (the 1-hour tier's cutoff) go. */
export async function agentEventsRetention(pool: pg.Pool, before: number): Promise<number> {
  return (await pool.query('DELETE FROM agent_events WHERE ts < $1', [before])).rowCount ?? 0;
}
