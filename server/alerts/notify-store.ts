/**
 * Receivers (table alert_receivers) and silences (alert_silences) in the hub's database, on the
 * notifier's connection. A receiver row keeps the whole spec as JSON (its secret included: the
 * hub needs it to sign); `source` says who manages it: the REST API, the rules file, or the
 * `--webhook` flag.
 */
import type Database from 'better-sqlite3';
import { receiverSpecSchema, type Matcher, type ReceiverSpec } from '../../schema/alert-notify.ts';

export type ReceiverSource = 'api' | 'file' | 'flag';

export interface StoredReceiver {
  spec: ReceiverSpec;
  source: ReceiverSource;
  updatedAt: number;
}

export interface Silence {
  id: string;
  matchers: Matcher[];
  comment: string;
  createdBy: string;
  startsAt: number;
  endsAt: number;
}

/** A receiver as stored (SQLite and PostgreSQL alike). */
export interface ReceiverRow {
  name: string;
  kind: string;
  body: string;
  source: ReceiverSource;
  updated_at: number;
}

interface SilenceRow {
  id: string;
  matchers: string;
  comment: string;
  created_by: string;
  starts_at: number;
  ends_at: number;
}

/** What the notifier needs of receivers and silences: this class (SQLite) or PgNotifyStore (pg-notify-store.ts). */
export interface NotifyStoreApi {
  receivers(): StoredReceiver[];
  receiver(name: string): StoredReceiver | null;
  sourceOf(name: string): ReceiverSource | null;
  putReceiver(spec: ReceiverSpec, source: ReceiverSource, now?: number): void;
  deleteReceiver(name: string): boolean;
  replaceSource(source: ReceiverSource, specs: readonly ReceiverSpec[], now?: number): void;
  silences(): Silence[];
  silence(id: string): Silence | null;
  addSilence(s: Silence): void;
  expireSilence(id: string, now?: number): boolean;
  pruneSilences(before: number): number;
}

export class NotifyStore implements NotifyStoreApi {
  private readonly q;

  constructor(
    private readonly conn: Database.Database,
    private readonly onBadRow: (name: string, err: string) => void = () => {},
  ) {
    this.q = {
      receivers: conn.prepare('SELECT * FROM alert_receivers ORDER BY name'),
      receiver: conn.prepare('SELECT * FROM alert_receivers WHERE name = ?'),
      upsert: conn.prepare(
        `INSERT INTO alert_receivers (name, kind, body, source, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, body = excluded.body, source = excluded.source, updated_at = excluded.updated_at`,
      ),
      deleteReceiver: conn.prepare('DELETE FROM alert_receivers WHERE name = ?'),
      deleteSource: conn.prepare('DELETE FROM alert_receivers WHERE source = ?'),
      silences: conn.prepare('SELECT * FROM alert_silences ORDER BY starts_at DESC, id'),
      insertSilence: conn.prepare('INSERT INTO alert_silences (id, matchers, comment, created_by, starts_at, ends_at) VALUES (?, ?, ?, ?, ?, ?)'),
      silence: conn.prepare('SELECT * FROM alert_silences WHERE id = ?'),
      expire: conn.prepare('UPDATE alert_silences SET ends_at = ?, starts_at = MIN(starts_at, ?) WHERE id = ? AND ends_at > ?'),
      pruneSilences: conn.prepare('DELETE FROM alert_silences WHERE ends_at < ?'),
    };
  }

  private receiverOf(row: ReceiverRow): StoredReceiver | null {
    return receiverFromRow(row, this.onBadRow);
  }

  receivers(): StoredReceiver[] {
    return (this.q.receivers.all() as ReceiverRow[]).map((r) => this.receiverOf(r)).filter((r): r is StoredReceiver => r !== null);
  }

  receiver(name: string): StoredReceiver | null {
    const row = this.q.receiver.get(name) as ReceiverRow | undefined;
    return row ? this.receiverOf(row) : null;
  }

  /** The source of the row named `name` (even one that no longer parses), or null. */
  sourceOf(name: string): ReceiverSource | null {
    return (this.q.receiver.get(name) as ReceiverRow | undefined)?.source ?? null;
  }

  putReceiver(spec: ReceiverSpec, source: ReceiverSource, now = Date.now()): void {
    const { name, kind, ...rest } = spec;
    this.q.upsert.run(name, kind, JSON.stringify(rest), source, now);
  }

  deleteReceiver(name: string): boolean {
    return this.q.deleteReceiver.run(name).changes === 1;
  }

  /** All the receivers of `source` become `specs` (one transaction). */
  replaceSource(source: ReceiverSource, specs: readonly ReceiverSpec[], now = Date.now()): void {
    this.conn.transaction(() => {
      this.q.deleteSource.run(source);
      for (const s of specs) this.putReceiver(s, source, now);
    })();
  }

  silences(): Silence[] {
    return (this.q.silences.all() as SilenceRow[]).map((r) => ({
      id: r.id,
      matchers: JSON.parse(r.matchers) as Matcher[],
      comment: r.comment,
      createdBy: r.created_by,
      startsAt: r.starts_at,
      endsAt: r.ends_at,
    }));
  }

  silence(id: string): Silence | null {
    const r = this.q.silence.get(id) as SilenceRow | undefined;
    return r ? { id: r.id, matchers: JSON.parse(r.matchers) as Matcher[], comment: r.comment, createdBy: r.created_by, startsAt: r.starts_at, endsAt: r.ends_at } : null;
  }

  addSilence(s: Silence): void {
    this.q.insertSilence.run(s.id, JSON.stringify(s.matchers), s.comment, s.createdBy, s.startsAt, s.endsAt);
  }

  /** Ends a silence now; false when there is none with this id still to end. */
  expireSilence(id: string, now = Date.now()): boolean {
    return this.q.expire.run(now, now, id, now).changes === 1;
  }

  /** Forgets silences that ended before `before`. */
  pruneSilences(before: number): number {
    return this.q.pruneSilences.run(before).changes;
  }
}

/** A stored receiver row read back and validated; a bad one is reported to `onBadRow` and left out (null). */
export function receiverFromRow(row: ReceiverRow, onBadRow: (name: string, err: string) => void): StoredReceiver | null {
  let raw: unknown;
  try {
    raw = JSON.parse(row.body);
  } catch (err) {
    onBadRow(row.name, String(err));
    return null;
  }
  const parsed = receiverSpecSchema.safeParse({ ...(raw as object), name: row.name, kind: row.kind });
  if (!parsed.success) {
    onBadRow(row.name, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    return null;
  }
  return { spec: parsed.data, source: row.source, updatedAt: row.updated_at };
}
