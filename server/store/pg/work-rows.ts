/**
 * Work rows on PostgreSQL (the tables of schema/pg/tables.ts; shapes in server/work/work-rows.ts):
 * one transaction per write, with each table's rows in one statement (unnest); reads and retention.
 */
import type pg from 'pg';
import { TIERS, type RollupTier } from '../../rollups/rollup-fields.ts';
import { inTransaction } from './pg-connection.ts';
import { parseLabels, type ChipJobRow, type WorkBucketRow, type WorkIncrementRow, type WorkReads, type WorkWrite } from '../../work/work-rows.ts';

export function writeWork(pool: pg.Pool, w: WorkWrite): Promise<void> {
  return inTransaction(pool, async (client) => {
    if (w.increments.length > 0) {
      const i = w.increments;
      await client.query(
        'INSERT INTO work_increments (job, unit, chips, from_ts, to_ts, units) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[], $6::float8[])',
        [i.map((x) => x.job), i.map((x) => x.unit), i.map((x) => x.chipsKey), i.map((x) => x.fromTs), i.map((x) => x.toTs), i.map((x) => x.units)],
      );
    }
    if (w.buckets.length > 0) {
      // Rows of one statement must not hit one key twice: sum them first.
      const sums = new Map<string, { tier: RollupTier; start: number; job: string; unit: string; chips: string; units: number; firstTs: number; lastTs: number }>();
      for (const b of w.buckets) {
        const key = `${b.tier}\u0000${b.start}\u0000${b.job}\u0000${b.unit}\u0000${b.chipsKey}`;
        const s = sums.get(key);
        if (s) (s.units += b.units), (s.firstTs = Math.min(s.firstTs, b.firstTs)), (s.lastTs = Math.max(s.lastTs, b.lastTs));
        else sums.set(key, { tier: b.tier, start: b.start, job: b.job, unit: b.unit, chips: b.chipsKey, units: b.units, firstTs: b.firstTs, lastTs: b.lastTs });
      }
      const b = [...sums.values()];
      await client.query(
        'INSERT INTO work_buckets AS w (tier, start, job, unit, chips, units, first_ts, last_ts) SELECT * FROM unnest($1::text[], $2::int8[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::int8[], $8::int8[]) ' +
          'ON CONFLICT (tier, start, job, unit, chips) DO UPDATE SET units = w.units + excluded.units, first_ts = least(w.first_ts, excluded.first_ts), last_ts = greatest(w.last_ts, excluded.last_ts)',
        [b.map((x) => x.tier), b.map((x) => x.start), b.map((x) => x.job), b.map((x) => x.unit), b.map((x) => x.chips), b.map((x) => x.units), b.map((x) => x.firstTs), b.map((x) => x.lastTs)],
      );
    }
    if (w.counters.length > 0) {
      const newest = new Map<string, { ts: number; value: number }>();
      for (const c of w.counters) if ((newest.get(c.key)?.ts ?? -Infinity) < c.reading.ts) newest.set(c.key, c.reading);
      const keys = [...newest.keys()];
      await client.query(
        'INSERT INTO work_counters AS w (key, ts, value) SELECT * FROM unnest($1::text[], $2::int8[], $3::float8[]) ON CONFLICT (key) DO UPDATE SET ts = excluded.ts, value = excluded.value WHERE excluded.ts > w.ts',
        [keys, keys.map((k) => newest.get(k)!.ts), keys.map((k) => newest.get(k)!.value)],
      );
    }
    if (w.chipJobs.length > 0) {
      const spans = new Map<string, { chipId: string; job: string; first: number; last: number; labels: string | null }>();
      for (const j of w.chipJobs) {
        const key = `${j.chipId}\u0000${j.job}`;
        const s = spans.get(key);
        const labels = j.labels === null ? null : JSON.stringify(j.labels);
        if (s) (s.first = Math.min(s.first, j.ts)), (s.last = Math.max(s.last, j.ts)), (s.labels = labels ?? s.labels);
        else spans.set(key, { chipId: j.chipId, job: j.job, first: j.ts, last: j.ts, labels });
      }
      const s = [...spans.values()];
      await client.query(
        'INSERT INTO chip_jobs AS c (chip_id, job, first_ts, last_ts, labels) SELECT * FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[], $5::text[]) ' +
          'ON CONFLICT (chip_id, job) DO UPDATE SET first_ts = least(c.first_ts, excluded.first_ts), last_ts = greatest(c.last_ts, excluded.last_ts), labels = coalesce(excluded.labels, c.labels)',
        [s.map((x) => x.chipId), s.map((x) => x.job), s.map((x) => x.first), s.map((x) => x.last), s.map((x) => x.labels)],
      );
    }
  });
}

