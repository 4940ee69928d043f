/**
 * Receivers and silences on PostgreSQL (tables alert_receivers, alert_silences), with the same
 * methods as the SQLite NotifyStore (notify-store.ts), all synchronous: they answer from a copy in
 * memory, loaded at open and reloaded every `reloadMs` (another hub's changes reach this one
 * within it; `watch` is told when they do); changes are applied to the copy and written behind.
 */
import type pg from 'pg';
import { silentLogger, type Logger } from '../../common/logger.ts';
import { receiverSpecSchema, type Matcher, type ReceiverSpec } from '../../schema/alert-notify.ts';
import { WriteQueue } from '../store/pg/write-queue.ts';
import { receiverFromRow, type NotifyStoreApi, type ReceiverRow, type ReceiverSource, type Silence, type StoredReceiver } from './notify-store.ts';

interface SilenceRow {
  id: string;
  matchers: string;
  comment: string;
  created_by: string;
  starts_at: number;
  ends_at: number;
}

const silenceOf = (r: SilenceRow): Silence => ({ id: r.id, matchers: JSON.parse(r.matchers) as Matcher[], comment: r.comment, createdBy: r.created_by, startsAt: r.starts_at, endsAt: r.ends_at });
const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export class PgNotifyStore implements NotifyStoreApi {
  private rows = new Map<string, ReceiverRow>();
  private silenceRows = new Map<string, Silence>();
  private readonly writes: WriteQueue;
  private timer: NodeJS.Timeout | null = null;
  private onChange: (() => void) | null = null;
  private onBadRow: (name: string, err: string) => void = () => {};

  private constructor(
    private readonly pool: pg.Pool,
    private readonly log: Logger,
  ) {
    this.writes = new WriteQueue((err) => log.error('writing a receiver or silence to PostgreSQL failed', { error: String(err) }));
  }

  static async open(pool: pg.Pool, opts: { log?: Logger; reloadMs?: number } = {}): Promise<PgNotifyStore> {
    const s = new PgNotifyStore(pool, opts.log ?? silentLogger);
    await s.load();
    const every = opts.reloadMs ?? 5000;
    if (every > 0) {
      s.timer = setInterval(() => void s.reload(), every);
      s.timer.unref();
    }
    return s;
  }

  private async load(): Promise<boolean> {
    const generation = this.writes.generation;
    const [r, s] = await Promise.all([this.pool.query('SELECT * FROM alert_receivers'), this.pool.query('SELECT * FROM alert_silences')]);
    if (this.writes.pending > 0 || this.writes.generation !== generation) return false;
    const before = JSON.stringify([[...this.rows.values()].sort(byName), [...this.silenceRows.keys()].sort(), [...this.silenceRows.values()].map((x) => x.endsAt)]);
    this.rows = new Map((r.rows as ReceiverRow[]).map((x) => [x.name, x]));
    this.silenceRows = new Map((s.rows as SilenceRow[]).map((x) => [x.id, silenceOf(x)]));
    return before !== JSON.stringify([[...this.rows.values()].sort(byName), [...this.silenceRows.keys()].sort(), [...this.silenceRows.values()].map((x) => x.endsAt)]);
  }

  private async reload(): Promise<void> {
    try {
      if (await this.load()) this.onChange?.();
    } catch (err) {
      this.log.warn('reloading receivers and silences from PostgreSQL failed (kept the copy)', { error: String(err) });
    }
  }

  watch(onChange: () => void, onBadRow?: (name: string, err: string) => void): void {
    this.onChange = onChange;
    if (onBadRow) this.onBadRow = onBadRow;
  }

  private receiverOf(row: ReceiverRow): StoredReceiver | null {
    return receiverFromRow(row, this.onBadRow);
  }

  receivers(): StoredReceiver[] {
    return [...this.rows.values()].sort(byName).map((r) => this.receiverOf(r)).filter((r): r is StoredReceiver => r !== null);
  }

  receiver(name: string): StoredReceiver | null {
    const row = this.rows.get(name);
    return row ? this.receiverOf(row) : null;
  }

  sourceOf(name: string): ReceiverSource | null {
    return this.rows.get(name)?.source ?? null;
  }

  putReceiver(spec: ReceiverSpec, source: ReceiverSource, now = Date.now()): void {
    const { name, kind, ...rest } = spec;
    const row: ReceiverRow = { name, kind, body: JSON.stringify(rest), source, updated_at: now };
    this.rows.set(name, row);
    this.writes.push(() =>
      this.pool.query(
        `INSERT INTO alert_receivers (name, kind, body, source, updated_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, body = excluded.body, source = excluded.source, updated_at = excluded.updated_at`,
        [row.name, row.kind, row.body, row.source, row.updated_at],
      ),
    );
  }

  deleteReceiver(name: string): boolean {
    if (!this.rows.delete(name)) return false;
    this.writes.push(() => this.pool.query('DELETE FROM alert_receivers WHERE name = $1', [name]));
    return true;
  }

  replaceSource(source: ReceiverSource, specs: readonly ReceiverSpec[], now = Date.now()): void {
    for (const [name, r] of this.rows) if (r.source === source) this.rows.delete(name);
    const rows = specs.map(({ name, kind, ...rest }) => ({ name, kind, body: JSON.stringify(rest), source, updated_at: now }));
    for (const r of rows) this.rows.set(r.name, r);
    this.writes.push(async () => {
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('DELETE FROM alert_receivers WHERE source = $1', [source]);
        for (const r of rows)
          await client.query(
            `INSERT INTO alert_receivers (name, kind, body, source, updated_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, body = excluded.body, source = excluded.source, updated_at = excluded.updated_at`,
            [r.name, r.kind, r.body, r.source, r.updated_at],
          );
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    });
  }

  silences(): Silence[] {
    return [...this.silenceRows.values()].sort((a, b) => b.startsAt - a.startsAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((s) => ({ ...s }));
  }

  silence(id: string): Silence | null {
    const s = this.silenceRows.get(id);
    return s ? { ...s } : null;
  }

  addSilence(s: Silence): void {
    this.silenceRows.set(s.id, { ...s });
    this.writes.push(() =>
      this.pool.query('INSERT INTO alert_silences (id, matchers, comment, created_by, starts_at, ends_at) VALUES ($1, $2, $3, $4, $5, $6)', [s.id, JSON.stringify(s.matchers), s.comment, s.createdBy, s.startsAt, s.endsAt]),
    );
  }

  expireSilence(id: string, now = Date.now()): boolean {
    const s = this.silenceRows.get(id);
    if (!s || s.endsAt <= now) return false;
    this.silenceRows.set(id, { ...s, endsAt: now, startsAt: Math.min(s.startsAt, now) });
    this.writes.push(() => this.pool.query('UPDATE alert_silences SET ends_at = $1, starts_at = LEAST(starts_at, $1) WHERE id = $2 AND ends_at > $1', [now, id]));
    return true;
  }

  pruneSilences(before: number): number {
    let n = 0;
    for (const [id, s] of this.silenceRows) if (s.endsAt < before) n += Number(this.silenceRows.delete(id));
    if (n > 0) this.writes.push(() => this.pool.query('DELETE FROM alert_silences WHERE ends_at < $1', [before]));
    return n;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.onChange = null;
    await this.writes.settled();
  }
}
