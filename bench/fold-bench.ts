/**
 * The fold alone: how fast the compactor turns the sample log into chunks and rollups at fleet
 * shape. A database is seeded with N chips (default 10,000) as N / 16 simulated hosts (values from
 * the agents' simulators, bench/sim-fleet.ts), written to the sample log as the writer thread
 * writes it (sample records, one log row per 16 agents' batches): first one sample per chip and
 * minute for the hour's first 45 minutes, folded untimed (a hub in the middle of an hour, whose
 * rollup rows hold those minutes), then one sample per chip and second from minute 45, folded in
 * steps sized as the compactor thread sizes them (fold-steps.ts), in this process, on one
 * connection. Reports chip-samples folded per second of fold time, per step, the process's peak
 * RSS growth while folding, the time to seal the hour (as the compactor does once it is over) and
 * to merge the fold's chunks (as it does once they are 10 minutes old), and the bytes of the timed
 * samples' chunks, as folded and merged, and of all rollup rows after sealing per chip-sample.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { openSqliteStore } from '../server/store/sqlite-store.ts';
import { encodeSampleRecord } from '../server/store/sample-records.ts';
import { Compactor } from '../server/store/writer/compaction.ts';
import { stepFor } from '../server/store/writer/fold-steps.ts';
import { ROW_BATCHES } from '../server/store/writer/writer-protocol.ts';
import { SEAL_AFTER_MS } from '../server/store/writer/hour-seal.ts';
import { ChunkMerger, MERGE_AFTER_MS } from '../server/store/writer/chunk-merge.ts';
import { bucketStart, TIERS } from '../server/rollups/rollup-fields.ts';
import { setUpConnection } from '../server/store/sqlite-connection.ts';
import { CHIPS_PER_HOST, simHost } from './sim-fleet.ts';
import { tempDir } from './support/temp-dir.ts';
import type { BenchResult } from './bench-result.ts';

/** Agents' batches per log row, as the writer thread writes them. */
const BATCHES_PER_ROW = ROW_BATCHES;
/** Steps folded: the first and the steady ones after it. */
const STEPS = 4;
/** Minutes of the hour folded before the timed steps. */
const WARM_MINUTES = 45;

