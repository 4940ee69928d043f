/**
 * History query benchmark: seeds 1,000 chips × 30 days at the 1-minute tier (plus the 1-hour tier,
 * fleet rollups, and 48 h of raw samples for 100 chips) into a fresh embedded database, measures
 * bytes on disk per chip-sample for each tier, then times /api/v1/series through a real hub
 * process on that file: one chip over 30 days at a 1-minute step, and the fleet average over 30
 * days at a 1-hour step. Targets: p95 <= 100 ms and <= 300 ms; raw tier <= 24 B per chip-sample.
 * The database is deleted at the end unless FLEETSCOPE_BENCH_KEEP=1.
 */
import { join } from 'node:path';
import { createToken, runFleetscope, type Proc } from './support/processes.ts';
import { tempDir } from './support/temp-dir.ts';
import type { BenchResult } from './bench-result.ts';
import { profileChipQuery } from './query-profile.ts';
import { seedQueryDataset, type SeedResult } from './query-seed.ts';
import { timeRequests, type Timing } from './query-timing.ts';

const WARMUP = 5;
const MIN_REQUESTS = 30;
/** Chips the one-chip query cycles through (spread over every model, raw hosts included). */
const CHIPS_IN_ROTATION = 40;
const CHIP_POINTS = 30 * 24 * 60 + 1;
const FLEET_POINTS = 30 * 24 + 1;

