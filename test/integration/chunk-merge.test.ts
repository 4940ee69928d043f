import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../server/store/sqlite-store.ts';
import { ChunkMerger, MERGE_AFTER_MS } from '../../server/store/writer/chunk-merge.ts';
import { isPlainChunk } from '../../server/store/chunk-codec.ts';
import { chipInfo, sample } from '../helpers/frames.ts';
import { tempDir } from '../../bench/support/temp-dir.ts';

const reg = { agentId: 'agent-a', agentVersion: 't', intervalMs: 1000, host: { hostname: 'h1', instanceId: 'i-1', instanceType: 'p5.48xlarge' }, chips: [chipInfo(0), chipInfo(1)] };
const NOW = Date.UTC(2026, 10, 26, 12);

describe('merging old small chunks', () => {
  let tmp: ReturnType<typeof tempDir>;
  let path: string;
  beforeEach(() => {
    tmp = tempDir();
    path = join(tmp.dir, 'hub.db');
  });
  afterEach(() => tmp.cleanup());

  it('rewrites a chip\'s small chunks older than 10 min as chunks of up to 600 samples; reads answer the same; newer chunks are left alone', async () => {
    const T0 = NOW - 40 * 60_000;
    let store = await openSqliteStore(path);
    await store.registerAgent(reg, T0);
    // 30 folds of 20 samples a chip (a chunk of 20 each, as folds every 20 s at 1 Hz leave them),
    // the last 30 minutes of it older than the merge age, the rest newer.
    const all = Array.from({ length: 1_200 }, (_, i) => sample(`GPU-test-${i % 2}`, T0 + Math.floor(i / 2) * 2_000, { powerW: 100 + (i % 37) }));
    for (let i = 0; i < all.length; i += 40) {
      await store.insertBatch('agent-a', i, all.slice(i, i + 40));
      await store.flush();
    }
    const before = await store.chipSamples('GPU-test-0', 0, NOW, 10_000);
    await store.close();

    const db = new Database(path);
    const chunks = () => db.prepare('select chip_id as chip, start_ts as s, end_ts as e, n, data from sample_chunks order by chip_id, start_ts').all() as { chip: string; s: number; e: number; n: number; data: Buffer }[];
    const old = (cs: ReturnType<typeof chunks>) => cs.filter((c) => c.e <= NOW - MERGE_AFTER_MS);
    const was = chunks();
    expect(old(was).length).toBeGreaterThan(10);
    // The fold leaves its small chunks plain (not deflated): the merge deflates them once.
    expect(was.every((c) => isPlainChunk(c.data))).toBe(true);
    const replaced = new ChunkMerger(db).mergeAll(NOW);
    const now = chunks();
    db.close();

    expect(replaced).toBeGreaterThan(0);
    // Old chunks: one or two per chip, up to 600 samples each, no overlaps; newer chunks as they were.
    for (const chip of ['GPU-test-0', 'GPU-test-1']) {
      const mine = now.filter((c) => c.chip === chip);
      for (let i = 1; i < mine.length; i++) expect(mine[i].s).toBeGreaterThan(mine[i - 1].e);
      expect(old(mine).length).toBeLessThanOrEqual(2);
      expect(old(mine).every((c) => c.n <= 600 && !isPlainChunk(c.data))).toBe(true);
    }
    expect(now.filter((c) => c.e > NOW - MERGE_AFTER_MS)).toEqual(was.filter((c) => c.e > NOW - MERGE_AFTER_MS));
    expect(now.reduce((n, c) => n + c.n, 0)).toBe(all.length);

    store = await openSqliteStore(path);
    expect(await store.chipSamples('GPU-test-0', 0, NOW, 10_000)).toEqual(before);
    expect(await store.countSamples()).toBe(all.length);
    await store.close();
  });

  it('deflates a lone plain chunk once it is old (a chip that stopped reporting), and leaves full deflated chunks alone', async () => {
    const T0 = NOW - 30 * 60_000;
    let store = await openSqliteStore(path);
    await store.registerAgent(reg, T0);
    // Chip 0: one fold of 12 samples (a lone plain chunk). Chip 1: one of 700 (deflated when folded: never merged).
    const few = Array.from({ length: 12 }, (_, i) => sample('GPU-test-0', T0 + i * 1000, { powerW: 100 + i }));
    const many = Array.from({ length: 700 }, (_, i) => sample('GPU-test-1', T0 + i * 1000, { powerW: 200 + (i % 13) }));
    await store.insertBatch('agent-a', 0, [...few, ...many]);
    await store.close();

    const db = new Database(path);
    const chunks = () => db.prepare('select chip_id as chip, n, data from sample_chunks order by chip_id').all() as { chip: string; n: number; data: Buffer }[];
    const was = chunks();
    expect(was.map((c) => [c.chip, c.n, isPlainChunk(c.data)])).toEqual([['GPU-test-0', 12, true], ['GPU-test-1', 700, false]]);
    const replaced = new ChunkMerger(db).mergeAll(NOW);
    const now = chunks();
    db.close();
    expect(replaced).toBe(1);
    expect(now.map((c) => [c.chip, c.n, isPlainChunk(c.data)])).toEqual([['GPU-test-0', 12, false], ['GPU-test-1', 700, false]]);
    expect(now[0].data.length).toBeLessThan(was[0].data.length);
    expect(now[1].data.equals(was[1].data)).toBe(true);

    store = await openSqliteStore(path);
    expect(await store.chipSamples('GPU-test-0', 0, NOW, 100)).toEqual(few);
    await store.close();
  });

  it('a pass with nothing old enough changes nothing, and an empty database is fine', async () => {
    const store = await openSqliteStore(path);
    await store.close();
    const db = new Database(path);
    const merger = new ChunkMerger(db);
    expect(merger.pass(NOW)).toBe(0);
    db.close();
  });
});