export async function foldBench(opts: { progress(msg: string): void; chips?: number }): Promise<BenchResult[]> {
  const chips = opts.chips ?? 10_000;
  const hosts = Array.from({ length: Math.ceil(chips / CHIPS_PER_HOST) }, (_, h) => simHost(h));
  const step = stepFor(chips);
  const seconds = Math.ceil((STEPS * step) / chips);
  const tmp = tempDir('fleetscope-bench-fold-');
  try {
    const path = join(tmp.dir, 'hub.db');
    const store = await openSqliteStore(path);
    for (const h of hosts) await store.registerAgent({ agentId: `agent-${h.host.hostname}`, agentVersion: 'bench', intervalMs: 1000, host: h.host, chips: h.chips }, Date.now());
    await store.close();

    opts.progress(`fold: seeding the log with ${hosts.length * CHIPS_PER_HOST} chips x ${seconds} s (${STEPS} steps of ${step.toLocaleString('en-US')} samples)`);
    const client = setUpConnection(new Database(path), 10_000);
    client.pragma('wal_autocheckpoint = 0');
    const insert = client.prepare('INSERT INTO sample_log (received_at, n, data) VALUES (?, ?, ?)');
    // A hub in the middle of an hour: its first WARM_MINUTES minutes are folded already (one
    // sample per chip and minute, untimed), so each key's rollup rows of the hour hold that many
    // minutes when the timed steps add theirs. The hour is the current one: the hour the
    // compactor leaves open, whatever the wall clock's minute.
    const hour = bucketStart(Date.now(), TIERS['1h'].bucketMs);
    const t0 = hour + WARM_MINUTES * 60_000;
    let seeded = 0;
    const seedSecond = client.transaction((ts: number) => {
      for (let g = 0; g < hosts.length; g += BATCHES_PER_ROW) {
        const records = hosts.slice(g, g + BATCHES_PER_ROW).map((h) => encodeSampleRecord(h.next(ts)));
        const n = records.length * CHIPS_PER_HOST;
        insert.run(Date.now(), n, Buffer.concat(records));
        seeded += n;
      }
    });
    let compactor = new Compactor(drizzle(client));
    let peakRss = process.memoryUsage().rss;
    for (let m = 0; m < WARM_MINUTES; m++) seedSecond(hour + m * 60_000);
    while (compactor.compactLog(step) > 0) compactor.takeReadings();
    compactor.deleteFolded();
    // Their chunks merged too, as they would be by then (untimed), so that the timed chunks merge among themselves.
    const merger = new ChunkMerger(client);
    merger.mergeAll(t0 + MERGE_AFTER_MS);
    const warm = seeded;
    for (let s = 0; s < seconds; s++) seedSecond(t0 + s * 1000);
    // The timed folds by a new compactor, as after a hub restart: its first step looks up each
    // chip's newest chunk, the steps after it know them.
    compactor = new Compactor(drizzle(client));
    seeded -= warm;
    client.pragma('wal_checkpoint(TRUNCATE)');

    opts.progress(`fold: folding ${seeded.toLocaleString('en-US')} samples`);
    const steps: { ms: number; samples: number }[] = [];
    const foldedSince = client.prepare('SELECT coalesce(sum(n), 0) AS n FROM sample_chunks WHERE start_ts >= ?');
    for (let before = 0; ; ) {
      const started = performance.now();
      if (compactor.compactLog(step) === 0) break;
      compactor.takeReadings();
      const ms = performance.now() - started;
      const folded = (foldedSince.get(t0) as { n: number }).n;
      steps.push({ ms, samples: folded - before });
      before = folded;
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
    // The hours the fold left open, sealed as the compactor seals them once they are over: a pass
    // over every key with a 1-minute row in the hour, once an hour.
    const sealStarted = performance.now();
    const keys = compactor.sealHours(hour + TIERS['1h'].bucketMs + SEAL_AFTER_MS);
    const sealMs = performance.now() - sealStarted;
    const chunkBytes = client.prepare('SELECT coalesce(sum(n), 0) AS n, coalesce(sum(length(data)), 0) AS b FROM sample_chunks WHERE start_ts >= ?');
    const folded = chunkBytes.get(t0) as { n: number; b: number };
    // The fold's chunks are plain until chunk-merge.ts rewrites them, once they are
    // MERGE_AFTER_MS old, as the long-term chunks a chip keeps: those passes, timed.
    const mergeAt = t0 + seconds * 1000 + MERGE_AFTER_MS;
    const mergeStarted = performance.now();
    const replaced = merger.mergeAll(mergeAt);
    const mergeMs = performance.now() - mergeStarted;
    const chunks = chunkBytes.get(t0) as { n: number; b: number };
    const merged = client.prepare('SELECT count(*) FROM sample_chunks WHERE start_ts >= ?').pluck().get(t0) as number;
    const rollups = client.prepare('SELECT coalesce(sum(length(data)), 0) AS b FROM rollups').get() as { b: number };
    const allSamples = chunks.n + warm;
    client.close();

    const rate = (xs: typeof steps) => xs.reduce((n, s) => n + s.samples, 0) / (xs.reduce((n, s) => n + s.ms, 0) / 1000);
    const steady = steps.length > 1 ? steps.slice(1) : steps;
    const conditions = `${hosts.length * CHIPS_PER_HOST} chips (H100, H200 and Trainium2 simulators), one sample per chip and second, ${seeded.toLocaleString('en-US')} samples in log rows of ${BATCHES_PER_ROW} agents' batches, after ${warm.toLocaleString('en-US')} of the hour's first ${WARM_MINUTES} minutes (one a minute per chip, folded untimed), folded in ${steps.length} steps of up to ${step.toLocaleString('en-US')} samples (${Math.round(step / chips)} per chip) on one connection in the bench process; step times ${steps.map((s) => `${Math.round(s.ms)} ms`).join(', ')}; stored ${chunks.n.toLocaleString('en-US')} samples`;
    const label = `${(hosts.length * CHIPS_PER_HOST).toLocaleString('en-US')} chips`;
    return [
      { part: 'fold', metric: `${label}: chip-samples folded per second in the hour's 46th minute, steady steps (first step, after a restart)`, value: Math.round(rate(steady)), unit: `/s (${Math.round(rate(steps.slice(0, 1)))} /s)`, target: '>= 150,000 (the ingest target)', pass: rate(steady) >= 150_000 && folded.n === seeded && chunks.n === seeded, conditions },
      { part: 'fold', metric: `${label}: sealing the hour once it is over (${keys.toLocaleString('en-US')} keys)`, value: Math.round(sealMs), unit: `ms (${Math.round((1000 * sealMs) / Math.max(1, keys))} µs per key)`, target: 'info', pass: true, conditions },
      { part: 'fold', metric: `${label}: merging the chunks once they are 10 minutes old (${replaced.toLocaleString('en-US')} chunks into ${merged.toLocaleString('en-US')})`, value: Math.round(mergeMs), unit: `ms (${((1000 * mergeMs) / Math.max(1, chunks.n)).toFixed(2)} µs per chip-sample)`, target: 'info', pass: true, conditions },
      { part: 'fold', metric: `${label}: peak RSS of the bench process while folding`, value: Math.round(peakRss / 1e6), unit: 'MB', target: 'info', pass: true, conditions },
      { part: 'fold', metric: `${label}: bytes per chip-sample, merged chunks / rollup rows (after sealing, all samples); the fold's plain chunks`, value: Math.round((10 * chunks.b) / Math.max(1, chunks.n)) / 10, unit: `B / ${Math.round((10 * rollups.b) / Math.max(1, allSamples)) / 10} B; ${Math.round((10 * folded.b) / Math.max(1, folded.n)) / 10} B`, target: 'raw <= 8 B', pass: chunks.b / Math.max(1, chunks.n) <= 8, conditions },
    ];
  } finally {
    tmp.cleanup();
  }
}
