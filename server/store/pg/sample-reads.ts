/**
 * Raw sample reads of the PostgreSQL store: chunks decoded and the samples still in the log
 * merged in (a stored sample wins over a logged copy of its (chip, ts)), each read in one
 * REPEATABLE READ snapshot so a fold committing meanwhile neither hides nor doubles samples.
 */
import type pg from 'pg';
import type { Sample } from '../../../schema/sample.ts';
import { decodeChunk } from '../chunk-codec.ts';
import { mergeByTs } from './chip-fold.ts';
import { logSelect, sampleOfLogRow, type LogRow } from './log-writes.ts';
import { inTransaction, SNAPSHOT_READ } from './pg-connection.ts';

/** Samples of one chip with from <= ts <= to, ascending, at most `limit`. */
export function chipSamples(pool: pg.Pool, chipId: string, from: number, to: number, limit: number): Promise<Sample[]> {
  return inTransaction(
    pool,
    async (client) => {
      const chunks = await client.query<{ data: Buffer }>('SELECT data FROM sample_chunks WHERE chip_id = $1 AND start_ts <= $3 AND end_ts >= $2 ORDER BY start_ts', [chipId, from, to]);
      const logged = await client.query<LogRow>(`SELECT ${logSelect()} FROM sample_log WHERE chip_id = $1 AND ts >= $2 AND ts <= $3 ORDER BY ts`, [chipId, from, to]);
      const stored = chunks.rows.flatMap((r) => decodeChunk(r.data, chipId)).filter((s) => s.ts >= from && s.ts <= to);
      const merged = logged.rows.length === 0 ? stored : mergeByTs(stored, logged.rows.map(sampleOfLogRow));
      return merged.length > limit ? merged.slice(0, limit) : merged;
    },
    SNAPSHOT_READ,
  );
}

/** The latest stored sample of each registered chip. */
export function latestSamples(pool: pg.Pool): Promise<Map<string, Sample>> {
  return inTransaction(
    pool,
    async (client) => {
      const chunks = await client.query<{ id: string; data: Buffer }>(
        'SELECT c.id, x.data FROM chips c CROSS JOIN LATERAL (SELECT data FROM sample_chunks WHERE chip_id = c.id ORDER BY end_ts DESC LIMIT 1) x',
      );
      const logged = await client.query<LogRow>(`SELECT DISTINCT ON (l.chip_id) ${logSelect('l')} FROM sample_log l JOIN chips c ON c.id = l.chip_id ORDER BY l.chip_id, l.ts DESC`);
      const out = new Map<string, Sample>();
      for (const r of chunks.rows) {
        const last = decodeChunk(r.data, r.id).at(-1);
        if (last) out.set(r.id, last);
      }
      for (const r of logged.rows) {
        const s = sampleOfLogRow(r);
        const stored = out.get(s.chipId);
        if (!stored || s.ts > stored.ts) out.set(s.chipId, s);
      }
      return out;
    },
    SNAPSHOT_READ,
  );
}
