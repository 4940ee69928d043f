/**
 * Sealing the hours of the rollup tiers (SQLite, compactor thread). A fold step rewrites the
 * rollup rows of every key it touches. A 1-minute row spans an hour, so at 1 Hz a step re-encoded
 * and re-deflated up to an hour of buckets to add a few seconds of them, and the 1-hour rows were
 * rewritten too, for a bucket that changes all hour long. So for hours from `sealedHourTs`
 * (fold_state) on, a fold writes only 1-minute buckets, into rows of OPEN_ROW_MS (a step rewrites
 * at most ten buckets a key, and stores them without deflate), and once an hour is over it is
 * sealed: each key's rows of the hour become one deflated 1-minute row spanning it, the hour's
 * 1-hour bucket is made from them and put into the key's 1-hour row (replacing what is there), and
 * `sealedHourTs` moves past the hour.
 *
 * - Readers take 1-hour buckets before `sealedHourTs` from the 1-hour rows and later ones from
 *   the 1-minute rows (server/store/rollup-reads.ts); 1-minute reads take whatever rows lie in
 *   their range. An hour being sealed reads the same before, during and after its pass.
 * - Samples of a sealed hour that arrive later are folded into both tiers' rows spanning it.
 * - A pass runs in write transactions of SEAL_KEYS keys, between fold steps. While it is under
 *   way a key it has sealed counts its hour as sealed (the layout below), so a late sample of that
 *   hour goes into both tiers' rows spanning it.
 * - A pass puts rows and buckets in place rather than merging: a pass cut short by a stop is run
 *   again whole, to the same rows.
 */
import type Database from 'better-sqlite3';
import { mergeBucket, type RollupBucket } from '../../rollups/rollup-bucket.ts';
import { decodeRollupColumns, encodeRollupRow } from '../../rollups/rollup-codec.ts';
import { bucketsOf, columnsOf, RowColumns } from '../../rollups/rollup-columns.ts';
import { bucketStart, TIERS, type RollupTier } from '../../rollups/rollup-fields.ts';
import type { RollupLayout } from '../../rollups/rollup-batch.ts';
import { mergedBucket, mergeRollupRow } from '../../rollups/rollup-row-merge.ts';

/** Keys sealed per write transaction: a few milliseconds of write lock each. */
export const SEAL_KEYS = 500;
/** An hour is sealed this long after it ends, when the fold has taken in its last samples. */
export const SEAL_AFTER_MS = 60_000;
/** The span of the 1-minute rows of hours not sealed yet. */
export const OPEN_ROW_MS = 10 * 60_000;

const HOUR = TIERS['1h'].bucketMs;
const MINUTE = TIERS['1m'].bucketMs;

export class HourSealer implements RollupLayout {
  private readonly keysOfHour;
  private readonly rowsOfHour;
  private readonly readRow;
  private readonly writeRow;
  private readonly dropOpenRows;
  private readonly setSealed;
  private readonly cols = new RowColumns();
  /** 1-hour buckets from this hour on are made by sealing (`sealedHourTs`). */
  private sealedHour: number;
  /** The pass under way: the hour, its keys, the next to seal, and those sealed so far. */
  private pass: { hour: number; keys: string[]; next: number; sealed: Set<string> } | null = null;

  constructor(
    private readonly client: Database.Database,
    /** Runs each write transaction (the thread takes a write turn around it). */
    private readonly aroundWrite: (write: () => void) => void,
    now: number,
    /** Keys sealed per write transaction. */
    private readonly keysPerBatch = SEAL_KEYS,
  ) {
    this.keysOfHour = client.prepare("SELECT DISTINCT key FROM rollups WHERE tier = '1m' AND row_start >= ? AND row_start < ?").pluck();
    this.rowsOfHour = client.prepare("SELECT row_start, data FROM rollups WHERE tier = '1m' AND key = ? AND row_start >= ? AND row_start < ? ORDER BY row_start").raw();
    this.dropOpenRows = client.prepare("DELETE FROM rollups WHERE tier = '1m' AND key = ? AND row_start > ? AND row_start < ?");
    this.readRow = client.prepare('SELECT data FROM rollups WHERE tier = ? AND key = ? AND row_start = ?').pluck();
    this.writeRow = client.prepare('INSERT INTO rollups (tier, key, row_start, data) VALUES (?, ?, ?, ?) ON CONFLICT (tier, key, row_start) DO UPDATE SET data = excluded.data');
    this.setSealed = client.prepare('INSERT INTO fold_state (id, folded_log_id, sealed_hour_ts) VALUES (1, 0, ?) ON CONFLICT (id) DO UPDATE SET sealed_hour_ts = excluded.sealed_hour_ts');
    const stored = client.prepare('SELECT sealed_hour_ts FROM fold_state WHERE id = 1').pluck().get() as number | null | undefined;
    // A database without a mark has every 1-hour bucket current: hours from this one on are sealed from now on.
    this.sealedHour = stored ?? bucketStart(now, HOUR);
    if (stored == null) this.aroundWrite(() => this.setSealed.run(this.sealedHour));
  }