export function pgWorkReads(pool: pg.Pool): WorkReads {
  return {
    async workIncrements(from, to) {
      const r = await pool.query<WorkIncrementRow>(
        'SELECT job, unit, chips, from_ts AS "fromTs", to_ts AS "toTs", units FROM work_increments WHERE to_ts >= $1::int8 AND from_ts < $2::int8 AND (from_ts < $1::int8 OR to_ts >= $2::int8) ' +
          'UNION ALL SELECT job, unit, chips, min(from_ts), max(to_ts), sum(units) FROM work_increments WHERE from_ts >= $1::int8 AND to_ts < $2::int8 GROUP BY job, unit, chips',
        [from, to],
      );
      return r.rows;
    },
    async workBuckets(tier, from, to) {
      const r = await pool.query<WorkBucketRow>(
        'SELECT start, job, unit, chips, units, first_ts AS "firstTs", last_ts AS "lastTs" FROM work_buckets WHERE tier = $1 AND start > $2::int8 - $4::int8 AND start < $3::int8 AND (start < $2::int8 OR start + $4::int8 > $3::int8) ' +
          'UNION ALL SELECT min(start), job, unit, chips, sum(units), min(first_ts), max(last_ts) FROM work_buckets WHERE tier = $1 AND start >= $2::int8 AND start + $4::int8 <= $3::int8 GROUP BY job, unit, chips',
        [tier, from, to, TIERS[tier].bucketMs],
      );
      return r.rows;
    },
    async workCounters() {
      const r = await pool.query<{ key: string; ts: number; value: number }>('SELECT key, ts, value FROM work_counters');
      return r.rows.map((x) => [x.key, { ts: x.ts, value: x.value }]);
    },
    async currentChipJobs() {
      const r = await pool.query<Omit<ChipJobRow, 'labels'> & { labels: string | null }>(
        'SELECT DISTINCT ON (chip_id) chip_id AS "chipId", job, first_ts AS "firstTs", last_ts AS "lastTs", labels FROM chip_jobs ORDER BY chip_id, last_ts DESC',
      );
      return r.rows.map((x) => ({ ...x, labels: parseLabels(x.labels) }));
    },
  };
}

/** Retention of work rows: increments and silent series' counters with raw samples, buckets with their tier, spans with the 1-hour tier. */
export async function workRetention(pool: pg.Pool, cutoffs: { raw: number; m1: number; h1: number }): Promise<number> {
  let n = 0;
  n += (await pool.query('DELETE FROM work_increments WHERE to_ts < $1', [cutoffs.raw])).rowCount ?? 0;
  n += (await pool.query('DELETE FROM work_buckets WHERE tier = $1 AND start < $2', ['1m', cutoffs.m1])).rowCount ?? 0;
  n += (await pool.query('DELETE FROM work_buckets WHERE tier = $1 AND start < $2', ['1h', cutoffs.h1])).rowCount ?? 0;
  n += (await pool.query('DELETE FROM chip_jobs WHERE last_ts < $1', [cutoffs.h1])).rowCount ?? 0;
  n += (await pool.query('DELETE FROM work_counters WHERE ts < $1', [cutoffs.raw])).rowCount ?? 0;
  return n;
}
