/**
 * Rollup reads of the PostgreSQL store, in one REPEATABLE READ snapshot: the stored rows of each
 * key decoded column-wise, then what the samples still in the log add to them — worked out as
 * the fold will (chip-fold.ts: duplicates of stored samples dropped, energy pairs made or split),
 * handed over as delta buckets after the stored rows (the sink merges equal starts).
 */
import type pg from 'pg';
import { decodeRollupColumns } from '../../rollups/rollup-codec.ts';
import { bucketsOf, columnsOf, RowColumns } from '../../rollups/rollup-columns.ts';
import { mergeBucket, type RollupBucket } from '../../rollups/rollup-bucket.ts';
import { RollupBatch } from '../../rollups/rollup-batch.ts';
import { bucketStart, fleetKey, MAX_ENERGY_GAP_MS, ROLLUP_FIELDS, TIERS, type RollupField, type RollupTier } from '../../rollups/rollup-fields.ts';
import { foldChip } from './chip-fold.ts';
import { byChipSorted, loadChipContexts } from './chunk-context.ts';
import { logSelect, sampleOfLogRow, type LogRow } from './log-writes.ts';
import { inTransaction, SNAPSHOT_READ } from './pg-connection.ts';

export interface RollupQuery {
  tier: RollupTier;
  keys: readonly string[];
  from: number;
  to: number;
  fields?: readonly (RollupField | 'energyJ')[];
}

export type RollupSink = (key: string, cols: RowColumns) => void;

/** Stored rows, then the unfolded samples' delta buckets, per key; buckets outside [from, to] may be passed. */
export function readRollups(pool: pg.Pool, q: RollupQuery, sink: RollupSink): Promise<void> {
  const { bucketMs, rowSpanMs } = TIERS[q.tier];
  const only = q.fields ? new Set(q.fields.map((f) => ROLLUP_FIELDS.indexOf(f as RollupField)).filter((i) => i >= 0)) : undefined;
  const energy = !q.fields || q.fields.includes('energyJ');
  return inTransaction(
    pool,
    async (client) => {
      const cols = new RowColumns();
      const unfolded = await unfoldedDeltas(client, q);
      const rows = await client.query<{ key: string; row_start: number; data: Buffer }>(
        'SELECT key, row_start, data FROM rollups WHERE tier = $1 AND key = ANY($2::text[]) AND row_start >= $3 AND row_start <= $4 ORDER BY key, row_start',
        [q.tier, q.keys, bucketStart(q.from, rowSpanMs), q.to],
      );
      const byKey = new Map<string, { row_start: number; data: Buffer }[]>();
      for (const r of rows.rows) {
        const list = byKey.get(r.key);
        if (list) list.push(r);
        else byKey.set(r.key, [r]);
      }
      for (const key of q.keys) for (const r of byKey.get(key) ?? []) sink(key, decodeRollupColumns(r.data, r.row_start, bucketMs, cols, only, energy));
      for (const [key, buckets] of unfolded) {
        columnsOf(buckets, cols);
        // Only the fields asked for, as the stored rows give them.
        for (let i = 0; i < ROLLUP_FIELDS.length; i++) if (only && !only.has(i)) cols.fields[i] = null;
        cols.hasEnergy = energy;
        sink(key, cols);
      }
    },
    SNAPSHOT_READ,
  );
}

/**
 * The delta buckets (of the query's tier) that folding the logged samples of the wanted chip
 * and fleet keys would add, per key. Only samples that can change a bucket in [from, to] are read.
 */
async function unfoldedDeltas(client: pg.ClientBase, q: RollupQuery): Promise<Map<string, RollupBucket[]>> {
  const { bucketMs } = TIERS[q.tier];
  const wanted = new Set(q.keys);
  const groups = q.keys.filter((k) => k.startsWith('@'));
  const chipIds = q.keys.filter((k) => !k.startsWith('@'));
  const lo = bucketStart(q.from, bucketMs) - MAX_ENERGY_GAP_MS;
  const hi = bucketStart(q.to, bucketMs) + bucketMs - 1;
  const logged = await client.query<LogRow & { vendor: string | null; model: string | null }>(
    `SELECT ${logSelect('l')}, c.vendor, c.model
       FROM sample_log l LEFT JOIN chips c ON c.id = l.chip_id
      WHERE l.ts >= $1 AND l.ts <= $2 AND (l.chip_id = ANY($3::text[]) OR (c.vendor || '/' || c.model) = ANY($4::text[]))`,
    [lo, hi, chipIds, groups.map((g) => g.slice(1))],
  );
  const out = new Map<string, RollupBucket[]>();
  if (logged.rows.length === 0) return out;
  const keysOf = new Map<string, string[]>();
  for (const r of logged.rows) {
    if (keysOf.has(r.chip_id)) continue;
    const group = r.vendor !== null && r.model !== null ? fleetKey(r.vendor, r.model) : null;
    keysOf.set(r.chip_id, [r.chip_id, ...(group ? [group] : [])].filter((k) => wanted.has(k)));
  }
  const byChip = byChipSorted(logged.rows.map(sampleOfLogRow));
  const contexts = await loadChipContexts(client, byChip);
  const batch = new RollupBatch();
  for (const [chipId, fresh] of byChip) {
    const f = foldChip(chipId, fresh, contexts.get(chipId)!, false);
    if (f.added.length > 0) batch.addChip(keysOf.get(chipId)!, f.added, f.energy);
  }
  for (const d of batch.deltas()) {
    if (d.tier !== q.tier) continue;
    const list = out.get(d.key) ?? [];
    list.push(...d.buckets.values());
    out.set(d.key, list);
  }
  for (const list of out.values()) list.sort((a, b) => a.start - b.start);
  return out;
}

/** As readRollups, collected into bucket objects per key, cut to [from, to], equal starts merged. */
export async function collectRollups(pool: pg.Pool, q: RollupQuery): Promise<Map<string, RollupBucket[]>> {
  const byKey = new Map<string, Map<number, RollupBucket>>();
  await readRollups(pool, q, (key, cols) => {
    let m = byKey.get(key);
    if (!m) byKey.set(key, (m = new Map()));
    for (const b of bucketsOf(cols)) {
      if (b.start < q.from || b.start > q.to) continue;
      const had = m.get(b.start);
      if (had) mergeBucket(had, b);
      else m.set(b.start, b);
    }
  });
  const out = new Map<string, RollupBucket[]>();
  for (const [key, m] of byKey) if (m.size > 0) out.set(key, [...m.values()].sort((a, b) => a.start - b.start));
  return out;
}
