/**
 * Reads of the rollup tiers for the SQLite store: stored rows decoded and cut to the range, plus
 * the samples still in the sample log (not yet folded) bucketed on the fly, so answers are current.
 */
import type Database from 'better-sqlite3';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { chips } from '../../schema/tables.ts';
import { bucketize } from '../rollups/bucketize.ts';
import { mergeBucket, type RollupBucket } from '../rollups/rollup-bucket.ts';
import { decodeRollupRow } from '../rollups/rollup-codec.ts';
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

export function readRollups(client: Database.Database, db: BetterSQLite3Database, recent: RecentSamples, q: RollupRead): Map<string, RollupBucket[]> {
  const { tier, keys, from, to } = q;
  const { bucketMs, rowSpanMs } = TIERS[tier];
  const only = q.fields ? new Set(q.fields.map((f) => ROLLUP_FIELDS.indexOf(f as RollupField)).filter((i) => i >= 0)) : undefined;
  const energy = !q.fields || q.fields.includes('energyJ');
  const out = new Map<string, RollupBucket[]>();
  const st = rowsOf(client);
  for (const key of keys) {
    const list: RollupBucket[] = [];
    for (const [rowStart, data] of st.all(tier, key, bucketStart(from, rowSpanMs), to) as [number, Buffer][]) {
      for (const b of decodeRollupRow(data, rowStart, bucketMs, only, energy)) if (b.start >= from && b.start <= to) list.push(b);
    }
    if (list.length) out.set(key, list);
  }
  if (recent.size > 0) overlayRecent(db, recent, out, bucketMs, new Set(keys), from, to);
  return out;
}

/** Merge buckets of the not-yet-folded samples into `out` for the requested chip and fleet keys. */
function overlayRecent(
  db: BetterSQLite3Database,
  recent: RecentSamples,
  out: Map<string, RollupBucket[]>,
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
    for (const key of targets) {
      const list = out.get(key) ?? [];
      const byStart = new Map(list.map((b) => [b.start, b]));
      for (const b of fresh) {
        const have = byStart.get(b.start);
        if (have) mergeBucket(have, b);
        else {
          const copy = { ...b, f: b.f.map((s) => (s ? { ...s } : null)) };
          byStart.set(b.start, copy);
        }
      }
      out.set(key, [...byStart.values()].sort((a, b) => a.start - b.start));
    }
  }
}
