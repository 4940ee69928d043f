import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { readdirSync, readFileSync } from 'node:fs';
import { COMPACTOR_NICENESS, openSqliteStore } from '../../server/store/sqlite-store.ts';
import type { Store } from '../../server/store/store.ts';
import { chipInfo, sample } from '../helpers/frames.ts';
import { tempDir } from '../../bench/support/temp-dir.ts';

const T0 = Date.UTC(2026, 10, 26, 10);
const reg = { agentId: 'agent-a', agentVersion: 't', intervalMs: 1000, host: { hostname: 'h1', instanceId: 'i-1', instanceType: 'p5.48xlarge' }, chips: [chipInfo(0), chipInfo(1)] };

describe('SQLite store (temporary file, real migrations)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let path: string;
  let store: Store;
  beforeEach(async () => {
    tmp = tempDir();
    path = join(tmp.dir, 'sub/dir/fleet.db');
    store = await openSqliteStore(path);
  });
  afterEach(async () => {
    await store.close();
    tmp.cleanup();
  });

  it('creates the file in WAL mode with the migrated tables', () => {
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const tables = db.prepare("select name from sqlite_master where type='table' order by name").all().map((r: any) => r.name);
    expect(tables).toEqual(expect.arrayContaining(['agents', 'chips', 'hosts', 'sample_log', 'sample_chunks', '__drizzle_migrations']));
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

  it('lists the chips as last registered: a new agent, and a chip whose inventory changed, show at once', async () => {
    await store.registerAgent(reg, T0);
    expect((await store.listChips()).map((c) => c.chipId)).toEqual(['GPU-test-0', 'GPU-test-1']);
    await store.registerAgent({ ...reg, agentId: 'agent-b', host: { hostname: 'h2', instanceId: null, instanceType: null }, chips: [chipInfo(2)] }, T0 + 1000);
    await store.registerAgent({ ...reg, intervalMs: 250, chips: [chipInfo(0, { model: 'H200' }), chipInfo(1)] }, T0 + 2000);
    const listed = await store.listChips();
    expect(listed.map((c) => [c.chipId, c.host, c.model, c.intervalMs, c.lastSeen])).toEqual([
      ['GPU-test-0', 'h1', 'H200', 250, T0 + 2000],
      ['GPU-test-1', 'h1', 'H100', 250, T0 + 2000],
      ['GPU-test-2', 'h2', 'H100', 1000, T0 + 1000],
    ]);
    // Callers get their own array; the chips in it are read-only.
    listed.pop();
    expect(await store.listChips()).toHaveLength(3);
    expect(() => ((listed[0] as { model: string }).model = 'x')).toThrow(TypeError);
  });

  it('registers off the event loop: while another connection holds the write lock the loop keeps running, and the inventory lands once it is free', async () => {
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    let done = false;
    const registered = store.registerAgent(reg, T0).then(() => (done = true));
    // A registration on the hub's own thread would sleep there in SQLite's busy handler: this
    // 20 ms timer would fire late, and the lock's holder (this thread) could never let go.
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 20));
    expect(performance.now() - t0).toBeLessThan(200);
    expect(done).toBe(false);
    other.exec('COMMIT');
    other.close();
    await registered;
    expect((await store.listChips()).map((c) => c.chipId)).toEqual(['GPU-test-0', 'GPU-test-1']);
  });

  it('is idempotent for a resent batch: each (chip, ts) is stored once, before and after folding into chunks', async () => {
    await store.registerAgent(reg, T0);
    const b = [sample('GPU-test-0', T0), sample('GPU-test-0', T0 + 1000)];
    await store.insertBatch('agent-a', 0, b);
    await store.insertBatch('agent-a', 0, b);
    expect(await store.chipSamples('GPU-test-0', T0, T0 + 1000, 10)).toEqual(b);
    expect(await store.countSamples()).toBe(2);
    // Resent after the first copy was folded: still once; an older stored value is kept.
    await store.insertBatch('agent-a', 0, [sample('GPU-test-0', T0, { powerW: 1 }), sample('GPU-test-0', T0 + 2000)]);
    expect(await store.countSamples()).toBe(3);
    expect((await store.chipSamples('GPU-test-0', T0, T0, 10))[0].powerW).toBe(400.25);
  });

  it('folds in the background (by size, the rest by age), then deletes the folded rows in small transactions', async () => {
    await store.close();
    // By size once 500 samples wait; what is left below that, once its oldest row is 1.5 s old.
    store = await openSqliteStore(path, { compactAtSamples: 500, compactAfterMs: 1_500 });
    await store.registerAgent(reg, T0);
    // 600 commits of 5 samples: 600 log rows, more than one deletion transaction takes.
    const sent = [];
    for (let i = 0; i < 600; i++) {
      const batch = [0, 1, 2, 3, 4].map((k) => sample(`GPU-test-${k % 2}`, T0 + (i * 5 + k) * 1000));
      sent.push(...batch);
      await store.insertBatch('agent-a', i, batch);
    }
    const db = new Database(path, { readonly: true });
    const count = (table: string) => (db.prepare(`select count(*) as c from ${table}`).get() as { c: number }).c;
    const until = Date.now() + 20_000;
    while (count('sample_log') > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    // No flush: the compactor thread folded and cleaned up by itself.
    expect(count('sample_log')).toBe(0);
    expect(count('sample_chunks')).toBeGreaterThan(0);
    db.close();
    expect(await store.countSamples()).toBe(sent.length);
    const chip0 = sent.filter((x) => x.chipId === 'GPU-test-0');
    expect(await store.chipSamples('GPU-test-0', T0, T0 + 3_000_000, 10_000)).toEqual(chip0);
  });

  it('each fold writes a chip\'s new samples as a chunk of their own (the newest chunk is not read back and re-encoded; old small chunks are merged later)', async () => {
    await store.registerAgent(reg, T0);
    const all = Array.from({ length: 200 }, (_, i) => sample('GPU-test-0', T0 + i * 1000, { powerW: 100 + i }));
    // Ten folds of 20: ten chunks of 20 (chunk-merge.test.ts: what becomes of them once old).
    for (let i = 0; i < 200; i += 20) {
      await store.insertBatch('agent-a', i, all.slice(i, i + 20));
      await store.flush();
    }
    const db = new Database(path, { readonly: true });
    const sizes = (db.prepare('select n from sample_chunks where chip_id = ? order by start_ts').all('GPU-test-0') as { n: number }[]).map((c) => c.n);
    db.close();
    expect(sizes).toEqual([20, 20, 20, 20, 20, 20, 20, 20, 20, 20]);
    expect(await store.chipSamples('GPU-test-0', T0, T0 + 200_000, 1000)).toEqual(all);
  });

  it('serves reads from the log at once and from chunks after folding, with the same answers', async () => {
    await store.registerAgent(reg, T0);
    const rows = Array.from({ length: 1500 }, (_, i) => sample('GPU-test-1', T0 + i * 1000, { powerW: i / 4 }));
    for (let i = 0; i < rows.length; i += 100) await store.insertBatch('agent-a', i / 100, rows.slice(i, i + 100));
    const before = await store.chipSamples('GPU-test-1', T0 + 100_000, T0 + 1_200_000, 10_000);
    await store.flush();
    const after = await store.chipSamples('GPU-test-1', T0 + 100_000, T0 + 1_200_000, 10_000);
    expect(after).toEqual(before);
    expect(after).toHaveLength(1101);
    expect(after[0]).toEqual(rows[100]);
    // A late sample inside the stored span lands in order.
    await store.insertBatch('agent-a', 99, [sample('GPU-test-1', T0 + 500, { powerW: 7 })]);
    await store.flush();
    expect((await store.chipSamples('GPU-test-1', T0, T0 + 1000, 10)).map((s) => s.powerW)).toEqual([0, 7, 0.25]);
    const db = new Database(path, { readonly: true });
    const chunks = db.prepare('select n from sample_chunks where chip_id = ?').all('GPU-test-1') as { n: number }[];
    expect(chunks.reduce((n, c) => n + c.n, 0)).toBe(1501);
    db.close();
  });

  it('writes the batches of one commit to log rows of at most 16 agents each, and reads each chip back from its own row before the fold', async () => {
    const agents = 40;
    for (let a = 0; a < agents; a++) await store.registerAgent({ ...reg, agentId: `agent-${a}`, host: { hostname: `h${a}`, instanceId: null, instanceType: null }, chips: [chipInfo(a)] }, T0);
    const batchOf = (a: number) => ({ agentId: `agent-${a}`, seq: 0, samples: Array.from({ length: 3 }, (_, k) => sample(`GPU-test-${a}`, T0 + k * 1000, { powerW: a * 10 + k })) });
    // one call: one commit
    await store.insertBatches(Array.from({ length: agents }, (_, a) => batchOf(a)));
    const db = new Database(path, { readonly: true });
    const logRows = db.prepare('select n from sample_log order by id').all() as { n: number }[];
    db.close();
    expect(logRows.map((r) => r.n)).toEqual([16 * 3, 16 * 3, 8 * 3]);
    // each chip's samples come from the row its batch is in (a wrong row reads none of them)
    for (let a = 0; a < agents; a++) expect(await store.chipSamples(`GPU-test-${a}`, T0, T0 + 10_000, 100)).toEqual(batchOf(a).samples);
    await store.flush();
    for (const a of [0, 17, 39]) expect(await store.chipSamples(`GPU-test-${a}`, T0, T0 + 10_000, 100)).toEqual(batchOf(a).samples);
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
    store = await openSqliteStore(path);
    expect(await store.countSamples()).toBe(1);
    expect((await store.listChips()).length).toBe(2);
  });

  it('folds log rows an earlier version wrote as JSON text when it opens (upgrade with unfolded samples)', async () => {
    await store.registerAgent(reg, T0);
    await store.close();
    // An earlier version's log row: a JSON array of {b: backfill, f: frame} entries, stored as text.
    const live = [sample('GPU-test-0', T0), sample('GPU-test-1', T0, { powerW: 12.5 })];
    const late = [sample('GPU-test-0', T0 - 60_000)];
    const db = new Database(path);
    db.prepare('insert into sample_log (received_at, n, data) values (?, ?, ?)').run(T0, 3, JSON.stringify([{ b: 0, f: { samples: live } }, { b: 1, f: { samples: late } }]));
    db.close();
    store = await openSqliteStore(path);
    expect(await store.countSamples()).toBe(3);
    expect(await store.chipSamples('GPU-test-1', T0, T0, 10)).toEqual([live[1]]);
    expect(await store.chipSamples('GPU-test-0', T0 - 60_000, T0, 10)).toEqual([{ ...late[0], flags: { backfill: true } }, live[0]]);
  });

  it.runIf(process.platform === 'linux')('runs the compactor thread at a lower OS priority, and only that thread', () => {
    const niceOf = (tid: string): number => {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]); // field 19: nice
    };
    const nices = readdirSync('/proc/self/task').map(niceOf);
    expect(nices.filter((n) => n === COMPACTOR_NICENESS)).toHaveLength(1);
    expect(niceOf(String(process.pid))).toBe(0);
  });
});

