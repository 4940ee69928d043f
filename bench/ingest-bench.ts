/**
 * Ingest benchmark at fleet shape. For each chip count (the curve 1,000 / 10,000 / 100,000, or
 * `--chips N`), two runs, each against a fresh hub process and embedded database, the load from a
 * separate generator process with values from the agents' simulators (bench/sim-fleet.ts):
 * - WebSocket: N / 16 agents of 16 chips on /ws/agent, 8 batches in flight each, batches as JSON
 *   text and, in a second run, as binary frames (schema/batch-frame.ts);
 * - line protocol: N / 16 hosts written by 8 HTTP clients (one request of 512 lines in flight
 *   each) to POST /api/v1/write.
 * Both send as fast as acks allow, or with `--rate R` every chip at R Hz. Each run counts what was
 * persisted (it must equal what was acknowledged), ack / request latency, the hub's CPU and peak
 * RSS, and bytes on disk per chip-sample: the whole database (file, WAL) and the raw tier (chunk
 * data) alone, as the stopped hub left them and once its chunk merge has run on them (run here,
 * as the hub runs it 10 minutes after a fold), and the bytes the hub wrote to storage during the
 * run per chip-sample. A reference row keeps the old shape (16 agents x 16 chips, near-constant
 * values).
 * Targets (2-core machine): at 10,000 chips >= 150,000 chip-samples/s, p99 <= 250 ms, peak RSS
 * <= 512 MB both ways in; 100,000 chips within 25 % of 1,000 chips' throughput; <= 12 B per
 * chip-sample on disk, <= 8 B in the raw tier; one chip's last hour and its `/series` at 1 m
 * answered with p95 <= 50 ms during 10,000-chip ingest at 100,000 chip-samples/s (bench/read-probe.ts:
 * a binary run of 10,000 chips at 10 Hz of its own, or with `--rate`, during the WebSocket runs).
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { freePort } from './support/free-port.ts';
import { createToken, runFleetscope } from './support/processes.ts';
import { tempDir } from './support/temp-dir.ts';
import type { BenchResult } from './bench-result.ts';
import { ChunkMerger, MERGE_AFTER_MS } from '../server/store/writer/chunk-merge.ts';
import { procUsage } from './proc-usage.ts';
import { percentileOf, readProbe, type ReadProbeResult } from './read-probe.ts';

const GENERATOR = fileURLToPath(new URL('./ingest-generator.ts', import.meta.url));
const HTTP_GENERATOR = fileURLToPath(new URL('./ingest-http-generator.ts', import.meta.url));
/** Frames per second per agent connection the bench hub allows (`--agent-frame-rate`). */
export const BENCH_FRAME_RATE = 100_000;
/** The reference shape (the figure of earlier versions): 16 agents x 16 chips, 8 batches in flight each. */
const REF_AGENTS = 16;
const REF_WINDOW = 8;
/** Fleet-shape runs: batches in flight per agent; HTTP clients and lines per request. */
const WINDOW = 8;
const HTTP_CLIENTS = 8;
const HTTP_LINES = 512;
const CURVE = [1_000, 10_000, 100_000];
/** The bench hub's connection bound per address (all agents come from 127.0.0.1). */
const BENCH_CONNECTIONS_PER_IP = 200_000;

export interface IngestBenchOptions {
  durationS: number;
  progress(msg: string): void;
  /** One chip count instead of the curve. */
  chips?: number;
  /** Every chip at this many Hz (default: as fast as acks allow). */
  rate?: number;
}

