/**
 * PostgreSQL write benchmark (`npx tsx bench/pg-write-bench.ts`, server at FLEETSCOPE_PG_URL or
 * FLEETSCOPE_TEST_PG_URL, default postgres://postgres@127.0.0.1:5432/test; works in a schema of its
 * own, dropped at the end). Simulated fleet values (bench/sim-fleet.ts: phases, power following
 * load, thermal lag) are written into the store's sample log table (day-partitioned, primary key
 * (chip, ts)) three ways — multi-row VALUES, INSERT … SELECT FROM unnest, COPY — in statements of
 * one hub turn (1,024 samples; BENCH_ROWS to change), and then through the store's insertBatches (64 agents' batches of
 * 16 per call), with the fold into chunks and rollups timed apart. `npm run bench pg` runs it with
 * SQLite's figure beside it (bench/pg-bench-part.ts).
 */
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';
import pg from 'pg';
import type { Sample } from '../schema/sample.ts';
import { flagsToBits } from '../schema/sample-flags.ts';
import { connectPg } from '../server/store/pg/pg-connection.ts';
import { insertLogRows, LOG_VALUE_COLUMNS } from '../server/store/pg/log-writes.ts';
import { DayPartitions } from '../server/store/pg/partitions.ts';
import { openPgStore } from '../server/store/pg/pg-store.ts';
import { simHost, type SimHost } from './sim-fleet.ts';
import { describeMachine, machineInfo } from './machine.ts';
import { cpuTimes, machineBusyPct } from './machine-load.ts';

export const PG_BENCH_URL = process.env.FLEETSCOPE_PG_URL ?? process.env.FLEETSCOPE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const HOSTS = Number(process.env.BENCH_HOSTS ?? 64);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const ROWS_PER_STATEMENT = Number(process.env.BENCH_ROWS ?? 1024);
const REPEATS = 3;

const COLUMNS = ['chip_id', 'ts', 'received_at', 'flags', 'present', ...LOG_VALUE_COLUMNS.map(([c]) => c), 'extras'];

/** One row of log columns for a sample (as the store writes it). */
function rowOf(s: Sample, receivedAt: number): unknown[] {
  const present = (s.smClockMhz !== undefined ? 1 : 0) | (s.eccCorrected !== undefined ? 2 : 0) | (s.eccUncorrected !== undefined ? 4 : 0);
  return [s.chipId, s.ts, receivedAt, flagsToBits(s.flags), present, ...LOG_VALUE_COLUMNS.map(([, f]) => s[f] ?? null), s.extras ? JSON.stringify(s.extras) : null];
}

async function insertValues(pool: pg.Pool, rows: Sample[]): Promise<void> {
  const now = Date.now();
  const values: unknown[] = [];
  const tuples: string[] = [];
  for (const s of rows) {
    const r = rowOf(s, now);
    tuples.push(`(${r.map((_, k) => `$${values.length + k + 1}`).join(', ')})`);
    values.push(...r);
  }
  await pool.query(`INSERT INTO sample_log (${COLUMNS.join(', ')}) VALUES ${tuples.join(', ')} ON CONFLICT (chip_id, ts) DO NOTHING`, values);
}

