/**
 * Reads of the rollup tiers for the SQLite store: stored rows decoded column-wise, plus the
 * samples still in the sample log (not yet folded) bucketed on the fly, so answers are current.
 */
import type Database from 'better-sqlite3';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { chips } from '../../schema/tables.ts';
import { bucketize } from '../rollups/bucketize.ts';
import { mergeBucket, type RollupBucket } from '../rollups/rollup-bucket.ts';
import { decodeRollupColumns } from '../rollups/rollup-codec.ts';
import { bucketsOf, columnsOf, RowColumns } from '../rollups/rollup-columns.ts';
import { mergedBucket } from '../rollups/rollup-row-merge.ts';
import { bucketStart, fleetKey, ROLLUP_FIELDS, TIERS, type RollupField, type RollupTier } from '../rollups/rollup-fields.ts';
import { logRowsOf, type LogRowsReader } from './log-rows.ts';
import type { UnfoldedLogIndex } from './unfolded-log-index.ts';
import { EVENT_LOOP_PACING, pacer, type Pacer, type ReadPacing } from '../event-loop-pacing.ts';
import type { EnergyReading } from '../rollups/energy-pairs.ts';
import type { Sample } from '../../schema/sample.ts';

export interface RollupRead {
  tier: RollupTier;
  keys: readonly string[];
  from: number;
  to: number;
  /** Decode only these fields' stats, and energy only when `energyJ` is among them. */
  fields?: readonly (RollupField | 'energyJ')[];
}

const statements = new WeakMap<Database.Database, Database.Statement>();
const sealedStatements = new WeakMap<Database.Database, Database.Statement>();

/** The snapshot's `sealedHourTs` (writer/hour-seal.ts): 1-hour buckets from it on are made from the 1-minute rows. */
function sealedHourOf(client: Database.Database): number | null {
  let st = sealedStatements.get(client);
  if (!st) {
    st = client.prepare('SELECT sealed_hour_ts FROM fold_state WHERE id = 1').pluck();
    sealedStatements.set(client, st);
  }
  return (st.get() as number | null | undefined) ?? null;
}

/** One indexed range scan per key on the (tier, key, row_start) primary key, rows as arrays. */
function rowsOf(client: Database.Database): Database.Statement {
  let st = statements.get(client);
  if (!st) {
    st = client.prepare('SELECT row_start, data FROM rollups WHERE tier = ? AND key = ? AND row_start >= ? AND row_start <= ? ORDER BY row_start').raw();
    statements.set(client, st);
  }
  return st;
}

/** Receives the buckets of a read one row at a time: `cols` holds them until the call returns. */
export type RollupSink = (key: string, cols: RowColumns) => void;

/**
 * Rollup reads on a connection of their own, one at a time, each in a read transaction: a long
 * read (1,000 chips over days is thousands of rows) pauses for the event loop now and then, and
 * still sees one snapshot of the stored rows throughout, with the samples not yet folded as they
 * were when it started — a fold that commits meanwhile changes nothing in its answer.
 */
export class RollupReader {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly logRows: LogRowsReader;

  constructor(
    private readonly conn: Database.Database,
    /** The store's own connection: which fleet group each chip is in (for unfolded samples). */
    private readonly db: BetterSQLite3Database,
    private readonly recent: UnfoldedLogIndex,
    private readonly pacing: ReadPacing = EVENT_LOOP_PACING,
  ) {
    this.logRows = logRowsOf(conn);
  }

