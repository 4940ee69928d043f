/**
 * Work rows as stores write and read them (tables work_increments, work_buckets, work_counters,
 * chip_jobs), and the SQLite statements for them. The hub's SQLite store runs the write on its
 * writer thread, in turn with sample commits; reads run on the store's read connection.
 */
import type Database from 'better-sqlite3';
import type { RollupTier } from '../rollups/rollup-fields.ts';
import type { ChipJobSeen, CounterReading, WorkBucketAdd, WorkIncrement } from './work-ledger.ts';

/** One ledger outcome's rows (work-ledger.ts), committed together. */
export interface WorkWrite {
  increments: readonly WorkIncrement[];
  buckets: readonly WorkBucketAdd[];
  counters: readonly { key: string; reading: CounterReading }[];
  chipJobs: readonly ChipJobSeen[];
}

/** A stored increment: `chips` is the chips key (sorted, comma-joined). */
export interface WorkIncrementRow {
  job: string;
  unit: string;
  chips: string;
  fromTs: number;
  toTs: number;
  units: number;
}

export interface WorkBucketRow {
  start: number;
  job: string;
  unit: string;
  chips: string;
  units: number;
  firstTs: number;
  lastTs: number;
}

export interface ChipJobRow {
  chipId: string;
  job: string;
  firstTs: number;
  lastTs: number;
  labels: Record<string, string> | null;
}

/** The work reads a store answers (SQLite, PostgreSQL, memory). */
export interface WorkReads {
  /**
   * Increments overlapping [from, to) (to_ts >= from and from_ts < to). Those wholly inside
   * (from_ts >= from and to_ts < to) come summed per job, unit and chips, spanning their earliest
   * from_ts to their latest to_ts; those across an end of the range come one by one, to be cut.
   */
  workIncrements(from: number, to: number): Promise<WorkIncrementRow[]>;
  /**
   * Buckets of a tier overlapping [from, to); those wholly inside come summed per job, unit and
   * chips (first_ts the earliest, last_ts the latest), those across an end one by one.
   */
  workBuckets(tier: RollupTier, from: number, to: number): Promise<WorkBucketRow[]>;
  /** Every counter series' newest reading. */
  workCounters(): Promise<[string, CounterReading][]>;
  /** Each chip's newest job (by last report), with the span and labels of that job on it. */
  currentChipJobs(): Promise<ChipJobRow[]>;
}

export const parseLabels = (text: string | null): Record<string, string> | null => (text === null ? null : (JSON.parse(text) as Record<string, string>));

/** The write as a transaction on `conn` (call it as `.immediate(...)` to take the write lock up front). */
export function workWriteTransaction(conn: Database.Database): Database.Transaction<(w: WorkWrite) => void> {
  const insertIncrement = conn.prepare('INSERT INTO work_increments (job, unit, chips, from_ts, to_ts, units) VALUES (?, ?, ?, ?, ?, ?)');
  const addBucket = conn.prepare(
    'INSERT INTO work_buckets (tier, start, job, unit, chips, units, first_ts, last_ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ' +
      'ON CONFLICT(tier, start, job, unit, chips) DO UPDATE SET units = units + excluded.units, first_ts = min(first_ts, excluded.first_ts), last_ts = max(last_ts, excluded.last_ts)',
  );
  const setCounter = conn.prepare('INSERT INTO work_counters (key, ts, value) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET ts = excluded.ts, value = excluded.value WHERE excluded.ts > work_counters.ts');
  const seeJob = conn.prepare(
    'INSERT INTO chip_jobs (chip_id, job, first_ts, last_ts, labels) VALUES (?, ?, ?, ?, ?) ' +
      'ON CONFLICT(chip_id, job) DO UPDATE SET first_ts = min(first_ts, excluded.first_ts), last_ts = max(last_ts, excluded.last_ts), labels = coalesce(excluded.labels, labels)',
  );
  return conn.transaction((w: WorkWrite) => {
    for (const i of w.increments) insertIncrement.run(i.job, i.unit, i.chipsKey, i.fromTs, i.toTs, i.units);
    for (const b of w.buckets) addBucket.run(b.tier, b.start, b.job, b.unit, b.chipsKey, b.units, b.firstTs, b.lastTs);
    for (const c of w.counters) setCounter.run(c.key, c.reading.ts, c.reading.value);
    for (const j of w.chipJobs) seeJob.run(j.chipId, j.job, j.ts, j.ts, j.labels === null ? null : JSON.stringify(j.labels));
  });
}

/** Work reads on a SQLite connection. */
export function sqliteWorkReads(conn: Database.Database, bucketMs: (tier: RollupTier) => number): WorkReads {
  // Summed in SQL: a fleet's hour is ~100,000 increments of ~2,000 series (and their chip lists).
  const increments = conn.prepare(
    'SELECT job, unit, chips, from_ts AS fromTs, to_ts AS toTs, units FROM work_increments WHERE to_ts >= :from AND from_ts < :to AND (from_ts < :from OR to_ts >= :to) ' +
      'UNION ALL SELECT job, unit, chips, min(from_ts), max(to_ts), sum(units) FROM work_increments WHERE from_ts >= :from AND to_ts < :to GROUP BY job, unit, chips',
  );
  const buckets = conn.prepare(
    'SELECT start, job, unit, chips, units, first_ts AS firstTs, last_ts AS lastTs FROM work_buckets WHERE tier = :tier AND start > :from - :width AND start < :to AND (start < :from OR start + :width > :to) ' +
      'UNION ALL SELECT min(start), job, unit, chips, sum(units), min(first_ts), max(last_ts) FROM work_buckets WHERE tier = :tier AND start >= :from AND start + :width <= :to GROUP BY job, unit, chips',
  );
  const counters = conn.prepare('SELECT key, ts, value FROM work_counters');
  const current = conn.prepare(
    'SELECT chip_id AS chipId, job, first_ts AS firstTs, last_ts AS lastTs, labels FROM chip_jobs c WHERE last_ts = (SELECT max(last_ts) FROM chip_jobs d WHERE d.chip_id = c.chip_id)',
  );
  return {
    async workIncrements(from, to) {
      return increments.all({ from, to }) as WorkIncrementRow[];
    },
    async workBuckets(tier, from, to) {
      return buckets.all({ tier, from, to, width: bucketMs(tier) }) as WorkBucketRow[];
    },
    async workCounters() {
      return (counters.all() as { key: string; ts: number; value: number }[]).map((r) => [r.key, { ts: r.ts, value: r.value }]);
    },
    async currentChipJobs() {
      return (current.all() as (Omit<ChipJobRow, 'labels'> & { labels: string | null })[]).map((r) => ({ ...r, labels: parseLabels(r.labels) }));
    },
  };
}