export async function ingestBench(opts: IngestBenchOptions): Promise<BenchResult[]> {
  const counts = opts.chips ? [opts.chips] : CURVE;
  const runs: FleetRun[] = [];
  // Paced runs are read from as they go; runs as fast as acks allow are not (reads get a paced run of their own).
  const probed = opts.rate !== undefined;
  for (const chips of counts) {
    runs.push(await wsFleetRun(chips, 'json', opts, probed));
    runs.push(await wsFleetRun(chips, 'binary', opts, probed));
    runs.push(await httpFleetRun(chips, opts));
  }
  const results = runs.flatMap((r) => fleetResults(r, opts));
  if (!probed && counts.includes(READS_CHIPS)) {
    const paced = { ...opts, rate: READS_HZ };
    results.push(...readRunResults(await wsFleetRun(READS_CHIPS, 'binary', paced, true), paced));
  }
  // Flat cost: the largest chip count against the smallest, each way in, when driven as fast as acks allow.
  if (!opts.rate && counts.length > 1) {
    for (const way of ['ws json', 'ws binary', 'http'] as const) {
      const mine = runs.filter((r) => wayOf(r) === way);
      const lo = mine[0]!;
      const hi = mine[mine.length - 1]!;
      const ratio = hi.rate / Math.max(1, lo.rate);
      results.push({ part: 'ingest', metric: `${way} throughput at ${fmt(hi.chips)} chips vs ${fmt(lo.chips)} chips`, value: Math.round(ratio * 100), unit: '%', target: '>= 75 %', pass: ratio >= 0.75, conditions: conditionsOf(hi, opts) });
    }
  }
  results.push(...(await referenceBench(opts)));
  return results;
}

const fmt = (n: number) => n.toLocaleString('en-US');

interface FleetRun {
  way: 'ws' | 'http';
  /** How the WebSocket run's batches went. */
  frames?: 'json' | 'binary';
  /** Agents whose batches went as binary frames (the hub offered them). */
  binaryAgents?: number;
  chips: number;
  rate: number;
  stored: number;
  acked: number;
  p99Ms: number;
  late: number;
  failed: number;
  hubCpu: number;
  genCpu: number;
  peakRss: number;
  /** Bytes the hub wrote to storage during the run. */
  writtenBytes: number;
  rawBytes: number;
  fileBytes: number;
  freeBytes: number;
  /** Chunk bytes and the database's files once the hub's chunk merge has run. */
  mergedRawBytes: number;
  mergedFileBytes: number;
  alertBytes: number;
  /** History reads asked for during the run (WebSocket runs). */
  reads?: ReadProbeResult;
}

/**
 * Reads during ingest are measured where the target sets them: 10,000 chips, every chip at 10 Hz
 * (100,000 chip-samples/s), binary frames; in a run of their own unless the runs are paced anyway.
 */
const READS_CHIPS = 10_000;
const READS_HZ = 10;
/** Reads during ingest start this long into a run (agents connected, the log filling) and pause this long between requests. */
const READ_WARMUP_MS = 10_000;
const READ_PAUSE_MS = 100;

/** `ws json` / `ws binary` / `http`: a run's way in, as the results name it. */
const wayOf = (r: FleetRun) => (r.way === 'ws' ? `ws ${r.frames}` : r.way);

async function wsFleetRun(chips: number, frames: 'json' | 'binary', opts: IngestBenchOptions, reads: boolean): Promise<FleetRun> {
  const agents = Math.ceil(chips / 16);
  opts.progress(`ingest: ${fmt(agents * 16)} chips over /ws/agent, ${frames} batches (${agents} agents x 16, ${WINDOW} batches in flight each, ${opts.rate ? `${opts.rate} Hz` : 'as fast as acks allow'}), ${opts.durationS} s`);
  const run = await runAgainstFreshHub<{ elapsedS: number; samples: number; ackP99Ms: number; late: number; binaryAgents: number }>(
    `ingest-ws-${frames}-${chips}`,
    (port) => [GENERATOR, `ws://127.0.0.1:${port}`, String(agents), String(WINDOW), String(opts.durationS), 'sim', String(opts.rate ?? 0)],
    {
      hubArgs: () => ['--max-connections-per-ip', String(BENCH_CONNECTIONS_PER_IP)],
      during: reads ? (base, token, until) => readProbe({ base, token, warmupMs: READ_WARMUP_MS, pauseMs: READ_PAUSE_MS, until }) : undefined,
      genEnv: { FLEETSCOPE_GEN_FRAMES: frames },
    },
  );
  return { way: 'ws', frames, binaryAgents: run.res.binaryAgents, reads: run.reads, chips: agents * 16, rate: run.stored / run.res.elapsedS, stored: run.stored, acked: run.res.samples, p99Ms: run.res.ackP99Ms, late: run.res.late, failed: 0, hubCpu: run.hubCpu, genCpu: run.genCpu, peakRss: run.peakRss, writtenBytes: run.hubWrittenBytes, rawBytes: run.bytes, fileBytes: run.fileBytes, freeBytes: run.freeBytes, mergedRawBytes: run.mergedBytes, mergedFileBytes: run.mergedFileBytes, alertBytes: run.alertBytes };
}