  /**
   * The stored rows of each key in order, then the buckets of samples not yet folded (a bucket
   * start may repeat: merge). Buckets outside [from, to] may be passed; the sink cuts.
   */
  read(q: RollupRead, sink: RollupSink): Promise<void> {
    const run = this.queue.then(() => this.readNow(q, sink));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Resolves once the reads asked for so far are done. */
  idle(): Promise<unknown> {
    return this.queue;
  }

  close(): void {
    this.conn.close();
  }

  private async readNow(q: RollupRead, sink: RollupSink): Promise<void> {
    const { tier, keys, from, to } = q;
    const { bucketMs, rowSpanMs } = TIERS[tier];
    const only = q.fields ? new Set(q.fields.map((f) => ROLLUP_FIELDS.indexOf(f as RollupField)).filter((i) => i >= 0)) : undefined;
    const energy = !q.fields || q.fields.includes('energyJ');
    const cols = new RowColumns();
    const st = rowsOf(this.conn);
    const folded = await this.beginSnapshot();
    try {
      const pace = pacer(this.pacing);
      // The unfolded samples first: their log rows and the stored rows below are one snapshot.
      const unfolded = this.recent.size > 0 ? await recentBuckets(this.db, this.recent, this.logRows, folded, pace, bucketMs, new Set(keys), from, to) : [];
      // Hours not sealed yet have no 1-hour bucket of their own (or a stale one): each is made from its 1-minute rows.
      const sealed = tier === '1h' ? sealedHourOf(this.conn) : null;
      for (const key of keys) {
        for (const [rowStart, data] of st.all(tier, key, bucketStart(from, rowSpanMs), to) as [number, Buffer][]) {
          const row = decodeRollupColumns(data, rowStart, bucketMs, cols, only, energy);
          if (sealed !== null) row.k = bucketsBefore(row, sealed);
          if (row.k > 0) sink(key, row);
        }
        if (sealed !== null && sealed <= to) {
          // An open hour's minutes lie in rows of 10 minutes (writer/hour-seal.ts): one bucket per hour.
          const minuteMs = TIERS['1m'].bucketMs;
          const hours = new Map<number, RollupBucket>();
          for (const [rowStart, data] of st.all('1m', key, Math.max(sealed, bucketStart(from, bucketMs)), bucketStart(to, bucketMs) + bucketMs - 1) as [number, Buffer][]) {
            const hour = bucketStart(rowStart, bucketMs);
            const b = mergedBucket(decodeRollupColumns(data, rowStart, minuteMs, cols, only, energy), hour);
            const seen = hours.get(hour);
            if (seen) mergeBucket(seen, b);
            else hours.set(hour, b);
          }
          if (hours.size > 0) sink(key, columnsOf([...hours.values()], cols));
        }
        await pace.maybePause();
      }
      for (const [key, buckets] of unfolded) sink(key, columnsOf(buckets, cols));
    } finally {
      this.conn.exec('COMMIT');
    }
  }

  /**
   * BEGIN, and the snapshot's fold state. When the snapshot holds a fold whose report this thread
   * has not handled yet (it is on its way), the energy readings that pair the first unfolded
   * samples are older than the snapshot's chunks: start over once the report is in (a few
   * milliseconds; after ~1 s go on regardless — the unfolded rows are still cut at the snapshot's
   * fold, only an energy pair may then be missed or span folded readings).
   */
  private async beginSnapshot(): Promise<number> {
    for (let waits = 0; ; waits++) {
      this.conn.exec('BEGIN');
      let folded: number;
      try {
        folded = this.logRows.foldedThrough();
      } catch (err) {
        this.conn.exec('COMMIT');
        throw err;
      }
      if (folded <= this.recent.foldedUpTo || waits >= REPORT_WAITS) return folded;
      this.conn.exec('COMMIT');
      await new Promise((resolve) => setTimeout(resolve, REPORT_WAIT_MS));
    }
  }
}

const REPORT_WAIT_MS = 5;
const REPORT_WAITS = 200;

/** How many of the row's buckets (ascending) start before `ts`. */
function bucketsBefore(row: RowColumns, ts: number): number {
  let j = row.k;
  while (j > 0 && row.start[j - 1] >= ts) j--;
  return j;
}

/** As RollupReader.read, collected into bucket objects per key, cut to [from, to]. */
export async function collectRollups(reader: RollupReader, q: RollupRead): Promise<Map<string, RollupBucket[]>> {
  const out = new Map<string, RollupBucket[]>();
  await reader.read(q, (key, cols) => {
    for (const b of bucketsOf(cols)) {
      if (b.start < q.from || b.start > q.to) continue;
      const list = out.get(key);
      if (!list) out.set(key, [b]);
      else addInOrder(list, b);
    }
  });
  return out;
}

/** Append a bucket to an ascending list, or merge it into the one with its start. */
function addInOrder(list: RollupBucket[], b: RollupBucket): void {
  if (b.start > list[list.length - 1].start) {
    list.push(b);
    return;
  }
  let lo = 0;
  let hi = list.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].start < b.start) lo = mid + 1;
    else hi = mid;
  }
  if (list[lo].start === b.start) mergeBucket(list[lo], b);
  else list.splice(lo, 0, b);
}

