/**
 * Alerting's rows in the hub's SQLite file (tables alert_rules, alert_states, and the history:
 * alert_series and alert_transitions, read through the view alert_events), on a
 * connection of its own like the token store: rules changed through the API (and the API's
 * adjustments of the built-ins), the state of every (rule, chip) alert that is not inactive, and
 * the history of transitions. Reads and rule changes are synchronous (better-sqlite3); the
 * engine's writes of states and transitions (`write`, one transaction per timer tick) go to the
 * hub's SQLite writer thread when one is given (alert-writes.ts), and resolve once committed.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { MIGRATIONS_DIR } from '../store/sqlite-store.ts';
import { setUpConnection } from '../store/sqlite-connection.ts';
import type { AlertEvent } from './alert-events.ts';
import type { AlertPhase } from './alert-state.ts';
import type { Severity } from '../../schema/alert-rules.ts';
import { alertWriteTransaction, type AlertWrite } from './alert-writes.ts';
import { eventTimes, expandAnnotations, labelsOfRow, referencedHashes, TEXT_REFRESH_MS } from './alert-texts.ts';

/** Where a stored rule row came from: `api` (a rule of the API), `builtin` (the API's override of a built-in; body is the override). */
export type StoredRuleSource = 'api' | 'file' | 'builtin';

export interface StoredRule {
  id: string;
  source: StoredRuleSource;
  /** The rule (or, for `builtin`, the override) as JSON, unparsed. */
  body: unknown;
  updatedAt: number;
}

export interface StoredStateRow {
  ruleId: string;
  chipId: string;
  /** The serialized state (alert-state.ts storedAlertStateSchema), unparsed. */
  state: unknown;
  labels: Record<string, string>;
  updatedAt: number;
}

/** One stored transition (an AlertEvent with its row id). */
export interface StoredAlertEvent extends AlertEvent {
  id: number;
}

export interface HistoryQuery {
  /** Inclusive bounds on the transition time (ms). */
  from: number;
  to: number;
  chipId?: string;
  ruleId?: string;
  /** Most rows (newest first). */
  limit: number;
}

/** A state row to write: `state` null deletes the row (the alert went back to inactive). */
export interface StateWrite {
  ruleId: string;
  chipId: string;
  state: unknown | null;
  labels: Readonly<Record<string, string>>;
}

export interface AlertStore {
  loadRules(): StoredRule[];
  saveRule(id: string, source: StoredRuleSource, body: unknown, now?: number): void;
  /** False when there was no such row. */
  deleteRule(id: string): boolean;
  loadStates(): StoredStateRow[];
  /**
   * The stored states of these chips as they are now (a database other hubs write too: PostgreSQL),
   * read when this hub takes over an agent; absent where only this hub writes them (SQLite).
   */
  loadChipStates?(chipIds: readonly string[]): Promise<StoredStateRow[]>;
  /**
   * State writes and new events, in one transaction, after the writes given before; resolves once
   * committed (rejects when the transaction failed).
   */
  write(states: readonly StateWrite[], events: readonly AlertEvent[], now?: number): Promise<void>;
  /** Transitions in [from, to], newest first, at most `limit` (the stores here: a promise of them). */
  history(q: HistoryQuery): StoredAlertEvent[] | Promise<StoredAlertEvent[]>;
  /** Delete events older than `before` (ms), and the shared texts only they named; returns how many events (PostgreSQL: deletes in the background, returns 0). */
  pruneEvents(before: number): number;
  close(): void | Promise<void>;
}

export interface EventRow {
  id: number;
  rule_id: string;
  chip_id: string;
  from_phase: string;
  to_phase: string;
  at: number;
  value: number | null;
  severity: string;
  labels: string;
  annotations: string;
  fingerprint: string;
  starts_at?: number;
}

export const parse = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
};
export const record = (text: string): Record<string, string> => {
  const v = parse(text);
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, string>) : {};
};

/** The shared texts `rows` refer to (alert-texts.ts), looked up by hash, at most SHARED_TEXTS_PER_READ at once. */
export type TextLookup = (hashes: readonly string[]) => Map<string, string> | Promise<Map<string, string>>;
export const SHARED_TEXTS_PER_READ = 500;

/**
 * Stored events back, with their shared texts. startsAt and endsAt are not columns of their own:
 * they live in the annotations row under reserved keys (alert-texts.ts eventTimes), which are
 * taken out here, as are the shared texts' names.
 */
