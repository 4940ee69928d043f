/**
 * Retention: drops raw chunks, rollup rows, work rows and agent events (with the 1-hour tier) older than their tier keeps, a few hundred rows per
 * step (each step its own short transaction, so commits interleave), and gives the freed pages
 * back to the file system with incremental vacuum. Runs in the compactor thread, each step in a
 * write turn (see write-turns.ts).
 */
import type Database from 'better-sqlite3';
import { TIERS } from '../../rollups/rollup-fields.ts';
import type { Retention } from '../store.ts';
import { workRetentionStep } from '../../work/work-rows.ts';

/** Rows deleted per step and table. */
export const RETENTION_STEP_ROWS = 256;
/** Pages given back per step (4 KiB each). */
export const VACUUM_STEP_PAGES = 1024;

export interface RetentionStepResult {
  deleted: number;
  freedPages: number;
}

export class RetentionJob {
  private readonly deleteRaw;
  private readonly deleteTier;
  private readonly freePages;
  private readonly deleteWork;
  private readonly deleteAgentEvents;

  constructor(
    private readonly client: Database.Database,
    private readonly retention: Retention,
  ) {
    this.deleteRaw = client.prepare(`DELETE FROM sample_chunks WHERE rowid IN (SELECT rowid FROM sample_chunks WHERE end_ts < ? LIMIT ${RETENTION_STEP_ROWS})`);
    // A row goes when its whole span is past the cutoff.
    this.deleteTier = client.prepare(`DELETE FROM rollups WHERE rowid IN (SELECT rowid FROM rollups WHERE tier = ? AND row_start < ? LIMIT ${RETENTION_STEP_ROWS})`);
    this.freePages = client.prepare('PRAGMA freelist_count').pluck();
    this.deleteWork = workRetentionStep(client, RETENTION_STEP_ROWS);
    this.deleteAgentEvents = client.prepare(`DELETE FROM agent_events WHERE rowid IN (SELECT rowid FROM agent_events WHERE ts < ? LIMIT ${RETENTION_STEP_ROWS})`);
  }

  /** One bounded step at time `now`. Returns what it did; a step that did nothing means done. */
  step(now: number): RetentionStepResult {
    let deleted = this.deleteRaw.run(now - this.retention.rawMs).changes;
    deleted += this.deleteTier.run('1m', now - this.retention.m1Ms - TIERS['1m'].rowSpanMs + 1).changes;
    deleted += this.deleteTier.run('1h', now - this.retention.h1Ms - TIERS['1h'].rowSpanMs + 1).changes;
    deleted += this.deleteAgentEvents.run(now - this.retention.h1Ms).changes;
    deleted += this.deleteWork({ raw: now - this.retention.rawMs, m1: now - this.retention.m1Ms - TIERS['1m'].bucketMs, h1: now - this.retention.h1Ms - TIERS['1h'].bucketMs });
    return { deleted, freedPages: this.releaseFreePages() };
  }

  /** Gives up to VACUUM_STEP_PAGES free pages back to the file system; returns how many. */
  releaseFreePages(): number {
    const before = this.freePages.get() as number;
    if (before === 0) return 0;
    this.client.pragma(`incremental_vacuum(${VACUUM_STEP_PAGES})`);
    return before - (this.freePages.get() as number);
  }
}