/**
 * The buckets of the not-yet-folded samples for the requested chip and fleet keys, pausing
 * between log rows. What pairs each chip's first unfolded energy reading is taken before any
 * pause (a fold reported during one moves it on, past this read's snapshot).
 */
async function recentBuckets(
  db: BetterSQLite3Database,
  recent: UnfoldedLogIndex,
  logRows: LogRowsReader,
  foldedThrough: number,
  pace: Pacer,
  bucketMs: number,
  wanted: Set<string>,
  from: number,
  to: number,
): Promise<[string, RollupBucket[]][]> {
  const out: [string, RollupBucket[]][] = [];
  const wantsFleet = [...wanted].some((k) => k.startsWith('@'));
  const groups = wantsFleet ? new Map(db.select({ id: chips.id, vendor: chips.vendor, model: chips.model }).from(chips).all().map((c) => [c.id, fleetKey(c.vendor, c.model)])) : null;
  const targets = new Map<string, { keys: string[]; energyBefore: EnergyReading | undefined }>();
  for (const chipId of recent.chips()) {
    const keys = [chipId, groups?.get(chipId)].filter((k): k is string => k !== undefined && wanted.has(k));
    if (keys.length) targets.set(chipId, { keys, energyBefore: recent.energyBefore(chipId) });
  }
  if (targets.size === 0) return out;
  const unfolded = new Map<string, Sample[]>();
  for (const _ of recent.readInto(logRows, new Set(targets.keys()), unfolded, foldedThrough)) {
    const pause = pace.maybePause();
    if (pause) await pause;
  }
  for (const [chipId, samples] of unfolded) {
    samples.sort((a, b) => a.ts - b.ts);
    const unique = samples.filter((s, i) => i === 0 || s.ts !== samples[i - 1].ts);
    const { keys, energyBefore } = targets.get(chipId)!;
    const fresh = unfoldedBuckets(unique, bucketMs, energyBefore).filter((b) => b.start >= from && b.start <= to);
    if (fresh.length === 0) continue;
    for (const key of keys) out.push([key, fresh]);
  }
  return out;
}

/**
 * Buckets of one chip's unfolded samples (ascending ts, unique). Those after the newest folded
 * energy reading pair with it and with each other, as the fold will pair them. A late one, at or
 * before that reading, lands inside a folded pair: the fold splits that pair in two, which moves
 * no energy in the usual case (the two halves add up to the whole), so it counts here with its
 * values but no energy. Pairing it with the newer folded reading instead read as a counter going
 * backwards, a reset: a whole counter's worth of joules.
 */
export function unfoldedBuckets(samples: readonly Sample[], bucketMs: number, energyBefore: EnergyReading | undefined): RollupBucket[] {
  if (!energyBefore || samples.length === 0 || samples[0].ts > energyBefore.ts) return bucketize(samples, bucketMs, energyBefore);
  const firstInOrder = samples.findIndex((s) => s.ts > energyBefore.ts);
  const late = firstInOrder < 0 ? samples : samples.slice(0, firstInOrder);
  const out = bucketize(
    late.map((s) => (s.energyJ === null || s.energyJ === undefined ? s : { ...s, energyJ: null })),
    bucketMs,
  );
  if (firstInOrder >= 0) for (const b of bucketize(samples.slice(firstInOrder), bucketMs, energyBefore)) addInOrder(out, b);
  return out;
}
