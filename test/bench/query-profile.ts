/**
 * Where the time of a one-chip /series query goes, measured in this process on the seeded file
 * with the hub's own read path: the SQL alone, decoding the rows alone, the store read
 * (readRollups: SQL + decode + cut to the range), assembling the columns (assembleSeries) and
 * JSON serialization. Averages after warm-up runs; the hub is not running meanwhile.
 */
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { assembleSeries } from '../../server/history/series-assembly.ts';
import { decodeRollupRow } from '../../server/rollups/rollup-codec.ts';
import { ROLLUP_FIELDS, TIERS } from '../../server/rollups/rollup-fields.ts';

/** The two fields the benchmark query asks for, as ROLLUP_FIELDS indexes. */
const FIELDS = new Set([ROLLUP_FIELDS.indexOf('utilPct'), ROLLUP_FIELDS.indexOf('powerW')]);
import { RecentSamples } from '../../server/store/recent-samples.ts';
import { readRollups } from '../../server/store/rollup-reads.ts';
import { DAY_MS } from './query-dataset.ts';

export interface QueryProfile {
  runs: number;
  rows: number;
  sqlMs: number;
  decodeMs: number;
  storeReadMs: number;
  assembleMs: number;
  jsonMs: number;
}

export function profileChipQuery(path: string, chipIds: readonly string[], runs = 10, warmup = 3): QueryProfile {
  const client = new Database(path, { readonly: true });
  try {
    const db = drizzle(client);
    const { bucketMs, rowSpanMs } = TIERS['1m'];
    const rowsOf = client.prepare("SELECT row_start AS rowStart, data FROM rollups WHERE tier = '1m' AND key = ? AND row_start >= ? AND row_start <= ? ORDER BY row_start");
    const sum = { sql: 0, decode: 0, read: 0, assemble: 0, json: 0 };
    let rows = 0;
    for (let i = 0; i < warmup + runs; i++) {
      const chip = chipIds[i % chipIds.length];
      const to = Date.now();
      const from = to - 30 * DAY_MS;
      const t0 = performance.now();
      const raw = rowsOf.all(chip, from - (from % rowSpanMs), to) as { rowStart: number; data: Buffer }[];
      const t1 = performance.now();
      for (const r of raw) decodeRollupRow(r.data, r.rowStart, bucketMs, FIELDS);
      const t2 = performance.now();
      const buckets = readRollups(client, db, new RecentSamples(), { tier: '1m', keys: [chip], from: from - (from % bucketMs), to, fields: ['utilPct', 'powerW'] });
      const t3 = performance.now();
      const columns = assembleSeries({ from, to, stepMs: bucketMs, fields: ['utilPct', 'powerW'], agg: 'avg', groups: [{ label: chip, tags: { chipId: chip }, keys: [chip] }], buckets });
      const t4 = performance.now();
      JSON.stringify(columns);
      const t5 = performance.now();
      if (i < warmup) continue;
      rows = raw.length;
      sum.sql += t1 - t0;
      sum.decode += t2 - t1;
      sum.read += t3 - t2;
      sum.assemble += t4 - t3;
      sum.json += t5 - t4;
    }
    const avg = (x: number) => Math.round((10 * x) / runs) / 10;
    return { runs, rows, sqlMs: avg(sum.sql), decodeMs: avg(sum.decode), storeReadMs: avg(sum.read), assembleMs: avg(sum.assemble), jsonMs: avg(sum.json) };
  } finally {
    client.close();
  }
}
