/**
 * Ingest benchmark: a hub process with a fresh embedded database, a separate generator process
 * (agents with 16 chips each, sending as fast as acks allow). Counts what was persisted, checks
 * it equals what was acknowledged, and reports ack latency and the CPU/RSS of both processes.
 * Targets: >= 150,000 chip-samples/s persisted, p99 ack <= 250 ms, hub RSS <= 512 MB.
 *
 * Then the same for POST /api/v1/write (Influx line protocol), against another fresh hub and
 * database: HTTP clients with 16 chips each, one request in flight per client. Reported beside
 * the WebSocket figures as information (no target); it passes when what was persisted equals
 * the lines acknowledged with 204 and no request failed.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { freePort } from './support/free-port.ts';
import { createToken, runFleetscope } from './support/processes.ts';
import { tempDir } from './support/temp-dir.ts';
import type { BenchResult } from './bench-result.ts';
import { procUsage } from './proc-usage.ts';

const GENERATOR = fileURLToPath(new URL('./ingest-generator.ts', import.meta.url));
const HTTP_GENERATOR = fileURLToPath(new URL('./ingest-http-generator.ts', import.meta.url));
/** Frames per second per agent connection the bench hub allows (`--agent-frame-rate`). */
export const BENCH_FRAME_RATE = 100_000;
const AGENTS = 16;
const WINDOW = 8;

export async function ingestBench(opts: { durationS: number; progress(msg: string): void }): Promise<BenchResult[]> {
  const ws = await wsIngestBench(opts);
  return [...ws, ...(await httpIngestBench(opts))];
}

export interface GeneratorRun<R> {
  /** The generator's last JSON line. */
  res: R;
  /** Samples in chunks after the hub's shutdown fold, and their chunk bytes. */
  stored: number;
  bytes: number;
  hubCpu: number;
  genCpu: number;
  peakRss: number;
}

/**
 * A fresh hub process and database (auth on, as by default: the generator sends an agent token
 * made with `fleetscope token create`, in FLEETSCOPE_TOKEN), a generator process against it for the run, then the hub
 * stopped (it folds its log into chunks on shutdown, so every stored sample is in a chunk) and
 * the database counted. CPU and peak RSS are sampled from /proc meanwhile.
 */
export async function runAgainstFreshHub<R, X = undefined>(
  name: string,
  generator: (port: number) => string[],
  more: { hubArgs?: (dir: string) => string[]; inspect?: (db: Database.Database) => X } = {},
): Promise<GeneratorRun<R> & { extra: X }> {
  const tmp = tempDir(`fleetscope-bench-${name}-`);
  const port = await freePort();
  const db = join(tmp.dir, 'hub.db');
  const token = await createToken(db, 'agent');
  // Generators send as fast as acks allow (hundreds of frames/s per agent, where a real agent sends one a
  // second): the per-agent frame rate limit is raised so the bench measures the ingest pipeline.
  const hub = runFleetscope(['hub', '--port', String(port), '--host', '127.0.0.1', '--db', db, '--log-level', 'warn', '--agent-frame-rate', String(BENCH_FRAME_RATE), ...(more.hubArgs?.(tmp.dir) ?? [])]);
  try {
    while (!hub.stdout().includes('listening')) await new Promise((r) => setTimeout(r, 50));
    const gen = spawn(process.execPath, ['--import', 'tsx', ...generator(port)], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, FLEETSCOPE_TOKEN: token } });
    let out = '';
    gen.stdout.on('data', (d) => (out += d));
    const hub0 = procUsage(hub.child.pid!);
    let gen0 = procUsage(gen.pid!);
    let peakRss = hub0.rssBytes;
    let hubEnd = hub0;
    let genEnd = gen0;
    const t0 = Date.now();
    const sampler = setInterval(() => {
      try {
        hubEnd = procUsage(hub.child.pid!);
        peakRss = Math.max(peakRss, hubEnd.rssBytes);
        genEnd = procUsage(gen.pid!);
        if (Date.now() - t0 < 1000) gen0 = genEnd;
      } catch {
        /* exited */
      }
    }, 250);
    await new Promise((r) => gen.on('exit', r));
    clearInterval(sampler);
    const elapsed = (Date.now() - t0) / 1000;
    const res = JSON.parse(out.trim().split('\n').at(-1)!) as R;
    hub.child.kill('SIGTERM');
    await hub.exited;
    const sqlite = new Database(db, { readonly: true });
    const row = sqlite.prepare('select coalesce(sum(n), 0) n, coalesce(sum(length(data)), 0) b from sample_chunks').get() as { n: number; b: number };
    const extra = more.inspect?.(sqlite) as X;
    sqlite.close();
    return {
      extra,
      res,
      stored: row.n,
      bytes: row.b,
      hubCpu: (100 * (hubEnd.cpuS - hub0.cpuS)) / elapsed,
      genCpu: (100 * (genEnd.cpuS - gen0.cpuS)) / elapsed,
      peakRss,
    };
  } finally {
    hub.child.kill('SIGKILL');
    tmp.cleanup();
  }
}