async function httpFleetRun(chips: number, opts: IngestBenchOptions): Promise<FleetRun> {
  const hosts = Math.ceil(chips / 16);
  opts.progress(`ingest: ${fmt(hosts * 16)} chips over POST /api/v1/write (${hosts} hosts, ${HTTP_CLIENTS} clients, ${HTTP_LINES} lines per request, ${opts.rate ? `${opts.rate} Hz` : 'as fast as answers allow'}), ${opts.durationS} s`);
  const run = await runAgainstFreshHub<{ elapsedS: number; requests: number; lines: number; non204: number; errors: number; late: number; latencyP99Ms: number }>(`ingest-http-${chips}`, (port) => [
    HTTP_GENERATOR,
    `http://127.0.0.1:${port}`,
    String(HTTP_CLIENTS),
    String(HTTP_LINES),
    String(opts.durationS),
    String(hosts),
    String(opts.rate ?? 0),
  ]);
  return { way: 'http', chips: hosts * 16, rate: run.stored / run.res.elapsedS, stored: run.stored, acked: run.res.lines, p99Ms: run.res.latencyP99Ms, late: run.res.late, failed: run.res.non204 + run.res.errors, hubCpu: run.hubCpu, genCpu: run.genCpu, peakRss: run.peakRss, writtenBytes: run.hubWrittenBytes, rawBytes: run.bytes, fileBytes: run.fileBytes, freeBytes: run.freeBytes, mergedRawBytes: run.mergedBytes, mergedFileBytes: run.mergedFileBytes, alertBytes: run.alertBytes };
}

function conditionsOf(r: FleetRun, opts: IngestBenchOptions): string {
  const how = r.way === 'ws' ? `WebSocket /ws/agent, ${r.chips / 16} agents x 16 chips, ${WINDOW} batches in flight per agent, batches as ${r.frames === 'binary' ? `binary frames (${r.binaryAgents} of ${r.chips / 16} agents)` : 'JSON text'}` : `POST /api/v1/write (line protocol, ns timestamps), ${r.chips / 16} hosts x 16 chips, ${HTTP_CLIENTS} clients with one ${HTTP_LINES}-line request in flight each`;
  return (
    `${how}, ${opts.rate ? `every chip at ${opts.rate} Hz` : 'as fast as acks allow'}, values from the agents' simulators (H100, H200, Trainium2 hosts), ${opts.durationS} s, ` +
    `fresh hub process + database, generator in a separate process on the same machine; hub CPU ${Math.round(r.hubCpu)} %, generator CPU ${Math.round(r.genCpu)} % (100 % = one core); ` +
    `database ${(r.fileBytes / 1e6).toFixed(1)} MB of which ${(r.freeBytes / 1e6).toFixed(1)} MB free pages (the folded log's, reused by later writes; ${(r.fileBytes - r.freeBytes) / Math.max(1, r.stored) < 100 ? ((r.fileBytes - r.freeBytes) / Math.max(1, r.stored)).toFixed(1) : Math.round((r.fileBytes - r.freeBytes) / Math.max(1, r.stored))} B per chip-sample without them), of which the alert history ${(r.alertBytes / 1e6).toFixed(1)} MB (${(r.alertBytes / Math.max(1, r.stored)).toFixed(1)} B per chip-sample); persisted ${r.stored}, acknowledged ${r.acked}${r.stored === r.acked ? ' (equal)' : ' (DIFFERENT)'}${r.failed ? `, ${r.failed} requests failed` : ''}${r.late ? `, ${r.late} sends late (the hub did not keep up with the rate)` : ''}`
  );
}

