import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { openSqliteStore, type SqliteStore } from '../../server/store/sqlite-store.ts';
import { decodeRollupRow, encodeRollupRow } from '../../server/rollups/rollup-codec.ts';
import { emptyBucket, fieldIndex, mergeBucket, type RollupBucket } from '../../server/rollups/rollup-bucket.ts';
import { bucketStart, fleetKey, TIERS } from '../../server/rollups/rollup-fields.ts';
import { SEAL_AFTER_MS } from '../../server/store/writer/hour-seal.ts';
import { chipInfo, sample } from '../helpers/frames.ts';
import { tempDir } from '../../bench/support/temp-dir.ts';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { Compactor } from '../../server/store/writer/compaction.ts';
import { setUpConnection } from '../../server/store/sqlite-connection.ts';
import { encodeSampleRecord } from '../../server/store/sample-records.ts';

const HOUR = TIERS['1h'].bucketMs;
const DAY = TIERS['1h'].rowSpanMs;
const CHIPS = ['GPU-test-0', 'GPU-test-1'];
const GROUP = fleetKey('nvidia', 'H100');
const reg = { agentId: 'agent-a', agentVersion: 't', intervalMs: 1000, host: { hostname: 'h1', instanceId: 'i-1', instanceType: 'p5.48xlarge' }, chips: [chipInfo(0), chipInfo(1)] };

/** Samples of both chips every 10 s over [from, from + minutes), power and energy moving. */
function samplesOver(from: number, minutes: number) {
  const out = [];
  for (let ts = from; ts < from + minutes * 60_000; ts += 10_000) {
    for (const [c, chipId] of CHIPS.entries()) out.push(sample(chipId, ts, { powerW: 300 + ((ts / 10_000) % 7) * 10 + c, energyJ: 1_000 + (ts - from) / 10 + c * 5 }));
  }
  return out;
}

/** The minute buckets of one hour merged into one: what the hour's 1-hour bucket must hold. */
function merged(minutes: RollupBucket[], hour: number): RollupBucket {
  const b = emptyBucket(hour);
  for (const m of minutes) mergeBucket(b, m);
  return b;
}

