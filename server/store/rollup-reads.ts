/**
 * Reads of the rollup tiers for the SQLite store: stored rows decoded and cut to the range, plus
 * the samples still in the sample log (not yet folded) bucketed on the fly, so answers are current.
 */
import type Database from 'better-sqlite3';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { chips } from '../../schema/tables.ts';
import { bucketize } from '../rollups/bucketize.ts';
import { mergeBucket, type RollupBucket } from '../rollups/rollup-bucket.ts';
import { decodeRollupColumns } from '../rollups/rollup-codec.ts';
import { bucketsOf, columnsOf, RowColumns } from '../rollups/rollup-columns.ts';
import { bucketStart, fleetKey, ROLLUP_FIELDS, TIERS, type RollupField, type RollupTier } from '../rollups/rollup-fields.ts';
import type { RecentSamples } from './recent-samples.ts';

export interface RollupRead {
  tier: RollupTier;
  keys: readonly string[];
  from: number;
  to: number;
  /** Decode only these fields' stats, and energy only when `energyJ` is among them. */
  fields?: readonly (RollupField | 'energyJ')[];
}

const statements = new WeakMap<Database.Database, Database.Statement>();

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
 * The stored rows of each key in order, then the buckets of samples not yet folded (a bucket
 * start may repeat: merge). Buckets outside [from, to] may be passed; the sink cuts.
 */
export function readRollupsInto(client: Database.Database, db: BetterSQLite3Database, recent: RecentSamples, q: RollupRead, sink: RollupSink): void {
  const { tier, keys, from, to } = q;
  const { bucketMs, rowSpanMs } = TIERS[tier];
  const only = q.fields ? new Set(q.fields.map((f) => ROLLUP_FIELDS.indexOf(f as RollupField)).filter((i) => i >= 0)) : undefined;
  const energy = !q.fields || q.fields.includes('energyJ');
  const cols = new RowColumns();
  const st = rowsOf(client);
  for (const key of keys) {
    for (const [rowStart, data] of st.all(tier, key, bucketStart(from, rowSpanMs), to) as [number, Buffer][]) {
      sink(key, decodeRollupColumns(data, rowStart, bucketMs, cols, only, energy));
    }
  }
  if (recent.size > 0) overlayRecent(db, recent, (key, buckets) => sink(key, columnsOf(buckets, cols)), bucketMs, new Set(keys), from, to);
}

/** As readRollupsInto, collected into bucket objects per key, cut to [from, to]. */
export function readRollups(client: Database.Database, db: BetterSQLite3Database, recent: RecentSamples, q: RollupRead): Map<string, RollupBucket[]> {
  const out = new Map<string, RollupBucket[]>();
  readRollupsInto(client, db, recent, q, (key, cols) => {
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

/** The buckets of the not-yet-folded samples for the requested chip and fleet keys. */
function overlayRecent(
  db: BetterSQLite3Database,
  recent: RecentSamples,
  sink: (key: string, buckets: RollupBucket[]) => void,
  bucketMs: number,
  wanted: Set<string>,
  from: number,
  to: number,
): void {
  const wantsFleet = [...wanted].some((k) => k.startsWith('@'));
  const groups = wantsFleet ? new Map(db.select({ id: chips.id, vendor: chips.vendor, model: chips.model }).from(chips).all().map((c) => [c.id, fleetKey(c.vendor, c.model)])) : null;
  for (const chipId of recent.chips()) {
    const targets = [chipId, groups?.get(chipId)].filter((k): k is string => k !== undefined && wanted.has(k));
    if (targets.length === 0) continue;
    const samples = recent.chip(chipId, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY).sort((a, b) => a.ts - b.ts);
    const unique = samples.filter((s, i) => i === 0 || s.ts !== samples[i - 1].ts);
    const fresh = bucketize(unique, bucketMs, recent.energyBefore(chipId)).filter((b) => b.start >= from && b.start <= to);
    if (fresh.length === 0) continue;
    for (const key of targets) sink(key, fresh);
  }
}
