/**
 * Folds the sample log into chunks and rollups, one step per transaction: the step deletes the
 * oldest logged samples (RETURNING them), merges them into the chips' chunks and applies what they
 * add to the rollup tiers, and commits all of it together — a reader's snapshot holds each sample
 * either in the log or in the chunks and rollups, never both or neither. Steps run one at a time
 * (in this process by a queue, across processes by an advisory lock), on the hub's event loop,
 * giving it back every few hundred chips so that ingest is not held up for the whole step.
 */
import type pg from 'pg';
import { RollupBatch } from '../../rollups/rollup-batch.ts';
import { foldChip } from './chip-fold.ts';
import { byChipSorted, loadChipContexts, rollupKeysOf } from './chunk-context.ts';
import { logSelect, sampleOfLogRow, type LogRow } from './log-writes.ts';
import { applyRollupBatch } from './rollup-rows.ts';
import { inTransaction } from './pg-connection.ts';

/** The advisory lock each fold step of one schema takes: one step at a time, across processes too. */
const FOLD_LOCK = 'SELECT pg_advisory_xact_lock(hashtext(current_schema()), 1717)';

const TAKE_STEP = `DELETE FROM sample_log WHERE (chip_id, ts) IN (SELECT chip_id, ts FROM sample_log ORDER BY id LIMIT $1) RETURNING ${logSelect()}`;

const REMOVE_CHUNKS = `DELETE FROM sample_chunks s USING unnest($1::text[], $2::bigint[]) AS u(chip, start) WHERE s.chip_id = u.chip AND s.start_ts = u.start`;
const WRITE_CHUNKS = `INSERT INTO sample_chunks (chip_id, start_ts, end_ts, n, data) SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::int[], $5::bytea[])`;

/** Chips merged between two turns of the event loop (decoding and encoding chunks is synchronous work). */
const YIELD_EVERY_CHIPS = 1000;
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export interface FoldStep {
  /** Logged samples taken (duplicates of stored ones included). */
  taken: number;
  /** Samples new to the chunks. */
  added: number;
  chips: number;
}

/** One fold step of at most `maxSamples` logged samples in its own transaction. */
export async function foldStep(pool: pg.Pool, maxSamples: number): Promise<FoldStep> {
  return inTransaction(pool, async (client) => {
    await client.query(FOLD_LOCK);
    const rows = (await client.query<LogRow>(TAKE_STEP, [maxSamples])).rows;
    if (rows.length === 0) return { taken: 0, added: 0, chips: 0 };
    const byChip = byChipSorted(rows.map(sampleOfLogRow));
    const contexts = await loadChipContexts(client, byChip);
    const keys = await rollupKeysOf(client, [...byChip.keys()]);
    const batch = new RollupBatch();
    const remove: [string[], number[]] = [[], []];
    const write: [string[], number[], number[], number[], Buffer[]] = [[], [], [], [], []];
    let added = 0;
    let done = 0;
    for (const [chipId, fresh] of byChip) {
      // The fold runs on the hub's event loop: it lets ingest in every few hundred chips.
      if (++done % YIELD_EVERY_CHIPS === 0) await nextTurn();
      const f = foldChip(chipId, fresh, contexts.get(chipId)!);
      if (f.added.length === 0) continue;
      added += f.added.length;
      for (const start of f.remove) {
        remove[0].push(chipId);
        remove[1].push(start);
      }
      for (const c of f.write) {
        write[0].push(chipId);
        write[1].push(c.startTs);
        write[2].push(c.endTs);
        write[3].push(c.n);
        write[4].push(c.data);
      }
      batch.addChip(keys.get(chipId)!, f.added, f.energy);
    }
    if (remove[0].length) await client.query(REMOVE_CHUNKS, remove);
    if (write[0].length) await client.query(WRITE_CHUNKS, write);
    await applyRollupBatch(client, batch);
    return { taken: rows.length, added, chips: byChip.size };
  });
}