describe('SQLite store: long rollup reads', () => {
  it('a rollup read whose snapshot holds a fold not yet reported waits for the report, then counts each sample once', async () => {
    const tmp = tempDir();
    const path = join(tmp.dir, 'fleet.db');
    const store = await openSqliteStore(path);
    const side = new Database(path);
    try {
      await store.registerAgent(reg, T0);
      await store.flush();
      const folded = () => side.prepare('SELECT folded_log_id FROM fold_state WHERE id = 1').pluck().get() as number | undefined;
      expect(folded()).toBe(0);
      await store.insertBatch('agent-a', 0, [sample('GPU-test-0', T0, { powerW: 50, energyJ: 100 }), sample('GPU-test-0', T0 + 1000, { powerW: 60, energyJ: 160 })]);
      const logId = side.prepare('SELECT max(id) FROM sample_log').pluck().get() as number;
      // As if the fold of that row had committed and its report were still on its way.
      side.prepare('UPDATE fold_state SET folded_log_id = ? WHERE id = 1').run(logId);
      const read = store.rollups('1m', ['GPU-test-0'], T0, T0 + 60_000, ['powerW', 'energyJ']);
      // The fold itself, reported while the read waits.
      await new Promise((r) => setTimeout(r, 50));
      await store.flush();
      expect(folded()).toBe(logId);
      const [bucket] = (await read).get('GPU-test-0')!;
      expect(bucket.n).toBe(2);
      expect(bucket.energyJ).toBeCloseTo(60);
      expect(bucket.f[4]).toMatchObject({ cnt: 2, sum: 110 });
    } finally {
      side.close();
      await store.close();
      tmp.cleanup();
    }
  });

  it('pause for the event loop and still answer from one snapshot: a fold committed during a pause changes nothing in the answer', async () => {
    const tmp = tempDir();
    let interfere = false;
    let pauses = 0;
    let store: Store | undefined;
    const more = Array.from({ length: 30 }, (_, i) => sample('GPU-test-1', T0 + 45 * 60_000 + i * 1000, { powerW: 1 }));
    try {
      store = await openSqliteStore(join(tmp.dir, 'fleet.db'), {
        readPacing: {
          everyMs: 0,
          async pause() {
            pauses++;
            if (!interfere) return;
            interfere = false;
            // Between the two chips' rows: new samples for the second chip, folded and committed.
            await store!.insertBatch('agent-a', 9, more);
            await store!.flush();
          },
        },
      });
      await store.registerAgent(reg, T0);
      const first = ['GPU-test-0', 'GPU-test-1'].flatMap((id) => Array.from({ length: 40 }, (_, i) => sample(id, T0 + i * 60_000, { powerW: 100 + i, energyJ: 1000 + 10 * i })));
      await store.insertBatch('agent-a', 0, first);
      await store.flush();
      // Not folded yet: part of the answer through the unfolded samples (read first, pausing too),
      // its energy paired with the last folded reading (T0 + 39 min, 1,390 J).
      await store.insertBatch('agent-a', 1, [sample('GPU-test-0', T0 + 42 * 60_000, { powerW: 7, energyJ: 1500 })]);
      const read = () => store!.rollups('1m', ['GPU-test-0', 'GPU-test-1'], T0, T0 + 2 * 3_600_000, ['powerW', 'energyJ']);
      const before = await read();
      expect(pauses).toBeGreaterThan(0);
      expect(before.get('GPU-test-0')).toHaveLength(41);
      expect(before.get('GPU-test-0')!.reduce((e, b) => e + b.energyJ, 0)).toBeCloseTo(500);
      interfere = true;
      expect(await read()).toEqual(before);
      expect(interfere).toBe(false);
      // The next read sees the folded samples.
      const after = await read();
      expect(after.get('GPU-test-1')!.find((b) => b.start === T0 + 45 * 60_000)!.f[4]).toMatchObject({ cnt: 30, sum: 30 });
    } finally {
      await store?.close();
      tmp.cleanup();
    }
  });
});
