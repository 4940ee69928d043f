/**
 * The notification outbox (table alert_outbox) on a connection of its own to the hub's database
 * file: every notification is written here before it is sent, so a restarted hub resumes what was
 * pending. A row is `pending` (waiting for its grouping window to close, for its turn, or for a
 * retry), `done`, or `dead` (a dead letter: every attempt failed, or an answer no retry can change).
 *
 * - `attempts` counts attempts begun: the delivery worker claims a row (attempts + 1, next_at
 *   pushed past the request's timeout) before it sends, so a hub killed mid-request sends again
 *   once restarted, and a row being sent is no longer open to the grouping window (`updateOpen`
 *   only touches rows never attempted).
 * - Each receiver's rows go out in id order: `heads()` is the oldest pending row of each receiver.
 * - (receiver, idempotency_key) is unique: enqueueing the same notification twice keeps one.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { MIGRATIONS_DIR } from '../store/sqlite-store.ts';
import { setUpConnection } from '../store/sqlite-connection.ts';

export type OutboxStatus = 'pending' | 'done' | 'dead';

export interface OutboxRow {
  id: number;
  receiver: string;
  idempotencyKey: string;
  /** The request body as sent (JSON). */
  body: string;
  createdAt: number;
  attempts: number;
  nextAt: number;
  status: OutboxStatus;
  lastError: string | null;
}

export interface NewNotification {
  receiver: string;
  idempotencyKey: string;
  body: string;
  /** When it may be sent first (the end of its grouping window). */
  nextAt: number;
}

/** An outbox row as stored (SQLite and PostgreSQL alike). */
export interface OutboxDbRow {
  id: number;
  receiver: string;
  idempotency_key: string;
  body: string;
  created_at: number;
  attempts: number;
  next_at: number;
  status: OutboxStatus;
  last_error: string | null;
}

export const toRow = (r: OutboxDbRow): OutboxRow => ({
  id: r.id,
  receiver: r.receiver,
  idempotencyKey: r.idempotency_key,
  body: r.body,
  createdAt: r.created_at,
  attempts: r.attempts,
  nextAt: r.next_at,
  status: r.status,
  lastError: r.last_error,
});

/** Opens a connection to the database file (created and migrated when new). */
export function openNotifyConnection(path: string): Database.Database {
  mkdirSync(dirname(path), { recursive: true });
  const conn = new Database(path);
  conn.pragma('auto_vacuum = INCREMENTAL');
  setUpConnection(conn);
  migrate(drizzle(conn), { migrationsFolder: MIGRATIONS_DIR });
  return conn;
}

export class Outbox {
  private readonly q;

  constructor(private readonly conn: Database.Database) {
    this.q = {
      insert: conn.prepare(
        `INSERT INTO alert_outbox (receiver, idempotency_key, body, created_at, attempts, next_at, status) VALUES (?, ?, ?, ?, 0, ?, 'pending')
         ON CONFLICT (receiver, idempotency_key) DO NOTHING`,
      ),
      updateOpen: conn.prepare(`UPDATE alert_outbox SET body = ? WHERE id = ? AND status = 'pending' AND attempts = 0`),
      heads: conn.prepare(`SELECT * FROM alert_outbox WHERE id IN (SELECT MIN(id) FROM alert_outbox WHERE status = 'pending' GROUP BY receiver) ORDER BY id`),
      claim: conn.prepare(`UPDATE alert_outbox SET attempts = attempts + 1, next_at = ? WHERE id = ? AND status = 'pending' AND attempts = ?`),
      done: conn.prepare(`UPDATE alert_outbox SET status = 'done', next_at = ?, last_error = NULL WHERE id = ? AND status = 'pending'`),
      retry: conn.prepare(`UPDATE alert_outbox SET next_at = ?, last_error = ? WHERE id = ? AND status = 'pending'`),
      dead: conn.prepare(`UPDATE alert_outbox SET status = 'dead', next_at = ?, last_error = ? WHERE id = ? AND status = 'pending'`),
      get: conn.prepare(`SELECT * FROM alert_outbox WHERE id = ?`),
      byStatus: conn.prepare(`SELECT * FROM alert_outbox WHERE status = ? ORDER BY id DESC LIMIT ?`),
      revive: conn.prepare(`UPDATE alert_outbox SET status = 'pending', attempts = 0, next_at = ? WHERE id = ? AND status = 'dead'`),
      pendingOf: conn.prepare(`SELECT COUNT(*) AS n FROM alert_outbox WHERE status = 'pending' AND receiver = ?`),
      prune: conn.prepare(`DELETE FROM alert_outbox WHERE (status = 'done' AND next_at < ?) OR (status = 'dead' AND next_at < ?)`),
      all: conn.prepare(`SELECT * FROM alert_outbox ORDER BY id`),
    };
  }

  /** Opens its own connection to the hub's database file. */
  static open(path: string): Outbox {
    return new Outbox(openNotifyConnection(path));
  }

  /** Writes a notification; its id, or null when this (receiver, key) is there already. */
  enqueue(n: NewNotification, now = Date.now()): number | null {
    const res = this.q.insert.run(n.receiver, n.idempotencyKey, n.body, now, n.nextAt);
    return res.changes === 1 ? Number(res.lastInsertRowid) : null;
  }

  /** Replaces the body of a row not yet attempted (its group took another transition); false once it is being sent. */
  updateOpen(id: number, body: string): boolean {
    return this.q.updateOpen.run(body, id).changes === 1;
  }

  /** The oldest pending row of each receiver, whether due or not. */
  heads(): OutboxRow[] {
    return (this.q.heads.all() as OutboxDbRow[]).map(toRow);
  }

  /** Takes a row for an attempt (attempts + 1); false when another took it or it changed. */
  claim(row: Pick<OutboxRow, 'id' | 'attempts'>, leaseUntil: number): boolean {
    return this.q.claim.run(leaseUntil, row.id, row.attempts).changes === 1;
  }

  markDone(id: number, now = Date.now()): void {
    this.q.done.run(now, id);
  }

  /** Pending again from `at` (a retry, or a request cut short by shutdown). */
  markRetry(id: number, at: number, error: string | null): void {
    this.q.retry.run(at, error, id);
  }

  markDead(id: number, error: string, now = Date.now()): void {
    this.q.dead.run(now, error, id);
  }

  get(id: number): OutboxRow | null {
    const r = this.q.get.get(id) as OutboxDbRow | undefined;
    return r ? toRow(r) : null;
  }

  /** Dead letters, newest first. */
  deadLetters(limit = 100): OutboxRow[] {
    return (this.q.byStatus.all('dead', limit) as OutboxDbRow[]).map(toRow);
  }

  /** A dead letter back to pending with its attempts reset; the row, or null when `id` is no dead letter. */
  retryDead(id: number, now = Date.now()): OutboxRow | null {
    return this.q.revive.run(now, id).changes === 1 ? this.get(id) : null;
  }

  /** Pending rows of a receiver. */
  pendingCount(receiver: string): number {
    return (this.q.pendingOf.get(receiver) as { n: number }).n;
  }

  /** Forgets delivered rows finished before `doneBefore` and dead letters before `deadBefore`. */
  prune(doneBefore: number, deadBefore: number): number {
    return this.q.prune.run(doneBefore, deadBefore).changes;
  }

  /** Every row, oldest first (tests, diagnostics). */
  all(): OutboxRow[] {
    return (this.q.all.all() as OutboxDbRow[]).map(toRow);
  }

  close(): void {
    this.conn.close();
  }
}
