/**
 * The notification outbox on PostgreSQL (table alert_outbox), shared by every hub on the schema:
 * the same rows and rules as the SQLite outbox (outbox.ts). Exactly one hub sends each row: a
 * claim locks the row with `FOR UPDATE SKIP LOCKED` (a hub never waits on another's claim) and
 * takes it only if it is still due and unchanged (attempts + 1, next_at = the lease end,
 * claimed_by = this hub). Should the claiming hub die mid-request, the row is due again when the
 * lease ends and another hub sends it. `pendingCount` answers from the counts of the last `heads()`.
 * Every statement is a Drizzle query (node-postgres driver) on schema/pg/tables.ts's alertOutbox,
 * prepared once (a named statement: parsed once per pooled connection).
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { and, count, desc, eq, inArray, lt, lte, min, or, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { alertOutbox } from '../../schema/pg/tables.ts';
import type { OutboxApi } from './outbox-api.ts';
import type { NewNotification, OutboxRow } from './outbox.ts';

/** The columns of an outbox row as OutboxRow names them. */
const o = alertOutbox;
const ROW = { id: o.id, receiver: o.receiver, idempotencyKey: o.idempotencyKey, body: o.body, createdAt: o.createdAt, attempts: o.attempts, nextAt: o.nextAt, status: o.status, lastError: o.lastError };

/**
 * The outbox's statements on `pool`: Drizzle queries, each a named prepared statement (parsed once
 * per pooled connection; the names are the same on every hub and pool, and so is the text).
 */
function prepared(pool: pg.Pool) {
  const db = drizzle(pool);
  const p = sql.placeholder;
  const pending = eq(o.status, 'pending');
  return {
    insert: db
      .insert(o)
      .values({ receiver: p('receiver'), idempotencyKey: p('key'), body: p('body'), createdAt: p('now'), attempts: 0, nextAt: p('nextAt'), status: 'pending' })
      .onConflictDoNothing({ target: [o.receiver, o.idempotencyKey] })
      .returning({ id: o.id })
      .prepare('fleetscope_outbox_insert'),
    updateOpen: db
      .update(o)
      .set({ body: sql`${p('body')}` })
      .where(and(eq(o.id, p('id')), pending, eq(o.attempts, 0)))
      .prepare('fleetscope_outbox_update_open'),
    heads: db
      .select(ROW)
      .from(o)
      .where(inArray(o.id, db.select({ id: min(o.id) }).from(o).where(pending).groupBy(o.receiver)))
      .orderBy(o.id)
      .prepare('fleetscope_outbox_heads'),
    counts: db.select({ receiver: o.receiver, n: count() }).from(o).where(pending).groupBy(o.receiver).prepare('fleetscope_outbox_counts'),
    // The row, locked (or skipped when another hub holds it), taken only if still due and unchanged.
    claim: db
      .update(o)
      .set({ attempts: sql`${o.attempts} + 1`, nextAt: sql`${p('leaseUntil')}`, claimedBy: sql`${p('hubId')}` })
      .where(
        inArray(
          o.id,
          db
            .select({ id: o.id })
            .from(o)
            .where(and(eq(o.id, p('id')), pending, eq(o.attempts, p('attempts')), lte(o.nextAt, p('now'))))
            .for('update', { skipLocked: true }),
        ),
      )
      .prepare('fleetscope_outbox_claim'),
    done: db
      .update(o)
      .set({ status: 'done', nextAt: sql`${p('now')}`, lastError: null })
      .where(and(eq(o.id, p('id')), pending))
      .prepare('fleetscope_outbox_done'),
    retry: db
      .update(o)
      .set({ nextAt: sql`${p('at')}`, lastError: sql`${p('error')}` })
      .where(and(eq(o.id, p('id')), pending))
      .prepare('fleetscope_outbox_retry'),
    dead: db
      .update(o)
      .set({ status: 'dead', nextAt: sql`${p('now')}`, lastError: sql`${p('error')}` })
      .where(and(eq(o.id, p('id')), pending))
      .prepare('fleetscope_outbox_dead'),
    get: db.select(ROW).from(o).where(eq(o.id, p('id'))).prepare('fleetscope_outbox_get'),
    deadLetters: db.select(ROW).from(o).where(eq(o.status, 'dead')).orderBy(desc(o.id)).limit(p('limit')).prepare('fleetscope_outbox_dead_letters'),
    revive: db
      .update(o)
      .set({ status: 'pending', attempts: 0, nextAt: sql`${p('now')}` })
      .where(and(eq(o.id, p('id')), eq(o.status, 'dead')))
      .returning(ROW)
      .prepare('fleetscope_outbox_revive'),
    prune: db
      .delete(o)
      .where(or(and(eq(o.status, 'done'), lt(o.nextAt, p('doneBefore'))), and(eq(o.status, 'dead'), lt(o.nextAt, p('deadBefore')))))
      .prepare('fleetscope_outbox_prune'),
    all: db
      .select({ ...ROW, claimedBy: o.claimedBy })
      .from(o)
      .orderBy(o.id)
      .prepare('fleetscope_outbox_all'),
  };
}

