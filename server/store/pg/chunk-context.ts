/**
 * Reads the stored chunks around many chips' logged samples in one query (a LATERAL join over
 * the chips' [minTs, maxTs] spans): the overlapping chunks, the one just before and the one just
 * after each span — what chip-fold.ts needs to dedupe and pair energy readings.
 */
import type pg from 'pg';
import type { Sample } from '../../../schema/sample.ts';
import type { ChipContext, StoredChunk } from './chip-fold.ts';
import { fleetKey } from '../../rollups/rollup-fields.ts';

const CONTEXT_SQL = `
SELECT f.chip AS chip_id, c.kind, c.start_ts, c.end_ts, c.n, c.data
  FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS f(chip, lo, hi)
  CROSS JOIN LATERAL (
    (SELECT 0 AS kind, start_ts, end_ts, n, data FROM sample_chunks WHERE chip_id = f.chip AND start_ts <= f.hi AND end_ts >= f.lo)
    UNION ALL
    (SELECT 1, start_ts, end_ts, n, data FROM sample_chunks WHERE chip_id = f.chip AND end_ts < f.lo ORDER BY end_ts DESC LIMIT 1)
    UNION ALL
    (SELECT 2, start_ts, end_ts, n, data FROM sample_chunks WHERE chip_id = f.chip AND start_ts > f.hi ORDER BY start_ts LIMIT 1)
  ) c
 ORDER BY f.chip, c.start_ts`;

/** Each chip's context around its samples (each list ascending by ts, non-empty). */
export async function loadChipContexts(client: pg.ClientBase, byChip: ReadonlyMap<string, readonly Sample[]>): Promise<Map<string, ChipContext>> {
  const ids = [...byChip.keys()];
  const out = new Map<string, ChipContext>(ids.map((id) => [id, { overlapping: [] }]));
  if (ids.length === 0) return out;
  const lo = ids.map((id) => byChip.get(id)![0].ts);
  const hi = ids.map((id) => byChip.get(id)!.at(-1)!.ts);
  const r = await client.query<{ chip_id: string; kind: number; start_ts: number; end_ts: number; n: number; data: Buffer }>(CONTEXT_SQL, [ids, lo, hi]);
  for (const row of r.rows) {
    const ctx = out.get(row.chip_id)!;
    const chunk: StoredChunk = { startTs: row.start_ts, endTs: row.end_ts, n: row.n, data: row.data };
    if (row.kind === 0) ctx.overlapping.push(chunk);
    else if (row.kind === 1) ctx.before = chunk;
    else ctx.after = chunk;
  }
  return out;
}

/** Group samples by chip, each list sorted ascending by ts. */
export function byChipSorted(samples: Iterable<Sample>): Map<string, Sample[]> {
  const out = new Map<string, Sample[]>();
  for (const s of samples) {
    const list = out.get(s.chipId);
    if (list) list.push(s);
    else out.set(s.chipId, [s]);
  }
  for (const list of out.values()) list.sort((a, b) => a.ts - b.ts);
  return out;
}

/** Each chip's rollup keys: the chip, and its fleet group when the chip is registered. */
export async function rollupKeysOf(client: pg.ClientBase, chipIds: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(chipIds.map((id) => [id, [id]]));
  if (chipIds.length === 0) return out;
  const r = await client.query<{ id: string; vendor: string; model: string }>('SELECT id, vendor, model FROM chips WHERE id = ANY($1::text[])', [chipIds]);
  for (const c of r.rows) out.get(c.id)!.push(fleetKey(c.vendor, c.model));
  return out;
}
