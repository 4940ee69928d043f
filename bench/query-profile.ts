/**
 * Where the time of a one-chip /series query goes, measured in this process on the seeded file
 * with the hub's own read path: the SQL alone, decoding the rows alone (decodeRollupColumns), the
 * whole read into the answer's columns (RollupReader feeding a SeriesBuilder: SQL + decode +
 * binning) and JSON serialization. Averages after warm-up runs; the hub is not running meanwhile.
 */
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { SeriesBuilder } from '../server/history/series-assembly.ts';
import { decodeRollupColumns } from '../server/rollups/rollup-codec.ts';
import { RowColumns } from '../server/rollups/rollup-columns.ts';
import { ROLLUP_FIELDS, TIERS } from '../server/rollups/rollup-fields.ts';
import { UnfoldedLogIndex } from '../server/store/unfolded-log-index.ts';
import { RollupReader } from '../server/store/rollup-reads.ts';
import { DAY_MS } from './query-dataset.ts';

/** The two fields the benchmark query asks for, as ROLLUP_FIELDS indexes. */
const FIELDS = new Set([ROLLUP_FIELDS.indexOf('utilPct'), ROLLUP_FIELDS.indexOf('powerW')]);

export interface QueryProfile {
  runs: number;
  rows: number;
  sqlMs: number;
  decodeMs: number;
  seriesMs: number;
  jsonMs: number;
}

export async function profileChipQuery(path: string, chipIds: readonly string[], runs = 10, warmup = 3): Promise<QueryProfile> {
  const client = new Database(path, { readonly: true });
  try {
    const db = drizzle(client);
    const { bucketMs, rowSpanMs } = TIERS['1m'];
    const rowsOf = client.prepare("SELECT row_start AS rowStart, data FROM rollups WHERE tier = '1m' AND key = ? AND row_start >= ? AND row_start <= ? ORDER BY row_start");
    const sum = { sql: 0, decode: 0, series: 0, json: 0 };
    const cols = new RowColumns();
    // Reads without pausing: this measures the work, not the event loop's turns.
    const reader = new RollupReader(client, db, new UnfoldedLogIndex(), { everyMs: Number.POSITIVE_INFINITY, pause: async () => {} });
    let rows = 0;
    for (let i = 0; i < warmup + runs; i++) {
      const chip = chipIds[i % chipIds.length];
      const to = Date.now();
      const from = to - 30 * DAY_MS;
      const t0 = performance.now();
      const raw = rowsOf.all(chip, from - (from % rowSpanMs), to) as { rowStart: number; data: Buffer }[];
      const t1 = performance.now();
      for (const r of raw) decodeRollupColumns(r.data, r.rowStart, bucketMs, cols, FIELDS, false);
      const t2 = performance.now();
      const builder = new SeriesBuilder({ from, to, stepMs: bucketMs, fields: ['utilPct', 'powerW'], agg: 'avg', groups: [{ label: chip, tags: { chipId: chip }, keys: [chip] }] });
      await reader.read({ tier: '1m', keys: [chip], from: from - (from % bucketMs), to, fields: ['utilPct', 'powerW'] }, (key, c) => builder.add(key, c));
      const columns = builder.columns();
      const t3 = performance.now();
      JSON.stringify(columns);
      const t4 = performance.now();
      if (i < warmup) continue;
      rows = raw.length;
      sum.sql += t1 - t0;
      sum.decode += t2 - t1;
      sum.series += t3 - t2;
      sum.json += t4 - t3;
    }
    const avg = (x: number) => Math.round((10 * x) / runs) / 10;
    return { runs, rows, sqlMs: avg(sum.sql), decodeMs: avg(sum.decode), seriesMs: avg(sum.series), jsonMs: avg(sum.json) };
  } finally {
    client.close();
  }
}
