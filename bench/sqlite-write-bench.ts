/**
 * SQLite's figure beside PostgreSQL's (bench/pg-write-bench.ts): the same simulated fleet written
 * through the embedded store (`openSqliteStore` on a temp file: writer thread, group commit,
 * compactor thread folding behind) with the same calls — one insertBatches per simulated second
 * of every host's batch of 16, one call at a time, then four in flight — and the fold timed apart.
 */
import { join } from 'node:path';
import { openSqliteStore } from '../server/store/sqlite-store.ts';
import type { Sample } from '../schema/sample.ts';
import { tempDir } from './support/temp-dir.ts';
import { benchHosts, fleetSeconds, timed, type Figure, type WriteBenchShape } from './pg-write-bench.ts';

export async function sqliteWriteBench(shape: WriteBenchShape): Promise<Figure[]> {
  const tmp = tempDir('fleetscope-bench-sqlite-');
  const hosts = benchHosts(shape.hosts);
  const t0 = Math.floor(Date.now() / 86_400_000) * 86_400_000 + 60_000;
  const first = fleetSeconds(hosts, t0, shape.seconds);
  const later = fleetSeconds(hosts, t0 + shape.seconds * 1000, shape.seconds);
  const samples = first.flat().length;
  const store = await openSqliteStore(join(tmp.dir, 'bench.db'));
  const figures: Figure[] = [];
  try {
    for (const [h, host] of hosts.entries()) await store.registerAgent({ agentId: `pgbench-${h}`, agentVersion: 'bench', intervalMs: 1000, host: host.host, chips: host.chips }, t0);
    const batchesOf = (second: Sample[], s: number) => hosts.map((_, h) => ({ agentId: `pgbench-${h}`, seq: s, samples: second.slice(h * 16, h * 16 + 16) }));
    figures.push(await timed(`SQLite store.insertBatches, ${shape.hosts} batches of 16 per call, one call at a time`, samples, async () => {
      for (const [s, second] of first.entries()) await store.insertBatches(batchesOf(second, s));
    }));
    figures.push(await timed(`SQLite store.insertBatches, ${shape.hosts} batches of 16 per call, 4 calls in flight`, samples, async () => {
      for (let s = 0; s < later.length; s += 4) await Promise.all(later.slice(s, s + 4).map((second, k) => store.insertBatches(batchesOf(second, shape.seconds + s + k))));
    }));
    figures.push(await timed('SQLite store.flush: fold of what is left in the log', 2 * samples, () => store.flush()));
    const stored = await store.countSamples();
    if (stored !== 2 * samples) throw new Error(`the SQLite store holds ${stored} samples, ${2 * samples} were sent`);
  } finally {
    await store.close();
    tmp.cleanup();
  }
  return figures;
}