async function listeningPort(hub: Proc): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const m = /listening on http:\/\/[^:\s]+:(\d+)/.exec(hub.stdout());
    if (m) return Number(m[1]);
    if (hub.child.exitCode !== null) throw new Error(`hub exited with ${hub.child.exitCode}: ${hub.stderr().slice(-500)}`);
    if (Date.now() - t0 > 120_000) throw new Error('hub did not start within 120 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
const per = (bytes: number, n: number) => Math.round((10 * bytes) / Math.max(1, n)) / 10;

function describeSeed(s: SeedResult): string {
  const chips = s.hosts.reduce((n, h) => n + h.chips.length, 0);
  const models = new Map<string, number>();
  for (const h of s.hosts) models.set(h.model, (models.get(h.model) ?? 0) + h.chips.length);
  const mix = [...models].map(([m, n]) => `${n} ${m}`).join(', ');
  const rawPer = s.payload.chunks.map((c) => `${c.vendor} ${per(c.bytes, c.samples)} B`).join(', ');
  const tier = (t: string) => s.payload.rollups.find((r) => r.tier === t) ?? { rows: 0, bytes: 0 };
  return [
    `${chips} chips on ${s.hosts.length} hosts (${mix}); 1m tier over 30 d ending at seeding time: ${(s.chipMinutes / 1e6).toFixed(1)} M chip-minute buckets made from the simulators' workload model at minute resolution (each host's job schedule split into phase pieces per minute; per chip the phase means, traits, per-second noise and the extremes a piece of that length shows, quantized as the sources report; thermal lag; Neuron power one value per minute; n = 60, energy = integral of power, 60 energy pairs)`,
    `raw tier: 48 h at 1 s for ${s.hosts.filter((h) => h.raw).reduce((n, h) => n + h.chips.length, 0)} of the chips, read from sim-nvml/sim-neuron themselves (${(s.rawSamples / 1e6).toFixed(2)} M samples in ${s.chunks} chunks of up to 4,096 samples via encodeChunk; their last 48 h of minute buckets via bucketize)`,
    `1h tier: each chip's minute buckets merged per hour (mergeBucket); fleet keys (@vendor/model): the model's chips merged, both tiers`,
    `seeded in ${s.seconds.toFixed(0)} s (raw and 1m tiers ${s.rawAnd1mSeconds.toFixed(0)} s) by ${s.processes} seeding processes writing through this one; database ${mb(s.after.fileBytes)}`,
    `bytes on disk from SQLite dbstat (table b-tree + its indexes, page slack included, after a WAL checkpoint), raw and 1m measured before the 1h tier was written: raw ${mb(s.before1h.tables.get('sample_chunks') ?? 0)} (chunk data alone ${rawPer} per sample; Neuron chunks carry the per-NeuronCore utilization extras), 1m ${mb(s.before1h.tables.get('rollups') ?? 0)} for ${tier('1m').rows} rows incl. ${s.fleetRows1m} fleet rows (row data alone ${per(tier('1m').bytes, s.chipMinutes)} B per chip-minute, ${Math.round(tier('1m').bytes / Math.max(1, tier('1m').rows))} B per row), 1h ${mb((s.after.tables.get('rollups') ?? 0) - (s.before1h.tables.get('rollups') ?? 0))} for ${tier('1h').rows} rows (row data alone ${per(tier('1h').bytes, s.chipHours)} B per chip-hour)`,
  ].join('; ');
}

function describeTiming(name: string, t: Timing): string {
  const fail = t.failures.length ? `, ${t.failures.length} FAILED answers, first: ${t.failures[0]}` : '';
  return `${name}: ${t.n} timed after ${WARMUP} warm-up, p50 ${t.p50} ms, p95 ${t.p95} ms, max ${t.max} ms, ${t.points} points per series, answer ${(t.bytes / 1e3).toFixed(0)} kB, ${(100 * t.nonNull).toFixed(1)} % of values non-null${fail}`;
}

export async function queryBench(opts: { durationS: number; progress(msg: string): void }): Promise<BenchResult[]> {
  const tmp = tempDir('fleetscope-bench-query-');
  const keep = process.env.FLEETSCOPE_BENCH_KEEP === '1';
  const path = join(tmp.dir, 'query.db');
  let hub: Proc | null = null;
  try {
    const seed = await seedQueryDataset(path, opts.progress);
    // Auth is on (as by default): the queries go with a viewer token made as an operator would.
    const viewer = { authorization: `Bearer ${await createToken(path, 'viewer')}` };
    hub = runFleetscope(['hub', '--port', '0', '--host', '127.0.0.1', '--db', path, '--log-level', 'warn']);
    const base = `http://127.0.0.1:${await listeningPort(hub)}/api/v1/series`;
    const all = seed.hosts.flatMap((h) => h.chips.map((c) => c.chipId));
    const step = Math.floor(all.length / CHIPS_IN_ROTATION);
    const rotation = Array.from({ length: CHIPS_IN_ROTATION }, (_, i) => all[i * step]);
    const n = Math.max(MIN_REQUESTS, opts.durationS);
    opts.progress(`query: hub up; one chip, 30 d at 1 m step: ${WARMUP} warm-up + ${n} timed requests`);
    const chipUrls = rotation.map((id) => `${base}?chip=${encodeURIComponent(id)}&fields=utilPct,powerW&from=now-30d&to=now&step=1m&maxPoints=50000`);
    const one = await timeRequests(chipUrls, WARMUP, n, { points: CHIP_POINTS, columns: 3 }, viewer);
    opts.progress(`query: fleet average, 30 d at 1 h step: ${WARMUP} warm-up + ${n} timed requests`);
    const fleet = await timeRequests([`${base}?groupBy=fleet&fields=utilPct,powerW&from=now-30d&to=now&step=1h`], WARMUP, n, { points: FLEET_POINTS, columns: 3 }, viewer);
    hub.child.kill('SIGTERM');
    await hub.exited;
    opts.progress('query: profiling the one-chip query in this process');
    const prof = await profileChipQuery(path, rotation);
    const profile = `one-chip query in this process, hub's read path (avg of ${prof.runs}): SQL ${prof.sqlMs} ms, decoding its ${prof.rows} rows ${prof.decodeMs} ms, read into the answer's columns (RollupReader + SeriesBuilder: SQL + decode + binning) ${prof.seriesMs} ms, JSON.stringify ${prof.jsonMs} ms`;
    const conditions = [
      describeSeed(seed),
      `queries: GET /api/v1/series on a hub process (fleetscope hub) on the seeded file, sent one at a time from the bench process, timed from request to last body byte; one chip cycles through ${CHIPS_IN_ROTATION} chips of every model`,
      describeTiming('one chip (chip=ID&fields=utilPct,powerW&from=now-30d&to=now&step=1m&maxPoints=50000)', one),
      describeTiming('fleet average (groupBy=fleet&fields=utilPct,powerW&from=now-30d&to=now&step=1h)', fleet),
      profile,
    ].join('; ');
    const rawBytes = seed.before1h.tables.get('sample_chunks') ?? 0;
    const m1Bytes = seed.before1h.tables.get('rollups') ?? 0;
    const h1Bytes = (seed.after.tables.get('rollups') ?? 0) - m1Bytes;
    return [
      { part: 'query', metric: 'one chip, 30 d at 1 m step (43,201 points × 2 fields), p95', value: one.p95, unit: 'ms', target: '<= 100 ms', pass: one.p95 <= 100 && one.failures.length === 0, conditions },
      { part: 'query', metric: 'fleet average, 30 d at 1 h step (721 points × 2 fields), p95', value: fleet.p95, unit: 'ms', target: '<= 300 ms', pass: fleet.p95 <= 300 && fleet.failures.length === 0, conditions },
      { part: 'query', metric: 'bytes on disk per chip-sample, raw tier', value: per(rawBytes, seed.rawSamples), unit: 'B', target: '<= 24 B', pass: rawBytes / seed.rawSamples <= 24, conditions },
      { part: 'query', metric: 'bytes on disk per chip-minute bucket, 1m tier', value: per(m1Bytes, seed.chipMinutes), unit: 'B', target: '—', pass: true, conditions },
      { part: 'query', metric: 'bytes on disk per chip-hour bucket, 1h tier', value: per(h1Bytes, seed.chipHours), unit: 'B', target: '—', pass: true, conditions },
    ];
  } finally {
    hub?.child.kill('SIGKILL');
    if (keep) opts.progress(`query: kept the seeded database at ${path} (FLEETSCOPE_BENCH_KEEP=1)`);
    else tmp.cleanup();
  }
}