/**
 * One bounded retention step over the work rows on SQLite (at most `limit` rows a table): increments
 * and counters of silent series with raw samples, buckets with their tier, chip-job spans with the
 * 1-hour tier. Returns rows deleted.
 */
export function workRetentionStep(conn: Database.Database, limit: number): (cutoffs: { raw: number; m1: number; h1: number }) => number {
  const dropIncrements = conn.prepare(`DELETE FROM work_increments WHERE rowid IN (SELECT rowid FROM work_increments WHERE to_ts < ? LIMIT ${limit})`);
  const dropBuckets = conn.prepare(`DELETE FROM work_buckets WHERE rowid IN (SELECT rowid FROM work_buckets WHERE tier = ? AND start < ? LIMIT ${limit})`);
  const dropJobs = conn.prepare(`DELETE FROM chip_jobs WHERE rowid IN (SELECT rowid FROM chip_jobs WHERE last_ts < ? LIMIT ${limit})`);
  const dropCounters = conn.prepare(`DELETE FROM work_counters WHERE rowid IN (SELECT rowid FROM work_counters WHERE ts < ? LIMIT ${limit})`);
  return (c) => dropIncrements.run(c.raw).changes + dropBuckets.run('1m', c.m1).changes + dropBuckets.run('1h', c.h1).changes + dropJobs.run(c.h1).changes + dropCounters.run(c.raw).changes;
}

/** Work rows held in memory (the memory store's), with the same semantics as the SQL tables. */
export function memoryWorkRows(bucketMs: (tier: RollupTier) => number): WorkReads & { writeWork(w: WorkWrite): Promise<void>; dropBefore(cutoffs: { raw: number; m1: number; h1: number }): void } {
  let increments: WorkIncrementRow[] = [];
  const buckets = new Map<string, WorkBucketRow & { tier: RollupTier }>();
  const counters = new Map<string, CounterReading>();
  const spans = new Map<string, ChipJobRow>();
  return {
    async writeWork(w) {
      for (const i of w.increments) increments.push({ job: i.job, unit: i.unit, chips: i.chipsKey, fromTs: i.fromTs, toTs: i.toTs, units: i.units });
      for (const b of w.buckets) {
        const key = `${b.tier}\u0000${b.start}\u0000${b.job}\u0000${b.unit}\u0000${b.chipsKey}`;
        const s = buckets.get(key);
        if (s) (s.units += b.units), (s.firstTs = Math.min(s.firstTs, b.firstTs)), (s.lastTs = Math.max(s.lastTs, b.lastTs));
        else buckets.set(key, { tier: b.tier, start: b.start, job: b.job, unit: b.unit, chips: b.chipsKey, units: b.units, firstTs: b.firstTs, lastTs: b.lastTs });
      }
      for (const c of w.counters) if ((counters.get(c.key)?.ts ?? -Infinity) < c.reading.ts) counters.set(c.key, c.reading);
      for (const j of w.chipJobs) {
        const key = `${j.chipId}\u0000${j.job}`;
        const s = spans.get(key);
        if (s) (s.firstTs = Math.min(s.firstTs, j.ts)), (s.lastTs = Math.max(s.lastTs, j.ts)), (s.labels = j.labels ?? s.labels);
        else spans.set(key, { chipId: j.chipId, job: j.job, firstTs: j.ts, lastTs: j.ts, labels: j.labels === null ? null : { ...j.labels } });
      }
    },
    async workIncrements(from, to) {
      // One by one (summing the ones inside is an optimisation the SQL stores make).
      return increments.filter((i) => i.toTs >= from && i.fromTs < to).sort((a, b) => a.toTs - b.toTs);
    },
    async workBuckets(tier, from, to) {
      return [...buckets.values()]
        .filter((b) => b.tier === tier && b.start > from - bucketMs(tier) && b.start < to)
        .sort((a, b) => a.start - b.start)
        .map(({ tier: _tier, ...b }) => b);
    },
    async workCounters() {
      return [...counters];
    },
    async currentChipJobs() {
      const newest = new Map<string, ChipJobRow>();
      for (const s of spans.values()) if ((newest.get(s.chipId)?.lastTs ?? -Infinity) < s.lastTs) newest.set(s.chipId, s);
      return [...newest.values()];
    },
    dropBefore(c) {
      increments = increments.filter((i) => i.toTs >= c.raw);
      for (const [key, b] of buckets) if (b.start < (b.tier === '1m' ? c.m1 : c.h1)) buckets.delete(key);
      for (const [key, s] of spans) if (s.lastTs < c.h1) spans.delete(key);
      for (const [key, r] of counters) if (r.ts < c.raw) counters.delete(key);
    },
  };
}
