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
 *
 * Every statement is a Drizzle query on the alertOutbox table of schema/tables.ts, prepared once
 * on this connection (placeholders filled per call).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { and, count, desc, eq, inArray, lt, min, or, sql } from 'drizzle-orm';
import { alertOutbox } from '../../schema/tables.ts';
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

/** The columns of an outbox row as OutboxRow names them (the select of every read). */
const ROW = {
  id: alertOutbox.id,
  receiver: alertOutbox.receiver,
  idempotencyKey: alertOutbox.idempotencyKey,
  body: alertOutbox.body,
  createdAt: alertOutbox.createdAt,
  attempts: alertOutbox.attempts,
  nextAt: alertOutbox.nextAt,
  status: alertOutbox.status,
  lastError: alertOutbox.lastError,
};

/** The outbox's statements: Drizzle queries on `conn`, prepared once. */
function prepared(conn: Database.Database) {
  const db = drizzle(conn);
  const p = sql.placeholder;
  const o = alertOutbox;
  const pending = eq(o.status, 'pending');
  return {
    insert: db
      .insert(o)
      .values({ receiver: p('receiver'), idempotencyKey: p('key'), body: p('body'), createdAt: p('now'), attempts: 0, nextAt: p('nextAt'), status: 'pending' })
      .onConflictDoNothing({ target: [o.receiver, o.idempotencyKey] })
      .prepare(),
    updateOpen: db
      .update(o)
      .set({ body: sql`${p('body')}` })
      .where(and(eq(o.id, p('id')), pending, eq(o.attempts, 0)))
      .prepare(),
    heads: db
      .select(ROW)
      .from(o)
      .where(inArray(o.id, db.select({ id: min(o.id) }).from(o).where(pending).groupBy(o.receiver)))
      .orderBy(o.id)
      .prepare(),
    claim: db
      .update(o)
      .set({ attempts: sql`${o.attempts} + 1`, nextAt: sql`${p('leaseUntil')}` })
      .where(and(eq(o.id, p('id')), pending, eq(o.attempts, p('attempts'))))
      .prepare(),
    done: db
      .update(o)
      .set({ status: 'done', nextAt: sql`${p('now')}`, lastError: null })
      .where(and(eq(o.id, p('id')), pending))
      .prepare(),
    retry: db
      .update(o)
      .set({ nextAt: sql`${p('at')}`, lastError: sql`${p('error')}` })
      .where(and(eq(o.id, p('id')), pending))
      .prepare(),
    dead: db
      .update(o)
      .set({ status: 'dead', nextAt: sql`${p('now')}`, lastError: sql`${p('error')}` })
      .where(and(eq(o.id, p('id')), pending))
      .prepare(),
    get: db.select(ROW).from(o).where(eq(o.id, p('id'))).prepare(),
    deadLetters: db.select(ROW).from(o).where(eq(o.status, 'dead')).orderBy(desc(o.id)).limit(p('limit')).prepare(),
    revive: db
      .update(o)
      .set({ status: 'pending', attempts: 0, nextAt: sql`${p('now')}` })
      .where(and(eq(o.id, p('id')), eq(o.status, 'dead')))
      .prepare(),
    pendingOf: db
      .select({ n: count() })
      .from(o)
      .where(and(pending, eq(o.receiver, p('receiver'))))
      .prepare(),
    prune: db
      .delete(o)
      .where(or(and(eq(o.status, 'done'), lt(o.nextAt, p('doneBefore'))), and(eq(o.status, 'dead'), lt(o.nextAt, p('deadBefore')))))
      .prepare(),
    all: db.select(ROW).from(o).orderBy(o.id).prepare(),
  };
}

export class Outbox {
  private readonly q;

  constructor(private readonly conn: Database.Database) {
    this.q = prepared(conn);
  }

  /** Opens its own connection to the hub's database file. */
  static open(path: string): Outbox {
    return new Outbox(openNotifyConnection(path));
  }

  /** Writes a notification; its id, or null when this (receiver, key) is there already. */
  enqueue(n: NewNotification, now = Date.now()): number | null {
    const res = this.q.insert.run({ receiver: n.receiver, key: n.idempotencyKey, body: n.body, now, nextAt: n.nextAt });
    return res.changes === 1 ? Number(res.lastInsertRowid) : null;
  }

  /** Replaces the body of a row not yet attempted (its group took another transition); false once it is being sent. */
  updateOpen(id: number, body: string): boolean {
    return this.q.updateOpen.run({ body, id }).changes === 1;
  }

  /** The oldest pending row of each receiver, whether due or not. */
  heads(): OutboxRow[] {
    return this.q.heads.all() as OutboxRow[];
  }

  /** Takes a row for an attempt (attempts + 1); false when another took it or it changed. */
  claim(row: Pick<OutboxRow, 'id' | 'attempts'>, leaseUntil: number): boolean {
    return this.q.claim.run({ leaseUntil, id: row.id, attempts: row.attempts }).changes === 1;
  }

  markDone(id: number, now = Date.now()): void {
    this.q.done.run({ now, id });
  }

  /** Pending again from `at` (a retry, or a request cut short by shutdown). */
  markRetry(id: number, at: number, error: string | null): void {
    this.q.retry.run({ at, error, id });
  }

  markDead(id: number, error: string, now = Date.now()): void {
    this.q.dead.run({ now, error, id });
  }

  get(id: number): OutboxRow | null {
    return (this.q.get.get({ id }) as OutboxRow | undefined) ?? null;
  }

  /** Dead letters, newest first. */
  deadLetters(limit = 100): OutboxRow[] {
    return this.q.deadLetters.all({ limit }) as OutboxRow[];
  }

  /** A dead letter back to pending with its attempts reset; the row, or null when `id` is no dead letter. */
  retryDead(id: number, now = Date.now()): OutboxRow | null {
    return this.q.revive.run({ now, id }).changes === 1 ? this.get(id) : null;
  }

  /** Pending rows of a receiver. */
  pendingCount(receiver: string): number {
    return this.q.pendingOf.get({ receiver })!.n;
  }

  /** Forgets delivered rows finished before `doneBefore` and dead letters before `deadBefore`. */
  prune(doneBefore: number, deadBefore: number): number {
    return this.q.prune.run({ doneBefore, deadBefore }).changes;
  }

  /** Every row, oldest first (tests, diagnostics). */
  all(): OutboxRow[] {
    return this.q.all.all() as OutboxRow[];
  }

  close(): void {
    this.conn.close();
  }
}
