/**
 * Runs one live-delivery scenario: a hub process (fresh database), a generator process
 * (`live-generator.ts`) and live-client processes (`live-clients.ts`), all on this machine.
 *
 * Auth is on (as by default): an agent token for the generator and a viewer token for the clients
 * are made with `fleetscope token create` before the hub starts. Every connection comes from
 * 127.0.0.1, so the hub's per-address WebSocket cap is raised to fit them all.
 *
 * State machine: hub up -> generator connects and sends (baseline: no live clients) ->
 * client processes connect and subscribe (settle) -> measurement window -> generator stops once
 * every batch is acked -> clients drain 2 s and report -> hub stopped. CPU is read from /proc at
 * the window's edges.
 * FLEETSCOPE_BENCH_PROF_DIR=dir runs every process under `node --cpu-prof` (hub profiles in dir,
 * generator and clients in dir/generator and dir/clients).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './support/free-port.ts';
import { BIN, createToken, runFleetscope, type Proc } from './support/processes.ts';
import { tempDir } from './support/temp-dir.ts';
import type { ClientsConfig, ClientsReport } from './live-clients.ts';
import { benchChipId, type GeneratorConfig, type GeneratorReport } from './live-generator.ts';
import { LatencyHistogram } from './latency-histogram.ts';
import { cpuTimes, machineBusyPct } from './machine-load.ts';
import { procUsage, type ProcUsage } from './proc-usage.ts';
import { cpus } from 'node:os';

const GENERATOR = fileURLToPath(new URL('./live-generator.ts', import.meta.url));
const CLIENTS = fileURLToPath(new URL('./live-clients.ts', import.meta.url));
const CONNECT_MS = 2_000;
/** After the generator is done (all acked), clients keep reading this long. */
const DRAIN_MS = 2_000;
const MAX_DRAIN_MS = 120_000;

/** Shape of one scenario: the load, the clients, and the phases' lengths. */
export interface ScenarioConfig {
  agents: number;
  chips: number;
  intervalMs: number;
  fleetClients: number;
  clientProcs: number;
  /** The first N clients also watch one chip each (distinct chips). */
  chipSubscribers: number;
  baselineS: number;
  /** Time for the clients to connect and get their snapshots before the window. */
  settleS: number;
  measureS: number;
  /** Clients track the longest gap between updates of a chip. */
  trackGaps: boolean;
  /** Fleet subscriptions as the dashboard's (compact `fleet-columns` frames). */
  compact?: boolean;
  progress(msg: string): void;
}

/** What a scenario measured: merged client histograms and counts, generator report, CPU. */
export interface ScenarioResult {
  gen: GeneratorReport;
  fleet: LatencyHistogram;
  chip: LatencyHistogram;
  hub: LatencyHistogram;
  toFrame: LatencyHistogram;
  fleetInWindow: number[];
  chipInWindow: number[];
  /** Samples the generator sent of each watched chip in the window (same order as chipInWindow). */
  chipSentInWindow: number[];
  maxGapMs: number;
  frames: Record<string, number>;
  bytes: number;
  resnapshots: number;
  /** Frames the client processes parsed / reused as byte-identical to one just parsed. */
  decoded: { parsed: number; reused: number };
  errors: string[];
  /** CPU % (100 = one core) over the window; hubBaseline over the baseline phase. */
  cpu: { hub: number; hubBaseline: number; generator: number; clients: number[]; machine: number; others: number };
  hubPeakRssMB: number;
  windowS: number;
  clientsReadyLate: boolean;
}