function fleetResults(r: FleetRun, opts: IngestBenchOptions): BenchResult[] {
  const conditions = conditionsOf(r, opts);
  // A binary run in which some agent sent JSON (the hub did not offer binary frames) measured the wrong thing.
  const ok = r.stored === r.acked && r.stored > 0 && r.failed === 0 && (r.frames !== 'binary' || r.binaryAgents === r.chips / 16);
  const at10k = r.chips === 10_000;
  const label = `${wayOf(r)} ${fmt(r.chips)} chips`;
  const perSample = (bytes: number) => Math.round((10 * bytes) / Math.max(1, r.stored)) / 10;
  const rows: BenchResult[] = [
    { part: 'ingest', metric: `${label}: chip-samples/s persisted`, value: Math.round(r.rate), unit: '/s', target: at10k && !opts.rate ? '>= 150,000' : 'info', pass: ok && (!at10k || !!opts.rate || r.rate >= 150_000), conditions },
    { part: 'ingest', metric: `${label}: ${r.way === 'ws' ? 'ack' : 'request'} latency p99`, value: Math.round(r.p99Ms), unit: 'ms', target: '<= 250 ms', pass: r.p99Ms <= 250, conditions },
    { part: 'ingest', metric: `${label}: hub peak RSS`, value: Math.round(r.peakRss / 1e6), unit: 'MB', target: r.chips >= 100_000 ? '<= 1,024 MB' : '<= 512 MB', pass: r.peakRss <= (r.chips >= 100_000 ? 1024e6 : 512e6), conditions },
    { part: 'ingest', metric: `${label}: bytes on disk per chip-sample, whole database / raw tier`, value: perSample(r.fileBytes), unit: `B / ${perSample(r.rawBytes)} B`, target: '<= 12 B / <= 8 B', pass: r.fileBytes / Math.max(1, r.stored) <= 12 && r.rawBytes / Math.max(1, r.stored) <= 8, conditions },
    { part: 'ingest', metric: `${label}: the same once the hub has merged the chunks (10 minutes after they were folded)`, value: perSample(r.mergedFileBytes), unit: `B / ${perSample(r.mergedRawBytes)} B`, target: '<= 12 B / <= 8 B', pass: r.mergedFileBytes / Math.max(1, r.stored) <= 12 && r.mergedRawBytes / Math.max(1, r.stored) <= 8, conditions },
    { part: 'ingest', metric: `${label}: bytes the hub wrote to storage during the run, per chip-sample acknowledged`, value: Math.round(r.writtenBytes / Math.max(1, r.acked)), unit: 'B', target: 'info', pass: true, conditions },
  ];
  if (r.reads) rows.push(...readResults(r, r.reads, label, conditions));
  if (opts.rate) rows.push({ part: 'ingest', metric: `${label}: sends late for the rate`, value: r.late, unit: '', target: '0', pass: r.late === 0, conditions });
  return rows;
}

/** The run that reads were asked for during (10,000 chips at 10 Hz): what it ingested, and the reads' p95. */
function readRunResults(r: FleetRun, paced: IngestBenchOptions): BenchResult[] {
  const conditions = conditionsOf(r, paced);
  const label = `${wayOf(r)} ${fmt(r.chips)} chips at ${paced.rate} Hz`;
  const ok = r.stored === r.acked && r.stored > 0 && r.binaryAgents === r.chips / 16;
  return [
    { part: 'ingest', metric: `${label}: chip-samples/s persisted while history was read`, value: Math.round(r.rate), unit: '/s', target: 'info', pass: ok, conditions },
    { part: 'ingest', metric: `${label}: ack latency p99`, value: Math.round(r.p99Ms), unit: 'ms', target: 'info', pass: ok, conditions },
    { part: 'ingest', metric: `${label}: sends late for the rate`, value: r.late, unit: '', target: '0', pass: r.late === 0, conditions },
    ...readResults(r, r.reads!, label, conditions),
  ];
}