describe('SQLite store: the 1-hour tier is sealed once an hour is over', () => {
  let tmp: ReturnType<typeof tempDir>;
  let path: string;
  let store: SqliteStore;
  let side: Database.Database;
  let hour: number;
  beforeEach(async () => {
    tmp = tempDir();
    path = join(tmp.dir, 'fleet.db');
    store = await openSqliteStore(path);
    side = new Database(path, { readonly: true });
    await store.registerAgent(reg, Date.now());
    await store.flush();
    hour = bucketStart(Date.now(), HOUR);
  });
  afterEach(async () => {
    side.close();
    await store.close();
    tmp.cleanup();
  });

  const sealedHour = () => side.prepare('SELECT sealed_hour_ts FROM fold_state WHERE id = 1').pluck().get() as number | null;
  /** The 1-hour bucket stored in the key's 1-hour row for the hour (undefined: none). */
  const storedHourBucket = (key: string, h: number) => {
    const dayStart = bucketStart(h, DAY);
    const data = side.prepare("SELECT data FROM rollups WHERE tier = '1h' AND key = ? AND row_start = ?").pluck().get(key, dayStart) as Buffer | undefined;
    return data ? decodeRollupRow(data, dayStart, HOUR).find((b) => b.start === h) : undefined;
  };
  const read = async (tier: '1m' | '1h', from: number, to: number) => store.rollups(tier, [...CHIPS, GROUP], from, to);
  const minuteRows = (key: string) => side.prepare("SELECT row_start FROM rollups WHERE tier = '1m' AND key = ? ORDER BY row_start").pluck().all(key);

  it('reads an open hour from its 1-minute rows, seals it into the 1-hour rows, and reads the same before and after', async () => {
    expect(sealedHour()).toBe(hour);
    await store.insertBatch('agent-a', 0, samplesOver(hour, 30));
    await store.flush();
    const minutes = await read('1m', hour, hour + HOUR - 1);
    const before = await read('1h', hour, hour);
    for (const key of [...CHIPS, GROUP]) {
      // Nothing in the 1-hour rows for the open hour; the read makes it from the minutes.
      expect(storedHourBucket(key, hour)).toBeUndefined();
      expect(before.get(key)).toEqual([merged(minutes.get(key)!, hour)]);
    }
    expect(before.get(CHIPS[0])![0].n).toBe(180);
    expect(before.get(GROUP)![0].n).toBe(360);
    // The open hour's minutes lie in rows of 10 minutes; once sealed, in one row spanning the hour.
    const tenMinutes = [0, 1, 2].map((k) => hour + k * 600_000);
    expect(minuteRows(CHIPS[0])).toEqual(tenMinutes);
    expect(minuteRows(GROUP)).toEqual(tenMinutes);
    // Open rows are rewritten at every fold: stored without deflate (first byte 0xff); the sealed row deflated.
    const firstBytes = () => side.prepare("SELECT data FROM rollups WHERE tier = '1m' AND key = ?").pluck().all(CHIPS[0]).map((d) => (d as Buffer)[0]);
    expect(firstBytes()).toEqual([0xff, 0xff, 0xff]);

    await store.sealHours(hour + HOUR + SEAL_AFTER_MS);
    expect(sealedHour()).toBe(hour + HOUR);
    for (const key of [...CHIPS, GROUP]) expect(minuteRows(key)).toEqual([hour]);
    expect(firstBytes()).not.toEqual([0xff]);
    expect(await read('1m', hour, hour + HOUR - 1)).toEqual(minutes);
    for (const key of [...CHIPS, GROUP]) expect(storedHourBucket(key, hour)).toEqual(before.get(key)![0]);
    expect(await read('1h', hour, hour)).toEqual(before);

    // A late sample of the sealed hour goes into both tiers.
    await store.insertBatch('agent-a', 1, [sample(CHIPS[0], hour + 45 * 60_000, { powerW: 999, energyJ: 5_000 })]);
    await store.flush();
    const after = await read('1h', hour, hour);
    expect(after.get(CHIPS[0])![0].n).toBe(181);
    expect(after.get(CHIPS[0])![0].f[fieldIndex('powerW')]).toMatchObject({ max: 999 });
    expect(after.get(CHIPS[0])).toEqual([merged((await read('1m', hour, hour + HOUR - 1)).get(CHIPS[0])!, hour)]);
  });

  it('a pass run again (a stop cut the first short) puts the same buckets in place, not twice', async () => {
    await store.insertBatch('agent-a', 0, samplesOver(hour, 20));
    await store.sealHours(hour + HOUR + SEAL_AFTER_MS);
    const sealed = await read('1h', hour, hour);
    const rows = side.prepare("SELECT key, data FROM rollups WHERE tier = '1h' ORDER BY key").all();
    // As if the pass had written its buckets and the hub had stopped before moving the mark.
    await store.close();
    const rw = new Database(path);
    rw.prepare('UPDATE fold_state SET sealed_hour_ts = ? WHERE id = 1').run(hour);
    rw.close();
    store = await openSqliteStore(path);
    expect(await read('1h', hour, hour)).toEqual(sealed);
    await store.sealHours(hour + HOUR + SEAL_AFTER_MS);
    expect(sealedHour()).toBe(hour + HOUR);
    expect(side.prepare("SELECT key, data FROM rollups WHERE tier = '1h' ORDER BY key").all()).toEqual(rows);
    expect(await read('1h', hour, hour)).toEqual(sealed);
  });

  it('hours before the sealed one go into the 1-hour rows as they fold; empty hours only move the mark', async () => {
    const past = hour - 3 * HOUR;
    await store.insertBatch('agent-a', 0, samplesOver(past, 10));
    await store.flush();
    const minutes = await read('1m', past, past + HOUR - 1);
    expect(storedHourBucket(CHIPS[1], past)).toEqual(merged(minutes.get(CHIPS[1])!, past));
    // Three hours later with nothing in them: each is sealed in turn.
    await store.sealHours(hour + 3 * HOUR + SEAL_AFTER_MS);
    expect(sealedHour()).toBe(hour + 3 * HOUR);
    expect((await read('1h', past, hour + 3 * HOUR)).get(CHIPS[1])).toEqual([merged(minutes.get(CHIPS[1])!, past)]);
  });

  it('a database from before sealing (no mark; the rows spanning the hour, its 1-hour bucket current) reads the same and seals', async () => {
    await store.insertBatch('agent-a', 0, samplesOver(hour, 20));
    await store.flush();
    const minutes = await read('1m', hour, hour + HOUR - 1);
    await store.close();
    // Rewrite the rows as a version without sealing left them.
    const rw = new Database(path);
    const dayStart = bucketStart(hour, DAY);
    for (const key of [...CHIPS, GROUP]) {
      rw.prepare("DELETE FROM rollups WHERE tier = '1m' AND key = ?").run(key);
      rw.prepare("INSERT INTO rollups (tier, key, row_start, data) VALUES ('1m', ?, ?, ?)").run(key, hour, encodeRollupRow(hour, 60_000, minutes.get(key)!));
      rw.prepare("INSERT INTO rollups (tier, key, row_start, data) VALUES ('1h', ?, ?, ?) ON CONFLICT DO UPDATE SET data = excluded.data").run(key, dayStart, encodeRollupRow(dayStart, HOUR, [merged(minutes.get(key)!, hour)]));
    }
    rw.prepare('UPDATE fold_state SET sealed_hour_ts = NULL WHERE id = 1').run();
    rw.close();

    store = await openSqliteStore(path);
    await store.flush();
    expect(sealedHour()).toBe(hour);
    // Ten more minutes: they join the hour's row or lie in 10-minute rows after it.
    await store.insertBatch('agent-a', 1, samplesOver(hour + 20 * 60_000, 10));
    await store.flush();
    const all = await read('1m', hour, hour + HOUR - 1);
    expect(all.get(CHIPS[0])!.length).toBe(30);
    const open = await read('1h', hour, hour);
    expect(open.get(CHIPS[0])).toEqual([merged(all.get(CHIPS[0])!, hour)]);
    expect(open.get(GROUP)![0].n).toBe(360);
    await store.sealHours(hour + HOUR + SEAL_AFTER_MS);
    expect(await read('1h', hour, hour)).toEqual(open);
    expect(await read('1m', hour, hour + HOUR - 1)).toEqual(all);
    expect(minuteRows(CHIPS[0])).toEqual([hour]);
  });

  it('the mark survives a restart, and a read across sealed and open hours has each once', async () => {
    await store.insertBatch('agent-a', 0, samplesOver(hour, 10));
    await store.sealHours(hour + HOUR + SEAL_AFTER_MS);
    await store.insertBatch('agent-a', 1, samplesOver(hour + HOUR, 10));
    await store.close();
    store = await openSqliteStore(path);
    await store.flush();
    expect(sealedHour()).toBe(hour + HOUR);
    const hours = (await read('1h', hour, hour + HOUR)).get(CHIPS[0])!;
    expect(hours.map((b) => [b.start, b.n])).toEqual([
      [hour, 60],
      [hour + HOUR, 60],
    ]);
    expect(storedHourBucket(CHIPS[0], hour + HOUR)).toBeUndefined();
  });
});

