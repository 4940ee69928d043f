/**
 * Applies a fold's rollup changes to the stored rollup rows in the fold's transaction: reads the
 * touched rows in one query, merges the delta buckets and re-encodes
 * (server/rollups/rollup-row-merge.ts), and upserts them all in one
 * `INSERT … SELECT FROM unnest(…) ON CONFLICT DO UPDATE`.
 */
import type pg from 'pg';
import type { RollupBatch } from '../../rollups/rollup-batch.ts';
import { mergeRollupRow } from '../../rollups/rollup-row-merge.ts';
import { TIERS } from '../../rollups/rollup-fields.ts';

const READ_ROWS = `SELECT r.tier, r.key, r.row_start, r.data FROM rollups r
  JOIN unnest($1::text[], $2::text[], $3::bigint[]) AS u(tier, key, row_start) USING (tier, key, row_start)`;

const WRITE_ROWS = `INSERT INTO rollups (tier, key, row_start, data)
  SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bytea[])
  ON CONFLICT (tier, key, row_start) DO UPDATE SET data = excluded.data`;

export async function applyRollupBatch(client: pg.ClientBase, batch: RollupBatch): Promise<number> {
  const deltas = [...batch.deltas()];
  if (deltas.length === 0) return 0;
  const tiers = deltas.map((d) => d.tier);
  const keys = deltas.map((d) => d.key);
  const starts = deltas.map((d) => d.rowStart);
  const stored = new Map<string, Buffer>();
  const id = (tier: string, key: string, rowStart: number) => `${tier}\u0000${key}\u0000${rowStart}`;
  for (const r of (await client.query<{ tier: string; key: string; row_start: number; data: Buffer }>(READ_ROWS, [tiers, keys, starts])).rows) {
    stored.set(id(r.tier, r.key, r.row_start), r.data);
  }
  const data: Buffer[] = [];
  for (const d of deltas) {
    // On the hub's event loop: ingest gets a turn every so many rows.
    if (data.length % 2000 === 1999) await new Promise<void>((resolve) => setImmediate(resolve));
    const { bucketMs } = TIERS[d.tier];
    const row = stored.get(id(d.tier, d.key, d.rowStart));
    data.push(mergeRollupRow(row ?? null, d.rowStart, bucketMs, d.buckets));
  }
  await client.query(WRITE_ROWS, [tiers, keys, starts, data]);
  return deltas.length;
}
