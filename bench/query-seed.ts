/**
 * Seeds the query benchmark's database: the hub's own schema (openSqliteStore creates the file and
 * applies the migrations), the fleet's hosts/agents/chips, then seeding processes
 * (query-seed-worker.ts, one more than the cores: they wait on this process now and then) make the raw chunks and the chips' 1m and 1h rows, which this process,
 * the only writer, inserts as they come, merging their fleet buckets into the fleet keys' rows. Disk usage is taken after the raw and 1m tiers are
 * complete, and again after the 1h tier (chips and fleet keys) is written, so each tier's bytes
 * are measured, not estimated.
 */
import { fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { agents, chips, hosts } from '../schema/tables.ts';
import { openSqliteStore } from '../server/store/sqlite-store.ts';
import { cloneBucket, emptyBucket, mergeBucket, type RollupBucket } from '../server/rollups/rollup-bucket.ts';
import { encodeRollupRow } from '../server/rollups/rollup-codec.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS, benchHosts, partitionHosts, rowStarts, timeFrame, type BenchHost, type TimeFrame } from './query-dataset.ts';
import { diskUsage, storedPayload, type DiskUsage, type StoredPayload } from './query-disk-usage.ts';
import type { ChunkRow, RollupRow, SeedMessage } from './query-seed-worker.ts';

const WORKER = fileURLToPath(new URL('./query-seed-worker.ts', import.meta.url));
const PROCESSES = Math.min(8, availableParallelism() + 1);

export interface SeedResult {
  frame: TimeFrame;
  hosts: BenchHost[];
  /** Wall time of the whole seeding, and of the part before the 1h tier. */
  seconds: number;
  rawAnd1mSeconds: number;
  rawSamples: number;
  chunks: number;
  chipMinutes: number;
  chipHours: number;
  rows1m: number;
  fleetRows1m: number;
  rows1h: number;
  /** Disk usage with raw + 1m tiers only, and at the end. */
  before1h: DiskUsage;
  after: DiskUsage;
  payload: StoredPayload;
  processes: number;
}

function register(client: Database.Database, list: readonly BenchHost[], f: TimeFrame): void {
  const db = drizzle(client);
  client.transaction(() => {
    for (const h of list) {
      const agentId = `agent-${h.host.hostname}`;
      db.insert(hosts).values({ hostname: h.host.hostname, instanceId: h.host.instanceId, instanceType: h.host.instanceType, lastAgentId: agentId, firstSeen: f.start, lastSeen: f.end }).run();
      db.insert(agents).values({ id: agentId, hostname: h.host.hostname, version: 'bench-seed', intervalMs: 1000, firstSeen: f.start, lastSeen: f.end }).run();
      for (const c of h.chips) {
        db.insert(chips)
          .values({ id: c.chipId, agentId, hostname: h.host.hostname, vendor: c.vendor, model: c.model, idx: c.index, cores: c.cores, memTotalBytes: c.memTotalBytes, ratedPowerW: c.ratedPowerW, firstSeen: f.start, lastSeen: f.end })
          .run();
      }
    }
  })();
}

/** Merges the seeding processes' fleet buckets hour by hour into the fleet keys' 1m rows (written here) and hour buckets. */
class FleetMerge {
  private readonly parts = new Map<number, Record<string, RollupBucket[]>[]>();
  /** Fleet key -> hour buckets, for the 1h rows at the end. */
  readonly hours = new Map<string, RollupBucket[]>();
  rows1m = 0;
  private readonly insert;

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare("INSERT INTO rollups (tier, key, row_start, data) VALUES ('1m', ?, ?, ?)");
  }

  add(rowStart: number, part: Record<string, RollupBucket[]>): void {
    const list = this.parts.get(rowStart) ?? [];
    list.push(part);
    this.parts.set(rowStart, list);
    if (list.length < PROCESSES) return;
    this.parts.delete(rowStart);
    const byKey = new Map<string, Map<number, RollupBucket>>();
    for (const p of list) {
      for (const [key, buckets] of Object.entries(p)) {
        let m = byKey.get(key);
        if (!m) byKey.set(key, (m = new Map()));
        for (const b of buckets) {
          const have = m.get(b.start);
          if (have) mergeBucket(have, b);
          else m.set(b.start, cloneBucket(b));
        }
      }
    }
    this.db.transaction(() => {
      for (const [key, m] of byKey) {
        const buckets = [...m.values()].sort((a, b) => a.start - b.start);
        this.insert.run(key, rowStart, encodeRollupRow(rowStart, MINUTE_MS, buckets));
        this.rows1m++;
        const hour = emptyBucket(rowStart);
        for (const b of buckets) mergeBucket(hour, b);
        const list = this.hours.get(key) ?? [];
        list.push(hour);
        this.hours.set(key, list);
      }
    })();
  }
}

/** Chip and fleet 1h rows: one per key per UTC day. */
function insertHourTier(db: Database.Database, chipRows: RollupRow[], fleetHours: Map<string, RollupBucket[]>): number {
  const insert = db.prepare("INSERT INTO rollups (tier, key, row_start, data) VALUES ('1h', ?, ?, ?)");
  let n = 0;
  db.transaction(() => {
    for (const r of chipRows) insert.run(...r);
    n += chipRows.length;
    for (const [key, hours] of fleetHours) {
      const byDay = new Map<number, RollupBucket[]>();
      for (const h of hours) {
        const day = h.start - (h.start % DAY_MS);
        byDay.set(day, [...(byDay.get(day) ?? []), h]);
      }
      for (const [day, list] of byDay) insert.run(key, day, encodeRollupRow(day, HOUR_MS, list));
      n += byDay.size;
    }
  })();
  return n;
}