async function wsIngestBench(opts: { durationS: number; progress(msg: string): void }): Promise<BenchResult[]> {
  opts.progress(`ingest: ${AGENTS} agents x 16 chips, ${WINDOW} batches in flight each, ${opts.durationS} s`);
  const run = await runAgainstFreshHub<{ elapsedS: number; samples: number; ackP99Ms: number }>('ingest', (port) => [GENERATOR, `ws://127.0.0.1:${port}`, String(AGENTS), String(WINDOW), String(opts.durationS)]);
  const { res, stored, bytes, peakRss } = run;
  const rate = stored / res.elapsedS;
  const conditions = `WebSocket /ws/agent, ${AGENTS} agents x 16 chips (13 fields), ${WINDOW} batches in flight per agent, ${opts.durationS} s, generator in a separate process on the same machine, hub --agent-frame-rate ${BENCH_FRAME_RATE}; hub CPU ${Math.round(run.hubCpu)} %, generator CPU ${Math.round(run.genCpu)} % (100 % = one core); persisted ${stored}, acknowledged ${res.samples}${stored === res.samples ? ' (equal)' : ' (DIFFERENT)'}`;
  return [
    { part: 'ingest', metric: 'ws ingest, chip-samples/s persisted', value: Math.round(rate), unit: '/s', target: '>= 150,000', pass: rate >= 150_000 && stored === res.samples, conditions },
    { part: 'ingest', metric: 'ws ack latency p99', value: Math.round(res.ackP99Ms), unit: 'ms', target: '<= 250 ms', pass: res.ackP99Ms <= 250, conditions },
    { part: 'ingest', metric: 'stored bytes per chip-sample (chunk data)', value: Math.round((10 * bytes) / Math.max(1, stored)) / 10, unit: 'B', target: '<= 24 B', pass: bytes / Math.max(1, stored) <= 24, conditions },
    { part: 'ingest', metric: 'hub peak RSS', value: Math.round(peakRss / 1e6), unit: 'MB', target: '<= 512 MB', pass: peakRss <= 512e6, conditions },
  ];
}

/**
 * HTTP clients (hosts of 16 chips each, one request in flight per client) and ticks per request
 * (each request carries HTTP_TICKS x 16 chips lines). The hub applies writes one at a time, one
 * transaction each, so throughput follows request size more than client count. Measured on the
 * 2-core dev machine, 12 s runs: 16 x 8 (128 lines) ~75-86k/s; 32 x 4 and 32 x 8 lower still;
 * 16 x 16 ~87k/s; 8 x 32 (512 lines) ~107-113k/s; 4 x 32 ~109-115k/s; 4 x 64 / 8 x 64 ~110-120k/s;
 * 2 x 128 ~117-130k/s. From 512 lines per request it is a plateau within run-to-run noise, and
 * bigger requests or fewer clients only trade hosts for latency; 8 x 32 sits on it with 8 hosts
 * (128 chips) writing concurrently and p99 ~100 ms.
 */
const HTTP_CLIENTS = 8;
const HTTP_TICKS = 32;

async function httpIngestBench(opts: { durationS: number; progress(msg: string): void }): Promise<BenchResult[]> {
  const linesPerRequest = HTTP_TICKS * 16;
  opts.progress(`ingest: POST /api/v1/write, ${HTTP_CLIENTS} clients x 16 chips, ${HTTP_TICKS} ticks (${linesPerRequest} lines) per request, 1 in flight each, ${opts.durationS} s`);
  const run = await runAgainstFreshHub<{ elapsedS: number; requests: number; lines: number; non204: number; errors: number; latencyP50Ms: number; latencyP99Ms: number }>('ingest-http', (port) => [
    HTTP_GENERATOR,
    `http://127.0.0.1:${port}`,
    String(HTTP_CLIENTS),
    String(HTTP_TICKS),
    String(opts.durationS),
  ]);
  const { res, stored } = run;
  const rate = stored / res.elapsedS;
  const ok = stored === res.lines && res.lines > 0 && res.non204 === 0 && res.errors === 0;
  const conditions =
    `HTTP POST /api/v1/write (Influx line protocol, ns timestamps, 11 fields), ${HTTP_CLIENTS} clients x 16 chips (one host each, keep-alive), ` +
    `${HTTP_TICKS} ticks per request = ${linesPerRequest} lines per request, 1 request in flight per client, ${opts.durationS} s, generator in a separate process on the same machine; ` +
    `hub CPU ${Math.round(run.hubCpu)} %, generator CPU ${Math.round(run.genCpu)} % (100 % = one core), hub peak RSS ${Math.round(run.peakRss / 1e6)} MB; ` +
    `requests ${res.requests} (non-204 ${res.non204}, failed ${res.errors}), latency p50 ${Math.round(res.latencyP50Ms)} ms; ` +
    `persisted ${stored}, acknowledged ${res.lines}${stored === res.lines ? ' (equal)' : ' (DIFFERENT)'}`;
  const target = 'info (same pipeline as /ws/agent)';
  return [
    { part: 'ingest', metric: 'http line protocol ingest, chip-samples/s persisted', value: Math.round(rate), unit: '/s', target, pass: ok, conditions },
    { part: 'ingest', metric: 'http request latency p99', value: Math.round(res.latencyP99Ms), unit: 'ms', target, pass: ok, conditions },
  ];
}
