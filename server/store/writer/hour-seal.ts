/**
 * Sealing the hours of the 1-hour rollup tier (SQLite, compactor thread). A fold step rewrites
 * the rollup rows of every key it touches; keeping the 1-hour rows current as well doubled that
 * work for a bucket that changes all hour long. So a fold keeps only the 1-minute rows current
 * for hours from `sealedHourTs` (fold_state) on, and once an hour is over it is sealed: each
 * key's bucket for that hour is made from its 1-minute row (the row spans exactly the hour) and
 * put into the key's 1-hour row, replacing what is there; then `sealedHourTs` moves past it.
 *
 * - Readers take 1-hour buckets before `sealedHourTs` from the 1-hour rows and later ones from
 *   the 1-minute rows (server/store/rollup-reads.ts), so an hour being sealed reads the same
 *   before, during and after its pass.
 * - Samples of a sealed hour that arrive later are folded into both tiers, as before.
 * - A pass runs in write transactions of SEAL_KEYS keys without yielding to folds, and puts
 *   buckets in place rather than merging: a pass cut short by a stop is run again whole, to the
 *   same rows.
 */
import type Database from 'better-sqlite3';
import { decodeRollupColumns } from '../../rollups/rollup-codec.ts';
import { RowColumns } from '../../rollups/rollup-columns.ts';
import { bucketStart, TIERS } from '../../rollups/rollup-fields.ts';
import { mergedBucket, mergeRollupRow } from '../../rollups/rollup-row-merge.ts';

/** Keys sealed per write transaction: a few milliseconds of write lock each. */
export const SEAL_KEYS = 500;
/** An hour is sealed this long after it ends, when the fold has taken in its last samples. */
export const SEAL_AFTER_MS = 60_000;

const HOUR = TIERS['1h'].bucketMs;

export class HourSealer {
  private readonly keysOfHour;
  private readonly readRow;
  private readonly writeRow;
  private readonly setSealed;
  private readonly cols = new RowColumns();

  constructor(
    private readonly client: Database.Database,
    /** Runs each write transaction (the thread takes a write turn around it). */
    private readonly aroundWrite: (write: () => void) => void,
  ) {
    this.keysOfHour = client.prepare("SELECT key FROM rollups WHERE tier = '1m' AND row_start = ?").pluck();
    this.readRow = client.prepare('SELECT data FROM rollups WHERE tier = ? AND key = ? AND row_start = ?').pluck();
    this.writeRow = client.prepare('INSERT INTO rollups (tier, key, row_start, data) VALUES (?, ?, ?, ?) ON CONFLICT (tier, key, row_start) DO UPDATE SET data = excluded.data');
    this.setSealed = client.prepare('INSERT INTO fold_state (id, folded_log_id, sealed_hour_ts) VALUES (1, 0, ?) ON CONFLICT (id) DO UPDATE SET sealed_hour_ts = excluded.sealed_hour_ts');
  }

  /** The stored `sealedHourTs`, or null (a database whose every 1-hour bucket is current). */
  stored(): number | null {
    return (this.client.prepare('SELECT sealed_hour_ts FROM fold_state WHERE id = 1').pluck().get() as number | null | undefined) ?? null;
  }

  /** Record `hour` as sealed-from without sealing anything (a database that has none yet). */
  start(hour: number): void {
    this.aroundWrite(() => this.setSealed.run(hour));
  }

  /** Whether the hour starting at `hour` is over and due to be sealed at `now`. */
  static due(hour: number, now: number): boolean {
    return now >= hour + HOUR + SEAL_AFTER_MS;
  }

  /** Seal the hour starting at `hour`; returns the keys sealed. `sealedHourTs` becomes hour + 1 h in the last transaction. */
  seal(hour: number): number {
    const keys = this.keysOfHour.all(hour) as string[];
    const dayStart = bucketStart(hour, TIERS['1h'].rowSpanMs);
    const minuteMs = TIERS['1m'].bucketMs;
    for (let i = 0; i === 0 || i < keys.length; i += SEAL_KEYS) {
      const rows: [string, Buffer][] = [];
      for (const key of keys.slice(i, i + SEAL_KEYS)) {
        const m1 = this.readRow.get('1m', key, hour) as Buffer | undefined;
        if (!m1) continue;
        const bucket = mergedBucket(decodeRollupColumns(m1, hour, minuteMs, this.cols), hour);
        const h1 = (this.readRow.get('1h', key, dayStart) as Buffer | undefined) ?? null;
        rows.push([key, mergeRollupRow(h1, dayStart, HOUR, new Map([[hour, bucket]]), true)]);
      }
      const last = i + SEAL_KEYS >= keys.length;
      this.aroundWrite(() =>
        this.client.transaction(() => {
          for (const [key, data] of rows) this.writeRow.run('1h', key, dayStart, data);
          if (last) this.setSealed.run(hour + HOUR);
        }).immediate(),
      );
    }
    return keys.length;
  }
}