/** Per hour message of a seeding process: write it, merge its fleet share, keep its 1h rows. */
type OnHour = (m: Extract<SeedMessage, { type: 'hour' }>, process: number) => void;

/** Runs the seeding processes to the end; the first failure (theirs or ours) stops them all. */
function runSeeders(parts: number[][], frame: TimeFrame, onHour: OnHour, progress: (msg: string) => void, t0: number): Promise<Extract<SeedMessage, { type: 'done' }>[]> {
  const done: Extract<SeedMessage, { type: 'done' }>[] = [];
  return new Promise((resolve, reject) => {
    let exited = 0;
    let failed = false;
    const children = parts.map((part, w) => {
      const child = fork(WORKER, [JSON.stringify({ hosts: part, frame })], { execArgv: ['--import', 'tsx', '--max-semi-space-size=64'], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const fail = (err: Error) => {
        if (failed) return;
        failed = true;
        for (const c of children) c.kill('SIGKILL');
        reject(err);
      };
      child.on('message', (m: SeedMessage) => {
        if (failed) return;
        if (m.type === 'done') return void done.push(m);
        try {
          onHour(m, w);
        } catch (err) {
          fail(err as Error);
        }
      });
      child.on('error', fail);
      child.on('exit', (code) => {
        if (code !== 0) return fail(new Error(`query seeding process ${w + 1} exited with ${code}`));
        progress(`query: seeding process ${w + 1} done at ${((performance.now() - t0) / 1000).toFixed(0)} s`);
        if (++exited === children.length) resolve(done);
      });
      return child;
    });
  });
}

export async function seedQueryDataset(path: string, progress: (msg: string) => void): Promise<SeedResult> {
  const t0 = performance.now();
  const frame = timeFrame(Date.now());
  const list = benchHosts();
  await (await openSqliteStore(path)).close();
  const db = new Database(path);
  try {
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -262144');
    register(db, list, frame);
    const chipCount = list.reduce((n, h) => n + h.chips.length, 0);
    const chipRowsTotal = rowStarts(frame).length * chipCount;
    const iso = (ms: number) => new Date(ms).toISOString();
    progress(`query: seeding ${chipCount} chips on ${list.length} hosts, 1m tier ${iso(frame.start)} .. ${iso(frame.end)}, raw from ${iso(frame.rawStart)}, ${PROCESSES} seeding processes`);

    const fleet = new FleetMerge(db);
    const insertChunk = db.prepare('INSERT INTO sample_chunks (chip_id, start_ts, end_ts, n, data) VALUES (?, ?, ?, ?, ?)');
    const insert1m = db.prepare("INSERT INTO rollups (tier, key, row_start, data) VALUES ('1m', ?, ?, ?)");
    const write = db.transaction((chunks: ChunkRow[], rows: RollupRow[]) => {
      for (const c of chunks) insertChunk.run(...c);
      for (const r of rows) insert1m.run(...r);
    });
    const hourRows: RollupRow[] = [];
    let chipRowsDone = 0;
    const rawDone = new Array<number>(PROCESSES).fill(0);
    let lastReport = performance.now();
    let writeMs = 0;
    const done = await runSeeders(
      partitionHosts(list, PROCESSES),
      frame,
      (m, w) => {
        const tw = performance.now();
        write(m.chunks, m.rows1m);
        fleet.add(m.rowStart, m.fleet);
        hourRows.push(...m.rows1h);
        writeMs += performance.now() - tw;
        chipRowsDone += m.rows1m.length;
        rawDone[w] = m.rawSamples;
        if (performance.now() - lastReport > 10_000) {
          lastReport = performance.now();
          progress(`query: seeding ${((100 * chipRowsDone) / chipRowsTotal).toFixed(0)} % of chip-hour rows, ${(rawDone.reduce((a, b) => a + b, 0) / 1e6).toFixed(1)} M raw samples, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
        }
      },
      progress,
      t0,
    );
    const rawAnd1mSeconds = (performance.now() - t0) / 1000;
    const before1h = diskUsage(db);
    progress(`query: raw and 1m tiers written in ${rawAnd1mSeconds.toFixed(0)} s (${(writeMs / 1000).toFixed(0)} s of it inserting and merging in this process); writing the 1h tier`);
    const t1 = performance.now();
    const rows1h = insertHourTier(db, hourRows, fleet.hours);
    const seconds = rawAnd1mSeconds + (performance.now() - t1) / 1000;
    const after = diskUsage(db);
    const payload = storedPayload(db);
    const sum = (k: 'chipMinutes' | 'rawSamples' | 'chunks' | 'chipRows1m') => done.reduce((n, d) => n + d[k], 0);
    progress(`query: seeded in ${seconds.toFixed(0)} s, ${(after.fileBytes / 1e9).toFixed(2)} GB`);
    return {
      frame,
      hosts: list,
      seconds,
      rawAnd1mSeconds,
      rawSamples: sum('rawSamples'),
      chunks: sum('chunks'),
      chipMinutes: sum('chipMinutes'),
      chipHours: sum('chipRows1m'),
      rows1m: sum('chipRows1m') + fleet.rows1m,
      fleetRows1m: fleet.rows1m,
      rows1h,
      before1h,
      after,
      payload,
      processes: PROCESSES,
    };
  } finally {
    db.close();
  }
}
