/** Retention per tier on the real SQLite store: old data goes, in steps, and the file shrinks. */
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { openSqliteStore } from '../../server/store/sqlite-store.ts';
import type { Store } from '../../server/store/store.ts';
import { chipInfo, sample } from '../helpers/frames.ts';
import { tempDir } from '../../bench/support/temp-dir.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 10, 26, 12, 30);
const CHIPS = Array.from({ length: 8 }, (_, i) => chipInfo(i));
const reg = { agentId: 'agent-t', agentVersion: 't', intervalMs: 1000, host: { hostname: 'h-t', instanceId: null, instanceType: null }, chips: CHIPS };

/** Every chip, one sample a minute over the last `days` days. */
async function fill(store: Store, days: number, end = NOW) {
  let seq = 0;
  for (let t = end - days * DAY; t <= end; t += 6 * HOUR) {
    const samples = [];
    for (let ts = t; ts < Math.min(t + 6 * HOUR, end + 1); ts += 60_000) for (const c of CHIPS) samples.push(sample(c.chipId, ts, { energyJ: ts / 1000 }));
    await store.insertBatch('agent-t', seq++, samples);
  }
  await store.flush();
}

describe('retention', () => {
  const tmp = tempDir();
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it('keeps each tier for its own time and gives the pages back', async () => {
    const path = join(tmp.dir, 'r1.db');
    store = await openSqliteStore(path, { retention: { rawMs: 6 * HOUR, m1Ms: 2 * DAY, h1Ms: 5 * DAY }, retentionEveryMs: 3_600_000 });
    await store.registerAgent(reg, NOW);
    await fill(store, 8);
    const chip = CHIPS[0].chipId;
    expect((await store.chipSamples(chip, NOW - 8 * DAY, NOW, 1e6)).length).toBe(8 * 24 * 60 + 1);
    const pages = () => {
      const d = new Database(path, { readonly: true });
      const n = d.pragma('page_count', { simple: true }) as number;
      d.close();
      return n;
    };
    const pagesBefore = pages();

    await store.enforceRetention(NOW);

    const raw = await store.chipSamples(chip, NOW - 8 * DAY, NOW, 1e6);
    // Whole chunks go once their newest sample is past the cutoff: nothing older than the cutoff
    // minus one chunk's span is left, and everything newer than the cutoff is kept.
    expect(raw[0].ts).toBeGreaterThan(NOW - 6 * HOUR - 4096 * 60_000);
    expect(raw.filter((s) => s.ts >= NOW - 6 * HOUR).length).toBe(6 * 60 + 1);
    const m1 = (await store.rollups('1m', [chip], 0, NOW)).get(chip)!;
    // A row (one hour of minute buckets) goes when its whole hour is past the cutoff.
    expect(m1[0].start).toBe(Math.floor((NOW - 2 * DAY) / HOUR) * HOUR);
    expect(m1.at(-1)!.start).toBe(NOW - (NOW % 60_000));
    const h1 = (await store.rollups('1h', [chip], 0, NOW)).get(chip)!;
    expect(h1[0].start).toBe(Math.floor((NOW - 5 * DAY) / DAY) * DAY);
    expect(h1.length).toBeGreaterThan(5 * 24);

    const db = new Database(path, { readonly: true });
    expect(db.pragma('auto_vacuum', { simple: true })).toBe(2); // incremental
    expect(db.pragma('freelist_count', { simple: true })).toBe(0);
    db.close();
    // Most of the data was past retention: the database gave most of its pages back.
    expect(pages()).toBeLessThan(pagesBefore * 0.6);
    await store.close();
    store = undefined;
    expect(statSync(path).size).toBeLessThan(pagesBefore * 4096 * 0.6);
  });

  it("gives the folded log's free pages back when it closes, keeping every sample", async () => {
    const path = join(tmp.dir, 'close.db');
    store = await openSqliteStore(path, { retentionEveryMs: 3_600_000 });
    await store.registerAgent(reg, NOW);
    await fill(store, 4);
    const free = () => {
      const d = new Database(path, { readonly: true });
      try {
        return { free: d.pragma('freelist_count', { simple: true }) as number, pages: d.pragma('page_count', { simple: true }) as number };
      } finally {
        d.close();
      }
    };
    // Folded, the log's rows are gone and their pages free (nothing is past retention here).
    const open = free();
    expect(open.free).toBeGreaterThan(100);
    await store.close();
    store = undefined;
    const closed = free();
    expect(closed.free).toBe(0);
    expect(closed.pages).toBeLessThanOrEqual(open.pages - open.free);
    expect(statSync(path).size).toBe(closed.pages * 4096);
    store = await openSqliteStore(path, { retentionEveryMs: 3_600_000 });
    expect((await store.chipSamples(CHIPS[3].chipId, NOW - 4 * DAY, NOW, 1e6)).length).toBe(4 * 24 * 60 + 1);
  });

  it('runs by itself on its schedule', async () => {
    const path = join(tmp.dir, 'r2.db');
    store = await openSqliteStore(path, { retention: { rawMs: 1 * HOUR, m1Ms: 1 * DAY, h1Ms: 2 * DAY }, retentionEveryMs: 100 });
    await store.registerAgent(reg, NOW);
    // A day of data ending 3 hours ago, by the wall clock the job uses.
    const end = Date.now() - 3 * HOUR;
    await fill(store, 1, end);
    const chip = CHIPS[0].chipId;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && (await store.chipSamples(chip, 0, end, 10)).length > 0) await new Promise((r) => setTimeout(r, 100));
    expect(await store.chipSamples(chip, 0, end, 10)).toEqual([]);
    // The minute tier (kept a day) still holds the last day.
    expect((await store.rollups('1m', [chip], end - 20 * HOUR, end)).get(chip)?.length).toBeGreaterThan(19 * 60);
  });

  it('converts a database file made without incremental vacuum, keeping its data', async () => {
    const path = join(tmp.dir, 'old.db');
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    old.exec('CREATE TABLE keep_me (x INTEGER); INSERT INTO keep_me VALUES (42);');
    expect(old.pragma('auto_vacuum', { simple: true })).toBe(0);
    old.close();
    store = await openSqliteStore(path);
    await store.close();
    store = undefined;
    const db = new Database(path, { readonly: true });
    expect(db.pragma('auto_vacuum', { simple: true })).toBe(2);
    expect(db.prepare('SELECT x FROM keep_me').pluck().get()).toBe(42);
    db.close();
  });
});