  hoursBefore(key: string): number {
    const p = this.pass;
    return p !== null && p.sealed.has(key) ? p.hour + HOUR : this.sealedHour;
  }

  rowStart(tier: RollupTier, key: string, ts: number): number {
    return tier === '1m' && ts >= this.hoursBefore(key) ? bucketStart(ts, OPEN_ROW_MS) : bucketStart(ts, TIERS[tier].rowSpanMs);
  }

  /** Whether the row is an open hour's 10-minute row (stored without deflate: rewritten at every fold until sealed). */
  isOpenRow(tier: RollupTier, key: string, rowStart: number): boolean {
    return tier === '1m' && rowStart >= this.hoursBefore(key);
  }

  /** Whether an hour is over at `now` and waits to be sealed (or a pass is under way). */
  due(now: number): boolean {
    return this.pass !== null || now >= this.sealedHour + HOUR + SEAL_AFTER_MS;
  }

  /**
   * Seal what is due at `now`, a batch of keys at a time, until `budgetMs` is spent
   * (at least one batch) or nothing is due. Returns the keys sealed.
   */
  run(now: number, budgetMs = Number.POSITIVE_INFINITY): number {
    const until = performance.now() + budgetMs;
    let sealed = 0;
    do {
      if (!this.due(now)) break;
      this.pass ??= { hour: this.sealedHour, keys: this.keysOfHour.all(this.sealedHour, this.sealedHour + HOUR) as string[], next: 0, sealed: new Set() };
      sealed += this.batch(this.pass);
    } while (performance.now() < until);
    return sealed;
  }

  /**
   * Seal the pass's next batch of keys. The last batch, once no key of the hour is left unsealed,
   * moves `sealedHourTs` past the hour.
   */
  private batch(p: { hour: number; keys: string[]; next: number; sealed: Set<string> }): number {
    const { hour } = p;
    const dayStart = bucketStart(hour, TIERS['1h'].rowSpanMs);
    const keys = p.keys.slice(p.next, p.next + this.keysPerBatch);
    const rows: [string, Buffer, Buffer][] = [];
    for (const key of keys) {
      const minutes = this.minutesOf(key, hour);
      if (minutes.length === 0) continue;
      const bucket = mergedBucket(columnsOf(minutes, this.cols), hour);
      const h1 = (this.readRow.get('1h', key, dayStart) as Buffer | undefined) ?? null;
      rows.push([key, encodeRollupRow(hour, MINUTE, minutes), mergeRollupRow(h1, dayStart, HOUR, new Map([[hour, bucket]]), true)]);
    }
    let last = p.next + this.keysPerBatch >= p.keys.length;
    if (last) {
      // Keys whose first samples of the hour were folded while the pass ran: sealed before the mark moves.
      const batchKeys = new Set(keys);
      const late = (this.keysOfHour.all(hour, hour + HOUR) as string[]).filter((k) => !p.sealed.has(k) && !batchKeys.has(k));
      if (late.length > 0) {
        p.keys.push(...late);
        last = false;
      }
    }
    this.aroundWrite(() =>
      this.client.transaction(() => {
        for (const [key, m1, h1] of rows) {
          this.writeRow.run('1m', key, hour, m1);
          this.dropOpenRows.run(key, hour, hour + HOUR);
          this.writeRow.run('1h', key, dayStart, h1);
        }
        if (last) this.setSealed.run(hour + HOUR);
      }).immediate(),
    );
    p.next += keys.length;
    for (const key of keys) p.sealed.add(key);
    if (last) {
      this.sealedHour = hour + HOUR;
      this.pass = null;
    }
    return keys.length;
  }

  /**
   * The key's 1-minute buckets of the hour, ascending, from its rows in the hour. Open rows hold
   * disjoint minutes; a row spanning the hour written before an upgrade may share its last minute
   * with the first open row after it: equal starts are merged.
   */
  private minutesOf(key: string, hour: number): RollupBucket[] {
    const byStart = new Map<number, RollupBucket>();
    for (const [rowStart, data] of this.rowsOfHour.all(key, hour, hour + HOUR) as [number, Buffer][]) {
      for (const b of bucketsOf(decodeRollupColumns(data, rowStart, MINUTE, this.cols))) {
        const seen = byStart.get(b.start);
        if (seen) mergeBucket(seen, b);
        else byStart.set(b.start, b);
      }
    }
    return [...byStart.values()].sort((a, b) => a.start - b.start);
  }
}
