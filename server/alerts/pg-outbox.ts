/**
 * The notification outbox on PostgreSQL (table alert_outbox), shared by every hub on the schema:
 * the same rows and rules as the SQLite outbox (outbox.ts). Exactly one hub sends each row: a
 * claim locks the row with `FOR UPDATE SKIP LOCKED` (a hub never waits on another's claim) and
 * takes it only if it is still due and unchanged (attempts + 1, next_at = the lease end,
 * claimed_by = this hub). Should the claiming hub die mid-request, the row is due again when the
 * lease ends and another hub sends it. `pendingCount` answers from the counts of the last `heads()`.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { OutboxApi } from './outbox-api.ts';
import { toRow, type NewNotification, type OutboxDbRow as Row, type OutboxRow, type OutboxStatus } from './outbox.ts';

const COLUMNS = 'id, receiver, idempotency_key, body, created_at, attempts, next_at, status, last_error';

export class PgOutbox implements OutboxApi {
  /** Who claims (kept in claimed_by, for diagnostics). */
  readonly hubId: string;
  private counts = new Map<string, number>();

  constructor(
    private readonly pool: pg.Pool,
    hubId?: string,
    private readonly now: () => number = Date.now,
  ) {
    this.hubId = hubId ?? `hub-${randomUUID().slice(0, 8)}`;
  }

  async enqueue(n: NewNotification, now = this.now()): Promise<number | null> {
    const res = await this.pool.query(
      `INSERT INTO alert_outbox (receiver, idempotency_key, body, created_at, attempts, next_at, status) VALUES ($1, $2, $3, $4, 0, $5, 'pending')
       ON CONFLICT (receiver, idempotency_key) DO NOTHING RETURNING id`,
      [n.receiver, n.idempotencyKey, n.body, now, n.nextAt],
    );
    if (res.rowCount !== 1) return null;
    this.counts.set(n.receiver, (this.counts.get(n.receiver) ?? 0) + 1);
    return (res.rows[0] as { id: number }).id;
  }

  async updateOpen(id: number, body: string): Promise<boolean> {
    return (await this.pool.query(`UPDATE alert_outbox SET body = $1 WHERE id = $2 AND status = 'pending' AND attempts = 0`, [body, id])).rowCount === 1;
  }

  async heads(): Promise<OutboxRow[]> {
    const [heads, counts] = await Promise.all([
      this.pool.query(`SELECT ${COLUMNS} FROM alert_outbox WHERE id IN (SELECT MIN(id) FROM alert_outbox WHERE status = 'pending' GROUP BY receiver) ORDER BY id`),
      this.pool.query(`SELECT receiver, COUNT(*)::int AS n FROM alert_outbox WHERE status = 'pending' GROUP BY receiver`),
    ]);
    this.counts = new Map((counts.rows as { receiver: string; n: number }[]).map((r) => [r.receiver, r.n]));
    return (heads.rows as Row[]).map(toRow);
  }

  async claim(row: Pick<OutboxRow, 'id' | 'attempts'>, leaseUntil: number): Promise<boolean> {
    const res = await this.pool.query(
      `UPDATE alert_outbox SET attempts = attempts + 1, next_at = $1, claimed_by = $2
        WHERE id = (SELECT id FROM alert_outbox WHERE id = $3 AND status = 'pending' AND attempts = $4 AND next_at <= $5 FOR UPDATE SKIP LOCKED)`,
      [leaseUntil, this.hubId, row.id, row.attempts, this.now()],
    );
    return res.rowCount === 1;
  }

  async markDone(id: number, now = this.now()): Promise<void> {
    await this.pool.query(`UPDATE alert_outbox SET status = 'done', next_at = $1, last_error = NULL WHERE id = $2 AND status = 'pending'`, [now, id]);
  }

  async markRetry(id: number, at: number, error: string | null): Promise<void> {
    await this.pool.query(`UPDATE alert_outbox SET next_at = $1, last_error = $2 WHERE id = $3 AND status = 'pending'`, [at, error, id]);
  }

  async markDead(id: number, error: string, now = this.now()): Promise<void> {
    await this.pool.query(`UPDATE alert_outbox SET status = 'dead', next_at = $1, last_error = $2 WHERE id = $3 AND status = 'pending'`, [now, error, id]);
  }

  async get(id: number): Promise<OutboxRow | null> {
    const r = (await this.pool.query(`SELECT ${COLUMNS} FROM alert_outbox WHERE id = $1`, [id])).rows[0] as Row | undefined;
    return r ? toRow(r) : null;
  }

  async deadLetters(limit = 100): Promise<OutboxRow[]> {
    return ((await this.pool.query(`SELECT ${COLUMNS} FROM alert_outbox WHERE status = 'dead' ORDER BY id DESC LIMIT $1`, [limit])).rows as Row[]).map(toRow);
  }

  async retryDead(id: number, now = this.now()): Promise<OutboxRow | null> {
    const res = await this.pool.query(`UPDATE alert_outbox SET status = 'pending', attempts = 0, next_at = $1 WHERE id = $2 AND status = 'dead' RETURNING ${COLUMNS}`, [now, id]);
    return res.rowCount === 1 ? toRow(res.rows[0] as Row) : null;
  }

  pendingCount(receiver: string): number {
    return this.counts.get(receiver) ?? 0;
  }

  async prune(doneBefore: number, deadBefore: number): Promise<number> {
    return (await this.pool.query(`DELETE FROM alert_outbox WHERE (status = 'done' AND next_at < $1) OR (status = 'dead' AND next_at < $2)`, [doneBefore, deadBefore])).rowCount ?? 0;
  }

  /** Every row, oldest first (tests, diagnostics). */
  async all(): Promise<(OutboxRow & { claimedBy: string | null })[]> {
    return ((await this.pool.query(`SELECT ${COLUMNS}, claimed_by FROM alert_outbox ORDER BY id`)).rows as (Row & { claimed_by: string | null })[]).map((r) => ({ ...toRow(r), claimedBy: r.claimed_by }));
  }

  close(): void {
    // The pool belongs to the hub's database (hub-database.ts).
  }
}