/** p95 of one chip's last hour (raw samples) and of its `/series` at 1 m, asked for during the run; the target holds at 10,000 chips. */
function readResults(r: FleetRun, reads: ReadProbeResult, label: string, ingest: string): BenchResult[] {
  const at10k = r.chips === 10_000;
  const conditions = `one chip (${reads.chipId || 'none'}) asked for one request at a time, ${READ_PAUSE_MS} ms apart, from ${READ_WARMUP_MS / 1000} s into the run to its end; ${reads.samplesMs.length} + ${reads.seriesMs.length} answers, ${reads.failures.length} failed${reads.failures.length ? ` (${reads.failures.slice(0, 3).join('; ')})` : ''}; during: ${ingest}`;
  const asks: [string, number[]][] = [
    ["one chip's last hour of raw samples (/api/v1/chips/:id/samples)", reads.samplesMs],
    ["one chip's /series at 1 m over the last hour", reads.seriesMs],
  ];
  return asks.map(([what, ms]) => {
    const p95 = percentileOf(ms, 95);
    return { part: 'ingest', metric: `${label}: ${what} during ingest, p95`, value: Math.round(p95 * 10) / 10, unit: 'ms', target: at10k ? '<= 50 ms' : 'info', pass: ms.length > 0 && reads.failures.length === 0 && (!at10k || p95 <= 50), conditions };
  });
}

export interface GeneratorRun<R> {
  /** The generator's last JSON line. */
  res: R;
  /** Samples in chunks after the hub's shutdown fold, and their chunk bytes. */
  stored: number;
  bytes: number;
  /** The database's files (main file, WAL) after the hub stopped, and the free pages in them (the sample log's space, reused). */
  fileBytes: number;
  freeBytes: number;
  /** The chunks' bytes and the database's files once the hub's chunk merge has run (its chunks 10 minutes old). */
  mergedBytes: number;
  mergedFileBytes: number;
  /** Pages of the alert history (transitions, their shared texts, their indexes) in the file. */
  alertBytes: number;
  hubCpu: number;
  /** Bytes the hub wrote to storage while the generator ran (/proc/<pid>/io write_bytes; not its shutdown fold). */
  hubWrittenBytes: number;
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
  more: {
    hubArgs?: (dir: string) => string[];
    inspect?: (db: Database.Database) => X;
    /** Runs beside the generator, against the hub at `base` with a viewer token, until `until` (the generator's exit) resolves. */
    during?: (base: string, viewerToken: string, until: Promise<unknown>) => Promise<ReadProbeResult>;
    /** More environment for the generator. */
    genEnv?: Record<string, string>;
  } = {},
): Promise<GeneratorRun<R> & { extra: X; reads?: ReadProbeResult }> {
  const tmp = tempDir(`fleetscope-bench-${name}-`);
  const port = await freePort();
  const db = join(tmp.dir, 'hub.db');
  const token = await createToken(db, 'agent');
  const viewer = more.during ? await createToken(db, 'viewer') : '';
  // Generators send as fast as acks allow (hundreds of frames/s per agent, where a real agent sends one a
  // second): the per-agent frame rate limit is raised so the bench measures the ingest pipeline.
  const hub = runFleetscope(['hub', '--port', String(port), '--host', '127.0.0.1', '--db', db, '--log-level', 'warn', '--agent-frame-rate', String(BENCH_FRAME_RATE), ...(more.hubArgs?.(tmp.dir) ?? [])]);
  try {
    while (!hub.stdout().includes('listening')) await new Promise((r) => setTimeout(r, 50));
    const gen = spawn(process.execPath, ['--import', 'tsx', ...generator(port)], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...more.genEnv, FLEETSCOPE_TOKEN: token } });
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
    const genExit = new Promise((r) => gen.on('exit', r));
    const reads = more.during?.(`http://127.0.0.1:${port}`, viewer, genExit);
    await genExit;
    clearInterval(sampler);
    // the probe's last request finishes before the hub stops
    const probed = await reads;
    const elapsed = (Date.now() - t0) / 1000;
    const res = JSON.parse(out.trim().split('\n').at(-1)!) as R;
    hub.child.kill('SIGTERM');
    await hub.exited;
    const sqlite = new Database(db, { readonly: true });
    const row = sqlite.prepare('select coalesce(sum(n), 0) n, coalesce(sum(length(data)), 0) b from sample_chunks').get() as { n: number; b: number };
    const extra = more.inspect?.(sqlite) as X;
    sqlite.close();
    // The WAL folded back into the file first: what stays on disk, not the last run's write-ahead pages.
    const rw = new Database(db);
    rw.pragma('wal_checkpoint(TRUNCATE)');
    const freeBytes = (rw.pragma('freelist_count', { simple: true }) as number) * (rw.pragma('page_size', { simple: true }) as number);
    const alertBytes = rw.prepare(`SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name LIKE 'alert_transitions%' OR name LIKE 'alert_series%' OR name LIKE 'alert_texts%'`).pluck().get() as number;
    const dbFiles = () =>
      readdirSync(tmp.dir)
        .filter((f) => f.startsWith('hub.db'))
        .reduce((n, f) => n + statSync(join(tmp.dir, f)).size, 0);
    const fileBytes = dbFiles();
    // The fold's chunks are plain until the hub merges them, once they are 10 minutes old
    // (chunk-merge.ts): what the same file holds then, the merge run here as the hub would run it.
    const newest = rw.prepare('SELECT coalesce(max(end_ts), 0) FROM sample_chunks').pluck().get() as number;
    new ChunkMerger(rw).mergeAll(newest + MERGE_AFTER_MS);
    const mergedBytes = rw.prepare('select coalesce(sum(length(data)), 0) from sample_chunks').pluck().get() as number;
    rw.pragma('incremental_vacuum');
    rw.pragma('wal_checkpoint(TRUNCATE)');
    rw.close();
    const mergedFileBytes = dbFiles();
    return {
      extra,
      reads: probed,
      res,
      stored: row.n,
      bytes: row.b,
      fileBytes,
      freeBytes,
      mergedBytes,
      mergedFileBytes,
      alertBytes,
      hubCpu: (100 * (hubEnd.cpuS - hub0.cpuS)) / elapsed,
      hubWrittenBytes: hubEnd.writeBytes - hub0.writeBytes,
      genCpu: (100 * (genEnd.cpuS - gen0.cpuS)) / elapsed,
      peakRss,
    };
  } finally {
    hub.child.kill('SIGKILL');
    tmp.cleanup();
  }
}

