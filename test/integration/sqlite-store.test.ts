import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { openSqliteStore } from '../../server/store/sqlite-store.ts';
import type { Store } from '../../server/store/store.ts';
import { chipInfo, sample } from '../helpers/frames.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const T0 = Date.UTC(2026, 10, 26, 10);
const reg = { agentId: 'agent-a', agentVersion: 't', intervalMs: 1000, host: { hostname: 'h1', instanceId: 'i-1', instanceType: 'p5.48xlarge' }, chips: [chipInfo(0), chipInfo(1)] };

describe('SQLite store (temporary file, real migrations)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let path: string;
  let store: Store;
  beforeEach(() => {
    tmp = tempDir();
    path = join(tmp.dir, 'sub/dir/fleet.db');
    store = openSqliteStore(path);
  });
  afterEach(async () => {
    await store.close();
    tmp.cleanup();
  });

  it('creates the file in WAL mode with the migrated tables', () => {
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const tables = db.prepare("select name from sqlite_master where type='table' order by name").all().map((r: any) => r.name);
    expect(tables).toEqual(expect.arrayContaining(['agents', 'chips', 'hosts', 'samples', '__drizzle_migrations']));
    db.close();
  });

  it('registers agents and chips, and round-trips samples exactly (nulls stay null, flags and extras kept)', async () => {
    await store.registerAgent(reg, T0);
    const neuron = sample('GPU-test-1', T0, { tempC: null, memUtilPct: null, flags: { powerEstimated: true, energyDerived: true }, extras: { nc0: 97.25, nc1: 88 } });
    const gpu = sample('GPU-test-0', T0, { smClockMhz: 1980, eccCorrected: 0, eccUncorrected: 0 });
    expect(await store.insertBatch('agent-a', 0, [gpu, neuron])).toEqual({ stored: 2 });
    expect(await store.chipSamples('GPU-test-1', T0, T0, 10)).toEqual([neuron]);
    expect(await store.chipSamples('GPU-test-0', T0, T0, 10)).toEqual([gpu]);
    const chips = await store.listChips();
    expect(chips.map((c) => [c.chipId, c.host, c.instanceType, c.agentId])).toEqual([
      ['GPU-test-0', 'h1', 'p5.48xlarge', 'agent-a'],
      ['GPU-test-1', 'h1', 'p5.48xlarge', 'agent-a'],
    ]);
  });

  it('is idempotent for a resent batch and counts only new rows', async () => {
    await store.registerAgent(reg, T0);
    const b = [sample('GPU-test-0', T0), sample('GPU-test-0', T0 + 1000)];
    expect((await store.insertBatch('agent-a', 0, b)).stored).toBe(2);
    expect((await store.insertBatch('agent-a', 0, b)).stored).toBe(0);
    expect(await store.countSamples()).toBe(2);
  });

  it('answers ranges in ts order with a limit, and the latest sample per chip', async () => {
    await store.registerAgent(reg, T0);
    const rows = Array.from({ length: 50 }, (_, i) => sample(i % 2 ? 'GPU-test-1' : 'GPU-test-0', T0 + Math.floor(i / 2) * 1000, { powerW: i }));
    await store.insertBatch('agent-a', 0, rows.reverse());
    const got = await store.chipSamples('GPU-test-0', T0 + 5000, T0 + 14_000, 100);
    expect(got.map((s) => s.ts)).toEqual(Array.from({ length: 10 }, (_, i) => T0 + 5000 + i * 1000));
    expect((await store.chipSamples('GPU-test-0', T0, T0 + 1e9, 3)).length).toBe(3);
    const latest = await store.latestSamples();
    expect(latest.get('GPU-test-0')?.ts).toBe(T0 + 24_000);
    expect(latest.get('GPU-test-1')?.powerW).toBe(49);
  });

  it('survives reopening: data persists and migrations are not re-applied', async () => {
    await store.registerAgent(reg, T0);
    await store.insertBatch('agent-a', 0, [sample('GPU-test-0', T0)]);
    await store.close();
    store = openSqliteStore(path);
    expect(await store.countSamples()).toBe(1);
    expect((await store.listChips()).length).toBe(2);
  });
});