const copyText = (v: unknown): string => (v === null || v === undefined ? '\\N' : String(v).replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n'));

async function insertCopy(pool: pg.Pool, rows: Sample[]): Promise<void> {
  const now = Date.now();
  const client = await pool.connect();
  try {
    const text = rows.map((s) => rowOf(s, now).map(copyText).join('\t')).join('\n') + '\n';
    await pipeline(Readable.from([text]), client.query(copyFrom(`COPY sample_log (${COLUMNS.join(', ')}) FROM STDIN`)));
  } finally {
    client.release();
  }
}

const insertUnnest = (pool: pg.Pool, rows: Sample[]) => insertLogRows(pool, rows, () => false, Date.now());

/** The simulated fleet's samples, second by second from `t0` (each second: every chip once). */
export function fleetSeconds(hosts: SimHost[], t0: number, seconds: number): Sample[][] {
  const out: Sample[][] = [];
  for (let i = 0; i < seconds; i++) out.push(hosts.flatMap((h) => h.next(t0 + i * 1000)));
  return out;
}

export interface Figure {
  what: string;
  samples: number;
  seconds: number;
  perSecond: number;
  machineBusyPct: number;
}

export async function timed(what: string, samples: number, run: () => Promise<void>): Promise<Figure> {
  const c0 = cpuTimes();
  const t0 = performance.now();
  await run();
  const seconds = (performance.now() - t0) / 1000;
  return { what, samples, seconds: Math.round(seconds * 1000) / 1000, perSecond: Math.round(samples / seconds), machineBusyPct: machineBusyPct(c0, cpuTimes(), machineInfo().cores) };
}

/** The simulated hosts of a pass (16 chips each). */
export const benchHosts = (n: number): SimHost[] => Array.from({ length: n }, (_, h) => simHost(h, 'pgbench'));

/** The fleet shape of a pass: hosts of 16 chips, seconds of samples, rows per raw statement. */
export interface WriteBenchShape {
  hosts: number;
  seconds: number;
  rowsPerStatement: number;
}

export const DEFAULT_SHAPE: WriteBenchShape = { hosts: HOSTS, seconds: SECONDS, rowsPerStatement: ROWS_PER_STATEMENT };

export async function pgWriteBench(shape: WriteBenchShape = DEFAULT_SHAPE, url = PG_BENCH_URL): Promise<Figure[]> {
  const { seconds: SECONDS, rowsPerStatement: ROWS_PER_STATEMENT } = shape;
  const HOSTS = shape.hosts;
  const schema = `fs_bench_${process.pid}`;
  const hosts = benchHosts(HOSTS);
  // Today (a partition made ahead), a minute after midnight UTC: one day partition for all of it.
  const t0 = Math.floor(Date.now() / 86_400_000) * 86_400_000 + 60_000;
  const seconds = fleetSeconds(hosts, t0, SECONDS);
  const all = seconds.flat();
  const statements: Sample[][] = [];
  for (let i = 0; i < all.length; i += ROWS_PER_STATEMENT) statements.push(all.slice(i, i + ROWS_PER_STATEMENT));

  const { pool } = await connectPg(url, { schema: `${schema}_raw`, maxConnections: 2 });
  const figures: Figure[] = [];
  try {
    const partitions = new DayPartitions(pool, `${schema}_raw`);
    await partitions.ensureAhead();
    const methods: [string, (p: pg.Pool, rows: Sample[]) => Promise<void>][] = [
      ['multi-row VALUES', insertValues],
      ['INSERT … SELECT FROM unnest', insertUnnest],
      ['COPY FROM STDIN (text)', insertCopy],
    ];
    for (const [name, insert] of methods) {
      const runs: Figure[] = [];
      for (let r = 0; r < REPEATS; r++) {
        await pool.query('TRUNCATE sample_log');
        runs.push(await timed(`log table, ${name}, ${ROWS_PER_STATEMENT} rows/statement`, all.length, async () => {
          for (const rows of statements) await insert(pool, rows);
        }));
      }
      const count = Number((await pool.query('SELECT count(*) AS n FROM sample_log')).rows[0].n);
      if (count !== all.length) throw new Error(`${name}: ${count} rows stored, ${all.length} sent`);
      figures.push(runs.sort((a, b) => a.perSecond - b.perSecond)[1]);
    }
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema}_raw CASCADE`);
    await pool.end();
  }

  // Through the adapter: one call per simulated second (64 agents' batches of 16), acked after commit.
  const store = await openPgStore(url, { schema, compactAtSamples: 1e9, compactAfterMs: 3_600_000 });
  try {
    for (const [h, host] of hosts.entries()) await store.registerAgent({ agentId: `pgbench-${h}`, agentVersion: 'bench', intervalMs: 1000, host: host.host, chips: host.chips }, t0);
    const batchesOf = (second: Sample[], s: number) => hosts.map((_, h) => ({ agentId: `pgbench-${h}`, seq: s, samples: second.slice(h * 16, h * 16 + 16) }));
    figures.push(await timed(`store.insertBatches, ${HOSTS} batches of 16 per call, one call at a time`, all.length, async () => {
      for (const [s, second] of seconds.entries()) await store.insertBatches(batchesOf(second, s));
    }));
    figures.push(await timed('store.flush: fold of those samples into chunks and 1m/1h rollups', all.length, () => store.flush()));
    // A second pass, later timestamps, four calls in flight (as several event-loop turns would).
    const later = fleetSeconds(hosts, t0 + SECONDS * 1000, SECONDS);
    figures.push(await timed(`store.insertBatches, ${HOSTS} batches of 16 per call, 4 calls in flight`, all.length, async () => {
      for (let s = 0; s < later.length; s += 4) await Promise.all(later.slice(s, s + 4).map((second, k) => store.insertBatches(batchesOf(second, SECONDS + s + k))));
    }));
    figures.push(await timed('store.flush: fold (appending to the chips\' newest chunks)', all.length, () => store.flush()));
    const stored = await store.countSamples();
    if (stored !== 2 * all.length) throw new Error(`the store holds ${stored} samples, ${2 * all.length} were sent`);
  } finally {
    await store.close();
    const cleanup = new pg.Client({ connectionString: url });
    await cleanup.connect();
    await cleanup.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await cleanup.end();
  }
  return figures;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const c0 = cpuTimes();
  await new Promise((r) => setTimeout(r, 1000));
  const idleBusy = machineBusyPct(c0, cpuTimes(), machineInfo().cores);
  const figures = await pgWriteBench();
  const server = 'PostgreSQL on the same machine';
  process.stdout.write(
    `\nPostgreSQL writes — ${describeMachine(machineInfo())}; ${server}; ${HOSTS * 16} chips x ${SECONDS} s of simulated samples per pass; machine busy before start: ${idleBusy}% of a core\n\n` +
      `| what | samples | s | samples/s | machine busy (% of a core) |\n| --- | --- | --- | --- | --- |\n` +
      figures.map((f) => `| ${f.what} | ${f.samples} | ${f.seconds} | ${f.perSecond.toLocaleString('en-US')} | ${f.machineBusyPct} |`).join('\n') +
      '\n',
  );
}