export class PgOutbox implements OutboxApi {
  /** Who claims (kept in claimed_by, for diagnostics). */
  readonly hubId: string;
  private counts = new Map<string, number>();
  private readonly q: ReturnType<typeof prepared>;

  constructor(
    pool: pg.Pool,
    hubId?: string,
    private readonly now: () => number = Date.now,
  ) {
    this.hubId = hubId ?? `hub-${randomUUID().slice(0, 8)}`;
    this.q = prepared(pool);
  }

  async enqueue(n: NewNotification, now = this.now()): Promise<number | null> {
    const rows = await this.q.insert.execute({ receiver: n.receiver, key: n.idempotencyKey, body: n.body, now, nextAt: n.nextAt });
    if (rows.length !== 1) return null;
    this.counts.set(n.receiver, (this.counts.get(n.receiver) ?? 0) + 1);
    return rows[0]!.id;
  }

  async updateOpen(id: number, body: string): Promise<boolean> {
    return (await this.q.updateOpen.execute({ body, id })).rowCount === 1;
  }

  async heads(): Promise<OutboxRow[]> {
    const [heads, counts] = await Promise.all([this.q.heads.execute(), this.q.counts.execute()]);
    this.counts = new Map(counts.map((r) => [r.receiver, r.n]));
    return heads as OutboxRow[];
  }

  async claim(row: Pick<OutboxRow, 'id' | 'attempts'>, leaseUntil: number): Promise<boolean> {
    return (await this.q.claim.execute({ leaseUntil, hubId: this.hubId, id: row.id, attempts: row.attempts, now: this.now() })).rowCount === 1;
  }

  async markDone(id: number, now = this.now()): Promise<void> {
    await this.q.done.execute({ now, id });
  }

  async markRetry(id: number, at: number, error: string | null): Promise<void> {
    await this.q.retry.execute({ at, error, id });
  }

  async markDead(id: number, error: string, now = this.now()): Promise<void> {
    await this.q.dead.execute({ now, error, id });
  }

  async get(id: number): Promise<OutboxRow | null> {
    return ((await this.q.get.execute({ id }))[0] as OutboxRow | undefined) ?? null;
  }

  async deadLetters(limit = 100): Promise<OutboxRow[]> {
    return (await this.q.deadLetters.execute({ limit })) as OutboxRow[];
  }

  async retryDead(id: number, now = this.now()): Promise<OutboxRow | null> {
    const rows = await this.q.revive.execute({ now, id });
    return rows.length === 1 ? (rows[0] as OutboxRow) : null;
  }

  pendingCount(receiver: string): number {
    return this.counts.get(receiver) ?? 0;
  }

  async prune(doneBefore: number, deadBefore: number): Promise<number> {
    return (await this.q.prune.execute({ doneBefore, deadBefore })).rowCount ?? 0;
  }

  /** Every row, oldest first (tests, diagnostics). */
  async all(): Promise<(OutboxRow & { claimedBy: string | null })[]> {
    return (await this.q.all.execute()) as (OutboxRow & { claimedBy: string | null })[];
  }

  close(): void {
    // The pool belongs to the hub's database (hub-database.ts).
  }
}