function spawnTsx(file: string, cfg: unknown, profDir?: string): { child: ChildProcess; lines: string[]; exited: Promise<void> } {
  const prof = profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
  const child = spawn(process.execPath, [...prof, '--import', 'tsx', file, JSON.stringify(cfg)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let buf = '';
  child.stdout!.on('data', (d) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
  });
  return { child, lines, exited: new Promise((r) => child.on('exit', () => r())) };
}

/** The hub as a child process; with `profDir`, under `node --cpu-prof` (profile written at exit). */
function startHubProcess(args: string[], profDir: string | undefined): Proc {
  if (!profDir) return runFleetscope(['hub', ...args]);
  const child = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profDir}`, BIN, 'hub', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited, jsonLogs: () => [] };
}

const sleepUntil = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));
const cpuPct = (a: ProcUsage, b: ProcUsage, ms: number) => Math.round((1000 * (b.cpuS - a.cpuS) * 100) / ms);

/** Runs one scenario end to end (see the file header for its phases). */
export async function runLiveScenario(cfg: ScenarioConfig): Promise<ScenarioResult> {
  const tmp = tempDir('fleetscope-bench-live-');
  const port = await freePort();
  const profDir = process.env.FLEETSCOPE_BENCH_PROF_DIR;
  const db = join(tmp.dir, 'hub.db');
  const agentToken = await createToken(db, 'agent');
  const viewerToken = await createToken(db, 'viewer');
  // Generator and clients all connect from 127.0.0.1: one address holds every WebSocket.
  const perIp = cfg.agents + cfg.fleetClients + 64;
  const hub = startHubProcess(['--port', String(port), '--host', '127.0.0.1', '--db', db, '--log-level', 'warn', '--max-connections-per-ip', String(perIp)], profDir);
  const procs: ChildProcess[] = [hub.child];
  try {
    while (!hub.stdout().includes('listening')) {
      if (hub.child.exitCode !== null) throw new Error('hub exited at start');
      await new Promise((r) => setTimeout(r, 50));
    }
    const url = `ws://127.0.0.1:${port}`;
    const t0 = Date.now();
    const baselineFrom = t0 + CONNECT_MS;
    const baselineUntil = baselineFrom + cfg.baselineS * 1000;
    const windowFrom = baselineUntil + cfg.settleS * 1000;
    const windowTo = windowFrom + cfg.measureS * 1000;
    const stopAt = windowTo + 1000;
    const genCfg: GeneratorConfig = { url, token: agentToken, agents: cfg.agents, chips: cfg.chips, intervalMs: cfg.intervalMs, stopAt, baselineUntil, windowFrom, windowTo };
    const gen = spawnTsx(GENERATOR, genCfg, profDir && `${profDir}/generator`);
    procs.push(gen.child);
    let hubPeak = 0;
    const rss = setInterval(() => {
      try {
        hubPeak = Math.max(hubPeak, procUsage(hub.child.pid!).rssBytes);
      } catch {
        /* gone */
      }
    }, 500);

    await sleepUntil(baselineFrom);
    const hubB0 = procUsage(hub.child.pid!);
    await sleepUntil(baselineUntil);
    const hubB1 = procUsage(hub.child.pid!);
    cfg.progress(`  baseline done; starting ${cfg.clientProcs} client process(es) with ${cfg.fleetClients} clients`);
    const chipSubs = Array.from({ length: cfg.chipSubscribers }, (_, i) => benchChipId(i % cfg.agents, Math.floor(i / cfg.agents) % cfg.chips));
    const clients = Array.from({ length: cfg.clientProcs }, (_, p) => {
      const from = Math.floor((p * cfg.fleetClients) / cfg.clientProcs);
      const to = Math.floor(((p + 1) * cfg.fleetClients) / cfg.clientProcs);
      const c: ClientsConfig = { url, token: viewerToken, clients: to - from, chipSubs: chipSubs.slice(from, to), chipCapacity: cfg.agents * cfg.chips, trackGaps: cfg.trackGaps, compact: cfg.compact, windowFrom, windowTo, stopAt: stopAt + MAX_DRAIN_MS };
      return spawnTsx(CLIENTS, c, profDir && `${profDir}/clients`);
    });
    procs.push(...clients.map((c) => c.child));
    while (!clients.every((c) => c.lines.some((l) => l.startsWith('ready')))) {
      if (Date.now() > windowTo) throw new Error('live clients did not get ready');
      await new Promise((r) => setTimeout(r, 50));
    }
    const clientsReadyLate = Date.now() > windowFrom;
    cfg.progress(`  clients ready ${((Date.now() - baselineUntil) / 1000).toFixed(1)} s after they started${clientsReadyLate ? ' (LATE: after the window started)' : ''}; measuring ${cfg.measureS} s`);
    await sleepUntil(windowFrom);
    const w0 = { hub: procUsage(hub.child.pid!), gen: procUsage(gen.child.pid!), clients: clients.map((c) => procUsage(c.child.pid!)), machine: cpuTimes() };
    await sleepUntil(windowTo);
    const w1 = { hub: procUsage(hub.child.pid!), gen: procUsage(gen.child.pid!), clients: clients.map((c) => procUsage(c.child.pid!)), machine: cpuTimes() };
    const windowMs = windowTo - windowFrom;
    await gen.exited;
    await new Promise((r) => setTimeout(r, DRAIN_MS));
    for (const c of clients) c.child.stdin!.end('stop\n');
    await Promise.all(clients.map((c) => c.exited));
    clearInterval(rss);

    const cpu = { hub: cpuPct(w0.hub, w1.hub, windowMs), hubBaseline: cpuPct(hubB0, hubB1, baselineUntil - baselineFrom), generator: cpuPct(w0.gen, w1.gen, windowMs), clients: w0.clients.map((u, i) => cpuPct(u, w1.clients[i], windowMs)), machine: machineBusyPct(w0.machine, w1.machine, cpus().length), others: 0 };
    cpu.others = Math.max(0, cpu.machine - cpu.hub - cpu.generator - cpu.clients.reduce((a, b) => a + b, 0));
    const genReport = JSON.parse(gen.lines.at(-1)!) as GeneratorReport;
    const reports = clients.map((c) => JSON.parse(c.lines.at(-1)!) as ClientsReport);
    const fleet = new LatencyHistogram();
    const chip = new LatencyHistogram();
    const hubH = new LatencyHistogram();
    const toFrame = new LatencyHistogram();
    const frames: Record<string, number> = {};
    for (const r of reports) {
      fleet.merge(r.fleet);
      chip.merge(r.chip);
      hubH.merge(r.hub);
      toFrame.merge(r.toFrame);
      for (const [k, n] of Object.entries(r.frames)) frames[k] = (frames[k] ?? 0) + n;
    }
    return {
      gen: genReport, fleet, chip, hub: hubH, toFrame, frames,
      fleetInWindow: reports.flatMap((r) => r.fleetInWindow),
      chipInWindow: reports.flatMap((r) => r.chipInWindow).filter((n) => n >= 0),
      chipSentInWindow: chipSubs.map((_, i) => genReport.batchesInWindow[i % cfg.agents]),
      maxGapMs: Math.max(...reports.map((r) => r.maxGapMs)),
      bytes: reports.reduce((n, r) => n + r.bytes, 0),
      resnapshots: reports.reduce((n, r) => n + r.resnapshots, 0),
      decoded: { parsed: reports.reduce((n, r) => n + r.decoded.parsed, 0), reused: reports.reduce((n, r) => n + r.decoded.reused, 0) },
      errors: reports.flatMap((r) => r.errors),
      cpu,
      hubPeakRssMB: Math.round(hubPeak / 1e6),
      windowS: windowMs / 1000,
      clientsReadyLate,
    };
  } catch (err) {
    throw new Error(`${(err as Error).message}; hub exit ${hub.child.exitCode}, hub stderr: ${hub.stderr().slice(-2000)}`);
  } finally {
    hub.child.kill('SIGTERM');
    await Promise.race([hub.exited, new Promise((r) => setTimeout(r, 5000))]);
    for (const p of procs) p.kill('SIGKILL');
    tmp.cleanup();
  }
}