/** The reference row: the shape of earlier versions' figure (16 agents x 16 chips, near-constant values, 8 batches in flight). */
async function referenceBench(opts: IngestBenchOptions): Promise<BenchResult[]> {
  opts.progress(`ingest: reference, ${REF_AGENTS} agents x 16 chips, ${REF_WINDOW} batches in flight each, near-constant values, ${opts.durationS} s`);
  const run = await runAgainstFreshHub<{ elapsedS: number; samples: number; ackP99Ms: number }>('ingest', (port) => [GENERATOR, `ws://127.0.0.1:${port}`, String(REF_AGENTS), String(REF_WINDOW), String(opts.durationS)]);
  const { res, stored } = run;
  const rate = stored / res.elapsedS;
  const conditions = `reference shape: WebSocket /ws/agent, ${REF_AGENTS} agents x 16 chips (13 fields, near-constant values), ${REF_WINDOW} batches in flight per agent, ${opts.durationS} s, generator in a separate process on the same machine, hub --agent-frame-rate ${BENCH_FRAME_RATE}; hub CPU ${Math.round(run.hubCpu)} %, generator CPU ${Math.round(run.genCpu)} %, hub peak RSS ${Math.round(run.peakRss / 1e6)} MB, ack p99 ${Math.round(res.ackP99Ms)} ms; persisted ${stored}, acknowledged ${res.samples}${stored === res.samples ? ' (equal)' : ' (DIFFERENT)'}`;
  return [{ part: 'ingest', metric: 'reference: ws 256 chips, chip-samples/s persisted', value: Math.round(rate), unit: '/s', target: 'info', pass: stored === res.samples && stored > 0, conditions }];
}
