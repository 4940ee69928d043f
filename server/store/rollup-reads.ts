/**
 * Reads of the rollup tiers for the SQLite store: stored rows decoded and cut to the range, plus
 * the samples still in the sample log (not yet folded) bucketed on the fly, so answers are current.
 */
import { and, eq, gte, inArray, lte } from 'drizzle-orm';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { chips, rollups } from '../../schema/tables.ts';
import { bucketize } from '../rollups/bucketize.ts';
import { mergeBucket, type RollupBucket } from '../rollups/rollup-bucket.ts';
import { decodeRollupRow } from '../rollups/rollup-codec.ts';
import { bucketStart, fleetKey, TIERS, type RollupTier } from '../rollups/rollup-fields.ts';
import type { RecentSamples } from './recent-samples.ts';

/** Keys per IN (...) list. */
const KEYS_PER_QUERY = 500;

export function readRollups(
  db: BetterSQLite3Database,
  recent: RecentSamples,
  tier: RollupTier,
  keys: readonly string[],
  from: number,
  to: number,
): Map<string, RollupBucket[]> {
  const { bucketMs, rowSpanMs } = TIERS[tier];
  const out = new Map<string, RollupBucket[]>();
  for (let i = 0; i < keys.length; i += KEYS_PER_QUERY) {
    const part = keys.slice(i, i + KEYS_PER_QUERY);
    const rows = db
      .select()
      .from(rollups)
      .where(and(eq(rollups.tier, tier), inArray(rollups.key, part), gte(rollups.rowStart, bucketStart(from, rowSpanMs)), lte(rollups.rowStart, to)))
      .orderBy(rollups.key, rollups.rowStart)
      .all();
    for (const r of rows) {
      const buckets = decodeRollupRow(r.data, r.rowStart, bucketMs).filter((b) => b.start >= from && b.start <= to);
      if (buckets.length === 0) continue;
      const list = out.get(r.key);
      if (list) list.push(...buckets);
      else out.set(r.key, buckets);
    }
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