export async function eventsOf(rows: readonly EventRow[], lookup: TextLookup): Promise<StoredAlertEvent[]> {
  const parsed = rows.map((r) => ({ r, annotations: record(r.annotations) as Record<string, unknown> }));
  const hashes = [...new Set(parsed.flatMap((p) => referencedHashes(p.r.labels, p.annotations)))];
  const texts = new Map<string, string>();
  for (let i = 0; i < hashes.length; i += SHARED_TEXTS_PER_READ) for (const [h, t] of await lookup(hashes.slice(i, i + SHARED_TEXTS_PER_READ))) texts.set(h, t);
  return parsed.map(({ r, annotations }) => {
    const { startsAt, endsAt } = eventTimes(r.at, annotations);
    return {
      id: r.id,
      ruleId: r.rule_id,
      chipId: r.chip_id,
      from: r.from_phase as AlertPhase,
      to: r.to_phase as AlertPhase,
      at: r.at,
      value: r.value,
      severity: r.severity as Severity,
      labels: record(labelsOfRow(r.labels, texts)),
      annotations: expandAnnotations(annotations, r.value, texts),
      fingerprint: r.fingerprint,
      startsAt,
      endsAt,
    };
  });
}

/**
 * Opens (and migrates) the hub's database file for alerting. `writeVia`: where `write` goes (the
 * hub's writer thread: Store.writeAlerts); without it, this connection writes at once.
 */
export function openAlertStore(path: string, writeVia?: (states: readonly StateWrite[], events: readonly AlertEvent[], now: number) => Promise<void>): AlertStore {
  mkdirSync(dirname(path), { recursive: true });
  const conn = new Database(path);
  setUpConnection(conn);
  migrate(drizzle(conn), { migrationsFolder: MIGRATIONS_DIR });
  const rules = conn.prepare('SELECT id, source, body, updated_at FROM alert_rules ORDER BY id');
  const upsertRule = conn.prepare(
    'INSERT INTO alert_rules (id, source, body, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET source = excluded.source, body = excluded.body, updated_at = excluded.updated_at',
  );
  const deleteRule = conn.prepare('DELETE FROM alert_rules WHERE id = ?');
  const states = conn.prepare('SELECT rule_id, chip_id, state, labels, updated_at FROM alert_states');
  const prune = conn.prepare('DELETE FROM alert_transitions WHERE at < ?');
  // Series no transition names, not written for TEXT_REFRESH_MS before the cutoff (a writer still holding their key would have written them since: alert-history-rows.ts).
  const pruneSeries = conn.prepare('DELETE FROM alert_series WHERE last_at < ? AND NOT EXISTS (SELECT 1 FROM alert_transitions t WHERE t.series = alert_series.id)');
  const pruneTexts = conn.prepare('DELETE FROM alert_texts WHERE last_at < ?');
  const textsOf = (hashes: readonly string[]) =>
    new Map((conn.prepare(`SELECT hash, text FROM alert_texts WHERE hash IN (${hashes.map(() => '?').join(', ')})`).all(...hashes) as { hash: string; text: string }[]).map((r) => [r.hash, r.text]));
  const historyStmts = new Map<string, Database.Statement>();
  const writeHere: AlertWrite | null = writeVia ? null : alertWriteTransaction(conn).immediate;

  return {
    loadRules: () =>
      (rules.all() as { id: string; source: StoredRuleSource; body: string; updated_at: number }[]).map((r) => ({ id: r.id, source: r.source, body: parse(r.body), updatedAt: r.updated_at })),
    saveRule(id, source, body, now = Date.now()) {
      upsertRule.run(id, source, JSON.stringify(body), now);
    },
    deleteRule: (id) => deleteRule.run(id).changes > 0,
    loadStates: () =>
      (states.all() as { rule_id: string; chip_id: string; state: string; labels: string; updated_at: number }[]).map((r) => ({
        ruleId: r.rule_id,
        chipId: r.chip_id,
        state: parse(r.state),
        labels: record(r.labels),
        updatedAt: r.updated_at,
      })),
    async write(ws, events, now = Date.now()) {
      if (ws.length === 0 && events.length === 0) return;
      if (writeVia) await writeVia(ws, events, now);
      else writeHere!(ws, events, now);
    },
    async history(q) {
      const where = ['at >= ?', 'at <= ?'];
      const args: (string | number)[] = [q.from, q.to];
      if (q.chipId !== undefined) {
        where.push('chip_id = ?');
        args.push(q.chipId);
      }
      if (q.ruleId !== undefined) {
        where.push('rule_id = ?');
        args.push(q.ruleId);
      }
      const text = `SELECT * FROM alert_events WHERE ${where.join(' AND ')} ORDER BY at DESC, id DESC LIMIT ?`;
      let stmt = historyStmts.get(text);
      if (!stmt) historyStmts.set(text, (stmt = conn.prepare(text)));
      return eventsOf(stmt.all(...args, q.limit) as EventRow[], textsOf);
    },
    pruneEvents(before) {
      const n = prune.run(before).changes;
      pruneSeries.run(before - TEXT_REFRESH_MS);
      pruneTexts.run(before - TEXT_REFRESH_MS);
      return n;
    },
    close: () => void conn.close(),
  };
}
