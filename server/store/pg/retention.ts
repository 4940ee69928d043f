/**
 * Retention of the PostgreSQL store: raw data goes by dropping whole day partitions of the log and
 * the chunks once the day is entirely past the raw retention (no row deletes, no bloat to vacuum);
 * rollup rows go by DELETE once their whole row span is past their tier's retention, in steps of
 * ROLLUP_DELETE_STEP rows; work rows with their tiers (work-rows.ts); agent events with the 1-hour tier (agent-events.ts). New days' partitions are created ahead on each run.
 */
import type pg from 'pg';
import { TIERS, type RollupTier } from '../../rollups/rollup-fields.ts';
import type { Retention } from '../store.ts';
import type { DayPartitions } from './partitions.ts';
import { workRetention } from './work-rows.ts';
import { agentEventsRetention } from './agent-events.ts';

export const ROLLUP_DELETE_STEP = 1000;

export interface RetentionRun {
  droppedPartitions: string[];
  deletedRollupRows: number;
}

export async function runRetention(pool: pg.Pool, partitions: DayPartitions, retention: Retention, now: number): Promise<RetentionRun> {
  const droppedPartitions = await partitions.dropBefore(now - retention.rawMs);
  let deletedRollupRows = 0;
  const keep: Record<RollupTier, number> = { '1m': retention.m1Ms, '1h': retention.h1Ms };
  for (const tier of Object.keys(TIERS) as RollupTier[]) {
    // A row goes when its whole span is past the cutoff.
    const before = now - keep[tier] - TIERS[tier].rowSpanMs + 1;
    for (;;) {
      const r = await pool.query(`DELETE FROM rollups WHERE ctid IN (SELECT ctid FROM rollups WHERE tier = $1 AND row_start < $2 LIMIT ${ROLLUP_DELETE_STEP})`, [tier, before]);
      deletedRollupRows += r.rowCount ?? 0;
      if ((r.rowCount ?? 0) < ROLLUP_DELETE_STEP) break;
    }
  }
  deletedRollupRows += await agentEventsRetention(pool, now - retention.h1Ms);
  deletedRollupRows += await workRetention(pool, { raw: now - retention.rawMs, m1: now - retention.m1Ms - TIERS['1m'].bucketMs, h1: now - retention.h1Ms - TIERS['1h'].bucketMs });
  await partitions.ensureAhead();
  return { droppedPartitions, deletedRollupRows };
}
