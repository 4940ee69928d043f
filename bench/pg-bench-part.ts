/**
 * `fleetscope bench pg` (`npm run bench -- pg`): PostgreSQL's write rates (bench/pg-write-bench.ts:
 * rows/s into the sample log table by multi-row VALUES, unnest and COPY; chip-samples/s through the
 * store's insertBatches, and its fold) beside SQLite's through its store on the same data
 * (bench/sqlite-write-bench.ts), as BenchResult rows. `--chips N`: N/16 simulated hosts (default
 * 1,024 chips); `--duration S`: seconds of simulated samples per pass (default 60). A PostgreSQL
 * server that does not answer gives one failed row saying so, not a crash of the whole run.
 */
import type { BenchResult } from './bench-result.ts';
import { PG_BENCH_URL, pgWriteBench, DEFAULT_SHAPE, type Figure, type WriteBenchShape } from './pg-write-bench.ts';
import { sqliteWriteBench } from './sqlite-write-bench.ts';

/** One hub of 10,000 chips at 1 Hz. */
const HUB_RATE = 10_000;

export async function pgBench(opts: { durationS: number; progress(msg: string): void; chips?: number }): Promise<BenchResult[]> {
  const shape: WriteBenchShape = { ...DEFAULT_SHAPE, hosts: opts.chips ? Math.max(1, Math.round(opts.chips / 16)) : DEFAULT_SHAPE.hosts, seconds: opts.durationS || DEFAULT_SHAPE.seconds };
  const server = PG_BENCH_URL.replace(/\/\/[^@/]*@/, '//');
  const conditions = `${shape.hosts * 16} simulated chips x ${shape.seconds} s per pass (bench/sim-fleet.ts), ${shape.rowsPerStatement} rows per raw statement; PostgreSQL at ${server} (FLEETSCOPE_PG_URL), SQLite on a temp file; figures of one run, the raw-table ones the median of 3`;
  opts.progress(`pg: PostgreSQL writes at ${server} (${shape.hosts * 16} chips x ${shape.seconds} s)`);
  let pg: Figure[];
  try {
    pg = await pgWriteBench(shape);
  } catch (err) {
    return [{ part: 'pg', metric: 'PostgreSQL write benchmark', value: 0, unit: '', target: 'a PostgreSQL server to write to', pass: false, conditions: `${conditions}; failed: ${String(err)}` }];
  }
  opts.progress('pg: SQLite writes, same data');
  const sqlite = await sqliteWriteBench(shape);
  const busy = [...pg, ...sqlite].map((f) => f.machineBusyPct);
  const during = `${conditions}; machine busy ${Math.min(...busy)}-${Math.max(...busy)} % of a core during the runs`;
  const row = (f: Figure, target: string, pass: boolean): BenchResult => ({ part: 'pg', metric: f.what, value: f.perSecond, unit: f.what.includes('log table') ? 'rows/s' : 'chip-samples/s', target, pass, conditions: during });
  return [
    ...pg.map((f) => (f.what.startsWith('store.insertBatches') ? row(f, `>= ${HUB_RATE.toLocaleString('en-US')} (a hub of 10,000 chips at 1 Hz)`, f.perSecond >= HUB_RATE) : row(f, 'info', true))),
    ...sqlite.map((f) => row(f, 'info (SQLite, same data)', true)),
  ];
}
