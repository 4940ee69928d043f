/**
 * Applies gathered rollup changes to the stored rollup rows (read, merge column-wise, re-encode,
 * write), and knows each chip's fleet group. Runs in the compactor thread, planning a fold.
 */
import { eq } from 'drizzle-orm';
import type Database from 'better-sqlite3';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { chips } from '../../../schema/tables.ts';
import type { RollupBatch, RollupRowDelta } from '../../rollups/rollup-batch.ts';
import { mergeRollupRow } from '../../rollups/rollup-row-merge.ts';
import { fleetKey, TIERS, type RollupTier } from '../../rollups/rollup-fields.ts';

/** Drizzle over a better-sqlite3 connection, which the writes use directly. */
type Db = BetterSQLite3Database & { $client: Database.Database };

export class RollupRows {
  private readonly readRow;
  private readonly writeRow;
  private readonly groups = new Map<string, string>();
  private readonly readGroups;
  /** When every chip's group was last read at once (ms, 0: never). */
  private groupsReadAt = 0;

  constructor(private readonly db: Db) {
    this.readRow = db.$client.prepare('SELECT data FROM rollups WHERE tier = ? AND key = ? AND row_start = ?').pluck();
    this.readGroups = db.$client.prepare('SELECT id, vendor, model FROM chips');
    // Runs with the write lock held: a plain statement, without the query builder's per-call mapping.
    this.writeRow = db.$client.prepare('INSERT INTO rollups (tier, key, row_start, data) VALUES (?, ?, ?, ?) ON CONFLICT (tier, key, row_start) DO UPDATE SET data = excluded.data');
  }

  /** The rollup keys a chip's samples count towards: the chip, and its model's fleet group when known. */
  keysOf(chipId: string): string[] {
    let group = this.groups.get(chipId);
    if (group === undefined) {
      // A chip not met yet: every chip's group in one read (a hub's first fold meets all of its
      // chips; one query each was ~13 % of the compactor's time in a fold of 100,000 new chips),
      // or, read that way within the last second, this chip's own.
      const now = Date.now();
      if (now - this.groupsReadAt > 1_000) {
        this.groupsReadAt = now;
        for (const r of this.readGroups.iterate() as Iterable<{ id: string; vendor: string; model: string }>) this.groups.set(r.id, fleetKey(r.vendor, r.model));
        group = this.groups.get(chipId);
      } else {
        const row = this.db.select({ vendor: chips.vendor, model: chips.model }).from(chips).where(eq(chips.id, chipId)).get();
        group = row ? fleetKey(row.vendor, row.model) : undefined;
        if (group !== undefined) this.groups.set(chipId, group);
      }
    }
    return group ? [chipId, group] : [chipId];
  }

  /** The stored row of `key` in `tier` starting at `rowStart`, if any. */
  read(tier: RollupTier, key: string, rowStart: number): Buffer | undefined {
    return this.readRow.get(tier, key, rowStart) as Buffer | undefined;
  }

  /** Store a row (with the write lock held: in a step's write transaction). */
  write(tier: RollupTier, key: string, rowStart: number, data: Buffer): void {
    this.writeRow.run(tier, key, rowStart, data);
  }

  /**
   * Merge every delta of the batch into its stored row: reads and encodes now, queues the writes.
   * Rows for which `isOpen` holds are stored without deflate (rewritten at every fold until sealed).
   */
  apply(batch: RollupBatch, ops: (() => void)[], isOpen: (d: RollupRowDelta) => boolean = () => false): void {
    for (const d of batch.deltas()) {
      const { bucketMs } = TIERS[d.tier];
      const data = mergeRollupRow(this.read(d.tier, d.key, d.rowStart) ?? null, d.rowStart, bucketMs, d.buckets, false, !isOpen(d));
      ops.push(() => this.write(d.tier, d.key, d.rowStart, data));
    }
  }
}
