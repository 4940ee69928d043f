/**
 * Rows of the sample log as readers see them: what one row holds, reading rows on a connection
 * inside its snapshot, and merging logged samples with stored ones.
 */
import { withBackfill } from '../../schema/sample-flags.ts';
import type Database from 'better-sqlite3';
import type { Sample } from '../../schema/sample.ts';
import { isSampleRecords, readSampleRecords } from './sample-records.ts';
import type { LegacyLogEntry } from './writer/writer-protocol.ts';

/** Reads log rows on some connection (inside a transaction: in its snapshot). */
export interface LogRowsReader {
  /** Rows with `from <= id <= to`, ascending by id. */
  range(from: number, to: number): Iterable<LogRow>;
  /** One row, if it is still there. */
  byId(id: number): LogRow | undefined;
  /** The highest log id whose samples are already in the chunks and rollups (0: none). */
  foldedThrough(): number;
}
export interface LogRow {
  id: number;
  data: Uint8Array | string;
}

/** A LogRowsReader on a connection. */
export function logRowsOf(conn: Database.Database): LogRowsReader {
  const range = conn.prepare('SELECT id, data FROM sample_log WHERE id >= ? AND id <= ? ORDER BY id');
  const byId = conn.prepare('SELECT id, data FROM sample_log WHERE id = ?');
  const folded = conn.prepare('SELECT folded_log_id FROM fold_state WHERE id = 1').pluck();
  return {
    range: (from, to) => range.iterate(from, to) as IterableIterator<LogRow>,
    byId: (id) => byId.get(id) as LogRow | undefined,
    foldedThrough: () => (folded.get() as number | undefined) ?? 0,
  };
}

/** Merge by ts: `keep` wins on equal timestamps; result ascending. */
export function mergeByTs(keep: Sample[], add: Sample[]): Sample[] {
  const byTs = new Map<number, Sample>();
  for (const s of add) if (!byTs.has(s.ts)) byTs.set(s.ts, s);
  for (const s of keep) byTs.set(s.ts, s);
  return [...byTs.values()].sort((a, b) => a.ts - b.ts);
}

/** The samples of one log row: sample records, or the JSON text earlier versions wrote. */
export function loggedSamples(data: Uint8Array | string): Sample[] {
  if (data.length === 0) return [];
  if (typeof data !== 'string' && isSampleRecords(data)) return readSampleRecords(data).flatMap((r) => r.samples());
  const text = typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
  return (JSON.parse(text) as LegacyLogEntry[]).flatMap((entry) =>
    entry.b ? entry.f.samples.map(withBackfill) : entry.f.samples,
  );
}
