/**
 * Ingest benchmark: a hub process with a fresh embedded database, a separate generator process
 * (agents with 16 chips each, sending as fast as acks allow). Counts what was persisted, checks
 * it equals what was acknowledged, and reports ack latency and the CPU/RSS of both processes.
 * Targets: >= 150,000 chip-samples/s persisted, p99 ack <= 250 ms, hub RSS <= 512 MB.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { freePort } from '../helpers/free-port.ts';
import { runFleetscope } from '../helpers/processes.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import type { BenchResult } from './bench-result.ts';
import { procUsage } from './proc-usage.ts';

const GENERATOR = fileURLToPath(new URL('./ingest-generator.ts', import.meta.url));
const AGENTS = 16;
const WINDOW = 8;

export async function ingestBench(opts: { durationS: number; progress(msg: string): void }): Promise<BenchResult[]> {
  const tmp = tempDir('fleetscope-bench-ingest-');
  const port = await freePort();
  const db = join(tmp.dir, 'hub.db');
  const hub = runFleetscope(['hub', '--port', String(port), '--host', '127.0.0.1', '--db', db, '--log-level', 'warn']);
  try {
    while (!hub.stdout().includes('listening')) await new Promise((r) => setTimeout(r, 50));
    opts.progress(`ingest: ${AGENTS} agents x 16 chips, ${WINDOW} batches in flight each, ${opts.durationS} s`);
    const gen = spawn(process.execPath, ['--import', 'tsx', GENERATOR, `ws://127.0.0.1:${port}`, String(AGENTS), String(WINDOW), String(opts.durationS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    gen.stdout.on('data', (d) => (out += d));
    const hub0 = procUsage(hub.child.pid!);
    let gen0 = procUsage(gen.pid!);
    let peakRss = hub0.rssBytes;
    const t0 = Date.now();
    const timer = setInterval(() => {
      try {
        peakRss = Math.max(peakRss, procUsage(hub.child.pid!).rssBytes);
      } catch {
        /* hub gone */
      }
    }, 500);
    let hubEnd = hub0;
    let genEnd = gen0;
    const sampler = setInterval(() => {
      try {
        hubEnd = procUsage(hub.child.pid!);
        genEnd = procUsage(gen.pid!);
        if (Date.now() - t0 < 1000) gen0 = genEnd;
      } catch {
        /* exited */
      }
    }, 250);
    await new Promise((r) => gen.on('exit', r));
    clearInterval(timer);
    clearInterval(sampler);
    const elapsed = (Date.now() - t0) / 1000;
    const res = JSON.parse(out.trim().split('\n').at(-1)!);
    hub.child.kill('SIGTERM');
    await hub.exited;
    const sqlite = new Database(db, { readonly: true });
    // The hub folds its log into chunks on shutdown: every stored sample is in a chunk.
    const stored = (sqlite.prepare('select coalesce(sum(n), 0) n from sample_chunks').get() as { n: number }).n;
    const bytes = (sqlite.prepare('select coalesce(sum(length(data)), 0) b from sample_chunks').get() as { b: number }).b;
    sqlite.close();
    const rate = stored / res.elapsedS;
    const hubCpu = (100 * (hubEnd.cpuS - hub0.cpuS)) / elapsed;
    const genCpu = (100 * (genEnd.cpuS - gen0.cpuS)) / elapsed;
    const conditions = `WebSocket /ws/agent, ${AGENTS} agents x 16 chips (13 fields), ${WINDOW} batches in flight per agent, ${opts.durationS} s, generator in a separate process on the same machine; hub CPU ${Math.round(hubCpu)} %, generator CPU ${Math.round(genCpu)} % (100 % = one core); persisted ${stored}, acknowledged ${res.samples}${stored === res.samples ? ' (equal)' : ' (DIFFERENT)'}`;
    return [
      { part: 'ingest', metric: 'ws ingest, chip-samples/s persisted', value: Math.round(rate), unit: '/s', target: '>= 150,000', pass: rate >= 150_000 && stored === res.samples, conditions },
      { part: 'ingest', metric: 'ws ack latency p99', value: Math.round(res.ackP99Ms), unit: 'ms', target: '<= 250 ms', pass: res.ackP99Ms <= 250, conditions },
      { part: 'ingest', metric: 'stored bytes per chip-sample (chunk data)', value: Math.round((10 * bytes) / Math.max(1, stored)) / 10, unit: 'B', target: '<= 24 B', pass: bytes / Math.max(1, stored) <= 24, conditions },
      { part: 'ingest', metric: 'hub peak RSS', value: Math.round(peakRss / 1e6), unit: 'MB', target: '<= 512 MB', pass: peakRss <= 512e6, conditions },
    ];
  } finally {
    hub.child.kill('SIGKILL');
    tmp.cleanup();
  }
}