describe('a pass sealing an hour, with fold steps between its batches', () => {
  it('folds late samples of the hour into sealed keys and seals keys that first appear during the pass before moving the mark', async () => {
    const tmp = tempDir();
    const path = join(tmp.dir, 'fleet.db');
    const opened = await openSqliteStore(path);
    await opened.registerAgent({ ...reg, chips: [chipInfo(0), chipInfo(1), chipInfo(2)] }, Date.now());
    await opened.close();
    const client = setUpConnection(new Database(path));
    try {
      // One key per write transaction, so that the pass is under way between batches.
      const compactor = new Compactor(drizzle(client), undefined, 1);
      const hour = bucketStart(Date.now(), HOUR);
      const log = (samples: ReturnType<typeof sample>[]) => client.prepare('INSERT INTO sample_log (received_at, n, data) VALUES (?, ?, ?)').run(Date.now(), samples.length, encodeSampleRecord(samples));
      const fold = () => {
        while (compactor.compactLog() > 0) compactor.takeReadings();
      };
      log(samplesOver(hour, 25));
      fold();
      expect(compactor.sealHours(hour + HOUR + SEAL_AFTER_MS, 0)).toBe(1);
      // A late sample of a chip the pass may have sealed, and the hour's first of a third chip.
      log([sample(CHIPS[0], hour + 50 * 60_000, { powerW: 500, energyJ: 9_000 }), sample('GPU-test-2', hour + 40 * 60_000, { powerW: 400, energyJ: 10 })]);
      fold();
      compactor.sealHours(hour + HOUR + SEAL_AFTER_MS);
      expect(client.prepare('SELECT sealed_hour_ts FROM fold_state WHERE id = 1').pluck().get()).toBe(hour + HOUR);

      const dayStart = bucketStart(hour, DAY);
      for (const [key, n] of [[CHIPS[0], 151], [CHIPS[1], 150], ['GPU-test-2', 1], [GROUP, 302]] as const) {
        // One 1-minute row spanning the hour, and the 1-hour bucket made from it.
        expect(client.prepare("SELECT row_start FROM rollups WHERE tier = '1m' AND key = ?").pluck().all(key)).toEqual([hour]);
        const minutes = decodeRollupRow(client.prepare("SELECT data FROM rollups WHERE tier = '1m' AND key = ? AND row_start = ?").pluck().get(key, hour) as Buffer, hour, 60_000);
        const h1 = decodeRollupRow(client.prepare("SELECT data FROM rollups WHERE tier = '1h' AND key = ? AND row_start = ?").pluck().get(key, dayStart) as Buffer, dayStart, HOUR);
        expect(h1.find((b) => b.start === hour)).toEqual(merged(minutes, hour));
        expect(merged(minutes, hour).n).toBe(n);
      }
    } finally {
      client.close();
      tmp.cleanup();
    }
  });
});
