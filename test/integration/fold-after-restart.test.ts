import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../server/store/sqlite-store.ts';
import { chipInfo, sample } from '../helpers/frames.ts';
import { tempDir } from '../../bench/support/temp-dir.ts';

const T0 = Date.UTC(2026, 10, 26, 10);
const reg = { agentId: 'agent-a', agentVersion: 't', intervalMs: 1000, host: { hostname: 'h1', instanceId: 'i-1', instanceType: 'p5.48xlarge' }, chips: [0, 1, 2].map((i) => chipInfo(i)) };
const energy = (i: number) => 1000 + 10 * i;
const at = (chip: number, seconds: number[]) => seconds.map((i) => sample(`GPU-test-${chip}`, T0 + i * 1000, { powerW: 100 + i, energyJ: energy(i) }));
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

describe('the first fold after a restart (each chip\'s tail read from its newest chunk)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let path: string;
  beforeEach(() => {
    tmp = tempDir();
    path = join(tmp.dir, 'hub.db');
  });
  afterEach(() => tmp.cleanup());

  it('pairs energy across the restart, merges a late sample into the chunk it falls in, and stores a chip with no chunk yet', async () => {
    let store = await openSqliteStore(path);
    await store.registerAgent(reg, T0);
    await store.insertBatch('agent-a', 0, [...at(0, range(0, 20)), ...at(1, range(0, 20))]);
    await store.close(); // folds the log: chips 0 and 1 have one chunk each, up to T0 + 19 s

    // A new compactor knows no chip: chip 0 continues in order, chip 1 gets a late sample inside
    // its stored chunk and later ones, chip 2 has nothing stored yet.
    store = await openSqliteStore(path);
    await store.insertBatch('agent-a', 1, [...at(0, range(20, 40)), ...at(1, [10.5, ...range(20, 30)]), ...at(2, range(0, 10))]);
    await store.flush();
    const minute = await store.rollups('1m', ['GPU-test-0', 'GPU-test-1', 'GPU-test-2'], T0, T0 + 60_000, ['powerW', 'energyJ']);
    // Joules used in the minute: every pair of consecutive readings, the one across the restart
    // (19 s → 20 s) included.
    expect(minute.get('GPU-test-0')![0]).toMatchObject({ n: 40, energyJ: energy(39) - energy(0) });
    expect(minute.get('GPU-test-1')![0]).toMatchObject({ n: 31, energyJ: energy(29) - energy(0) });
    expect(minute.get('GPU-test-2')![0]).toMatchObject({ n: 10, energyJ: energy(9) - energy(0) });
    const one = await store.chipSamples('GPU-test-1', T0, T0 + 60_000, 100);
    expect(one.map((s) => (s.ts - T0) / 1000)).toEqual([...range(0, 11), 10.5, ...range(11, 20), ...range(20, 30)].sort((a, b) => a - b));
    await store.close();

    const db = new Database(path, { readonly: true });
    const chunks = db.prepare('SELECT chip_id AS chip, start_ts AS s, end_ts AS e, n FROM sample_chunks ORDER BY chip_id, start_ts').all() as { chip: string; s: number; e: number; n: number }[];
    db.close();
    for (const chip of ['GPU-test-0', 'GPU-test-1', 'GPU-test-2']) {
      const mine = chunks.filter((c) => c.chip === chip);
      for (let i = 1; i < mine.length; i++) expect(mine[i].s).toBeGreaterThan(mine[i - 1].e);
    }
    expect(chunks.reduce((n, c) => n + c.n, 0)).toBe(40 + 31 + 10);
  });
});
