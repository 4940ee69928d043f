/**
 * Work rows on every store (SQLite, PostgreSQL, memory): what is written reads back the same way —
 * rows inside a range may come summed per series, rows across its ends come whole — and retention
 * drops each kind of row with its tier.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../bench/support/temp-dir.ts';
import { openMemoryStore } from '../../server/store/memory-store.ts';
import { openPgStore } from '../../server/store/pg/pg-store.ts';
import { openSqliteStore } from '../../server/store/sqlite-store.ts';
import type { Retention, Store } from '../../server/store/store.ts';
import { WorkLedger } from '../../server/work/work-ledger.ts';
import { WorkTally } from '../../server/work/efficiency-report.ts';
import { PG_URL, pgClient } from '../helpers/store-contract.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const retention: Retention = { rawMs: 2 * HOUR, m1Ms: 1 * DAY, h1Ms: 3 * DAY };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const STORES: { name: string; open(): Promise<Store> }[] = [
  {
    name: 'SQLite',
    async open() {
      const tmp = tempDir();
      const s = await openSqliteStore(join(tmp.dir, 'w.db'), { retention, retentionEveryMs: 3_600_000 });
      cleanups.push(async () => (await s.close(), tmp.cleanup()));
      return s;
    },
  },
  {
    name: 'PostgreSQL',
    async open() {
      const schema = `fs_work_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
      const s = await openPgStore(PG_URL, { schema, retention, retentionEveryMs: 3_600_000 });
      cleanups.push(async () => {
        await s.close();
        const c = await pgClient();
        await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await c.end();
      });
      return s;
    },
  },
  {
    name: 'memory',
    async open() {
      return openMemoryStore({ retention });
    },
  },
];

/** A job reporting 100 tokens a minute on two chips from `start` for `minutes`. */
function reports(start: number, minutes: number) {
  return Array.from({ length: minutes + 1 }, (_, i) => ({ ts: start + i * 60_000, job: 'j', counters: { tokens: 100 * i } }));
}

describe.each(STORES)('work rows: $name', ({ open }) => {
  it('reads back the work of any range, on every tier', async () => {
    const store = await open();
    const now = Date.now();
    const start = Math.floor((now - 90 * 60_000) / 60_000) * 60_000 + 30_000;
    const out = new WorkLedger().apply('a', ['c1', 'c2'], reports(start, 80));
    await store.writeWork(out);
    for (const [from, to, want] of [
      [start, start + 80 * 60_000 + 1, 8000],
      [start + 10 * 60_000, start + 20 * 60_000, 1000],
      [start + 15 * 60_000, start + 15 * 60_000 + 30_000, 50],
    ]) {
      const raw = new WorkTally(from, to).addIncrements(await store.workIncrements(from, to)).rows();
      expect(raw.reduce((n, w) => n + w.units, 0)).toBeCloseTo(want, 6);
      expect(new Set(raw.map((w) => w.chipId))).toEqual(new Set(['c1', 'c2']));
      // Buckets hold the same work; a range cutting a bucket counts its covered part evenly.
      const m1 = new WorkTally(from, to).addBuckets(await store.workBuckets('1m', from, to)).rows();
      expect(m1.reduce((n, w) => n + w.units, 0)).toBeCloseTo(want, 6);
    }
    const h1 = new WorkTally(start - HOUR, start + 3 * HOUR).addBuckets(await store.workBuckets('1h', start - HOUR, start + 3 * HOUR)).rows();
    expect(h1.reduce((n, w) => n + w.units, 0)).toBeCloseTo(8000, 6);
    expect((await store.workCounters()).map(([, r]) => r)).toEqual([{ ts: start + 80 * 60_000, value: 8000 }]);
    expect((await store.currentChipJobs()).map((j) => [j.chipId, j.job]).sort()).toEqual([
      ['c1', 'j'],
      ['c2', 'j'],
    ]);
  });

  it('drops work rows with their tier: increments and counters with raw samples, buckets with theirs', async () => {
    const store = await open();
    const now = Date.now();
    // A series that stopped 5 h ago (past raw, within 1m), and one that stopped 2 days ago (past 1m, within 1h).
    await store.writeWork(new WorkLedger().apply('a', ['c1'], reports(now - 6 * HOUR, 30)));
    await store.writeWork(new WorkLedger().apply('b', ['c2'], reports(now - 2 * DAY, 30)));
    await store.enforceRetention(now);
    expect(await store.workIncrements(0, now)).toEqual([]);
    expect(await store.workCounters()).toEqual([]);
    const m1 = await store.workBuckets('1m', 0, now);
    expect(new Set(m1.map((b) => b.chips))).toEqual(new Set(['c1']));
    const h1 = await store.workBuckets('1h', 0, now);
    expect(new Set(h1.map((b) => b.chips))).toEqual(new Set(['c1', 'c2']));
  });
});
