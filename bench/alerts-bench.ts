/**
 * Alerts benchmark, two parts.
 *
 * 1. Cost on ingest: two runs, each a fresh hub process and database, 625 agents x 16 chips
 *    (10,000 chips) from a generator process (ingest-generator.ts with moving values: bench/moving-values.ts, wall-clock
 *    timestamps, ~3 % of chips hot) sending as fast as acks allow: (a) a rules file that disables
 *    every built-in and has no rules, (b) the built-ins plus 50 user rules (alertsUserRules).
 *    Reports chip-samples/s persisted for both and the change; target: (b) within 10 % of (a).
 *    The runs go in pairs, (a) then (b), and the change is the median of the pairs' changes: a
 *    single 20 s run at this load varies by ~10 % on its own (folding's timing).
 * 2. Notification latency: a fresh hub with a webhook receiver (a node:http server in this process)
 *    and a rule `powerW > 650 for 2s` on 20 chips of one agent (a WebSocket client in this process,
 *    agent token, one batch a second). Chips are pushed over the threshold at known ticks (two a
 *    second, 4 s high then 6 s low); latency = webhook arrival - (crossing sample's ts + 2 s).
 *    Target: p99 <= 1 s. Measured three times: on a hub with no other load, and under load — the
 *    same probe (its 20 chips beside the others) on a hub that meanwhile takes 10,000 chips with
 *    the built-ins + 50 user rules and a second receiver taking every other alert: the chips at
 *    1 Hz (a fleet's rate), and sending as fast as acks allow (part 1's (b) load).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { PROTOCOL_VERSION } from '../schema/protocol-constants.ts';
import { BUILTIN_RULE_IDS } from '../schema/alert-rules.ts';
import { freePort } from './support/free-port.ts';
import { createToken, runFleetscope, type Proc } from './support/processes.ts';
import { tempDir } from './support/temp-dir.ts';
import type { BenchResult } from './bench-result.ts';
import { procUsage, type ProcUsage } from './proc-usage.ts';
import { BENCH_FRAME_RATE, runAgainstFreshHub } from './ingest-bench.ts';

const GENERATOR = fileURLToPath(new URL('./ingest-generator.ts', import.meta.url));
const AGENTS = 625;
const WINDOW = 2;
const BUILTINS = BUILTIN_RULE_IDS;

type Progress = (msg: string) => void;

export async function alertsBench(opts: { durationS: number; progress: Progress }): Promise<BenchResult[]> {
  return [...(await costBench(opts)), ...(await latencyBench(opts))];
}

// ---------- part 1: cost on ingest ----------

/** 50 user rules over the fields the generator moves, varied thresholds, selectors and `for`. */
export function alertsUserRules(): object[] {
  const templates: { field: string; op: string; thresholds: number[]; clear?: (t: number) => number }[] = [
    { field: 'powerPctOfLimit', op: '>=', thresholds: [95, 97, 98, 99], clear: (t) => t - 3 },
    { field: 'powerW', op: '>', thresholds: [650, 670, 685, 690] },
    { field: 'tempC', op: '>=', thresholds: [80, 84, 85, 87], clear: (t) => t - 5 },
    { field: 'memUsedPct', op: '>', thresholds: [90, 95, 97, 98], clear: (t) => t - 5 },
    { field: 'utilPct', op: '<', thresholds: [2, 5, 10] },
  ];
  const hosts = Array.from({ length: 20 }, (_, i) => `bench-host-${i * 7}`);
  const chips = Array.from({ length: 32 }, (_, i) => `GPU-bench-${String(i * 3).padStart(4, '0')}-${String(i % 16).padStart(2, '0')}`);
  const selectors: object[] = [{}, { model: ['H100'] }, { model: ['H200'] }, { vendor: ['nvidia'] }, { host: hosts }, { chip: chips }];
  const fors = ['30s', '45s', '1m', '2m', '5m'];
  const severities = ['info', 'warning', 'critical'];
  return Array.from({ length: 50 }, (_, i) => {
    const tpl = templates[i % templates.length]!;
    const threshold = tpl.thresholds[Math.floor(i / templates.length) % tpl.thresholds.length]!;
    const rule: Record<string, unknown> = {
      id: `bench-${i}`,
      name: `Bench${tpl.field}${i}`,
      selector: selectors[i % selectors.length],
      field: tpl.field,
      op: tpl.op,
      threshold,
      for: fors[i % fors.length],
      severity: severities[i % severities.length],
      labels: { team: `team-${i % 4}` },
      summary: `{{chip}} on {{host}}: ${tpl.field} {{value}}`,
    };
    if (tpl.clear && i % 2 === 0) rule.clear = { threshold: tpl.clear(threshold), for: '30s' };
    if (i % 10 === 9) rule.and = [{ field: 'utilPct', op: '>', threshold: 50 }];
    return rule;
  });
}

interface CostRun {
  rate: number;
  stored: number;
  acked: number;
  ackP99Ms: number;
  hubCpu: number;
  genCpu: number;
  peakRss: number;
  transitions: number;
  firing: number;
}

async function costRun(name: string, rules: object, durationS: number): Promise<CostRun> {
  const run = await runAgainstFreshHub<{ elapsedS: number; samples: number; ackP99Ms: number }, { n: number; f: number }>(
    name,
    (port) => [GENERATOR, `ws://127.0.0.1:${port}`, String(AGENTS), String(WINDOW), String(durationS), 'moving'],
    {
      hubArgs: (dir) => {
        const rulesFile = join(dir, 'rules.json');
        writeFileSync(rulesFile, JSON.stringify(rules, null, 2));
        return ['--rules', rulesFile];
      },
      inspect: (db) => db.prepare("select count(*) n, coalesce(sum(to_phase = 'firing'), 0) f from alert_events").get() as { n: number; f: number },
    },
  );
  return {
    rate: run.stored / run.res.elapsedS,
    stored: run.stored,
    acked: run.res.samples,
    ackP99Ms: run.res.ackP99Ms,
    hubCpu: run.hubCpu,
    genCpu: run.genCpu,
    peakRss: run.peakRss,
    transitions: run.extra.n,
    firing: run.extra.f,
  };
}

/** Pairs of runs, (a) then (b), one after the other: the machine's drift between runs falls on both of a pair. */
const PAIRS = 3;

const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function costBench(opts: { durationS: number; progress: Progress }): Promise<BenchResult[]> {
  const off = Object.fromEntries(BUILTINS.map((id) => [id, { enabled: false }]));
  const userRules = alertsUserRules();
  const as: CostRun[] = [];
  const bs: CostRun[] = [];
  for (let i = 1; i <= PAIRS; i++) {
    opts.progress(`alerts: pair ${i}/${PAIRS} (a) no rules: ${AGENTS} agents x 16 chips, ${WINDOW} batches in flight each, ${opts.durationS} s`);
    as.push(await costRun('alerts-none', { builtins: off, rules: [] }, opts.durationS));
    opts.progress(`alerts: pair ${i}/${PAIRS} (b) built-ins + ${userRules.length} user rules, same load`);
    bs.push(await costRun('alerts-rules', { rules: userRules }, opts.durationS));
  }
  const changes = as.map((a, i) => (100 * (bs[i]!.rate - a.rate)) / a.rate);
  const change = median(changes);
  const describe = (r: CostRun) =>
    `${Math.round(r.rate)}/s, persisted ${r.stored} vs acknowledged ${r.acked}${r.stored === r.acked ? ' (equal)' : ' (DIFFERENT)'}, ack p99 ${Math.round(r.ackP99Ms)} ms, hub CPU ${Math.round(r.hubCpu)} %, generator CPU ${Math.round(r.genCpu)} %, hub peak RSS ${Math.round(r.peakRss / 1e6)} MB, alert transitions ${r.transitions} (${r.firing} to firing)`;
  const conditions =
    `WebSocket /ws/agent, ${AGENTS} agents x 16 chips = ${AGENTS * 16} chips, ${WINDOW} batches in flight per agent, sending as fast as acks allow (not 1 Hz: the hub's cost per sample is what is compared), ` +
    `hub --agent-frame-rate ${BENCH_FRAME_RATE}, ${opts.durationS} s per run, each run a fresh hub process + db, generator in a separate process on the same machine (they share the cores); ` +
    `values move (60 s utilisation sine per chip, ~3 % of chips hot: >=98.6 % of power limit, ~88 C, 98.5 % HBM), wall-clock timestamps so 'for' runs in real time; ` +
    `${PAIRS} pairs of runs, (a) then (b), the change taken per pair (${changes.map((c) => `${c.toFixed(1)} %`).join(', ')}) and its median reported; ` +
    `(a) rules file disabling all ${BUILTINS.length} built-ins, no user rules: ${as.map(describe).join('; ')}; (b) built-ins + ${userRules.length} user rules (powerPctOfLimit/powerW/tempC/memUsedPct/utilPct, 6 selector kinds, for 30s-5m, some clear/and): ${bs.map(describe).join('; ')}`;
  const ok = (r: CostRun) => r.stored === r.acked && r.stored > 0;
  const allOk = [...as, ...bs].every(ok);
  return [
    { part: 'alerts', metric: 'ingest, no rules, chip-samples/s persisted (median)', value: Math.round(median(as.map((r) => r.rate))), unit: '/s', target: 'info (baseline)', pass: as.every(ok), conditions },
    { part: 'alerts', metric: `ingest, built-ins + ${userRules.length} rules, chip-samples/s persisted (median)`, value: Math.round(median(bs.map((r) => r.rate))), unit: '/s', target: 'info', pass: bs.every(ok), conditions },
    { part: 'alerts', metric: 'ingest change with rules (median of pairs)', value: Math.round(change * 10) / 10, unit: '%', target: '>= -10 %', pass: change >= -10 && allOk, conditions },
  ];
}

// ---------- part 2: crossing -> webhook latency ----------

const LAT_CHIPS = 20;
const LAT_FOR_MS = 2000;
const LAT_THRESHOLD = 650;
/** Per chip: a cycle of 10 ticks, 4 high; chips 2k and 2k+1 start at tick 2 + k (two crossings a second). */
const CYCLE = 10;
const HIGH_TICKS = 4;

function latChip(j: number): string {
  return `GPU-alertlat-${String(j).padStart(2, '0')}`;
}

interface LatencyRun {
  latencies: number[];
  crossings: number;
  startsAtMismatch: number;
  requests: number;
  /** Under load: the ingest run beside the probe. */
  load?: { rate: number; acked: number; ackP99Ms: number; hubCpu: number; genCpu: number; otherRequests: number; durationS: number; hz: number };
}

/**
 * The probe: a hub with a webhook receiver (this process) for the rule `powerW > 650 for 2s` on
 * LAT_CHIPS chips of one agent (this process, 1 Hz). `loadRate` not null: the same hub also takes
 * the cost run's (b) load — the built-ins and the 50 user rules on 10,000 chips of 625 agents
 * sending as fast as acks allow (0), or every chip at `loadRate` Hz (ingest-generator.ts in its own
 * process, started first and running past the probe's end) — with a second receiver taking every other alert (groupWait 0s, so each of their
 * transitions is a request too); the probe's 20 chips are beside the 10,000.
 */
async function latencyRun(durationS: number, loadRate: number | null): Promise<LatencyRun> {
  const loaded = loadRate !== null;
  // The receiver: records each firing LatPower alert's arrival.
  const arrivals: { at: number; chip: string; startsAt: number }[] = [];
  let requests = 0;
  let otherRequests = 0;
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const at = Date.now();
      if (req.url !== '/hook') {
        otherRequests++;
        res.writeHead(200).end();
        return;
      }
      requests++;
      try {
        const msg = JSON.parse(body) as { alerts: { status: string; labels: Record<string, string>; startsAt: string }[] };
        for (const al of msg.alerts) if (al.status === 'firing' && al.labels.alertname === 'LatPower') arrivals.push({ at, chip: al.labels.chip!, startsAt: Date.parse(al.startsAt) });
      } catch {
        /* counted as a request; no alerts */
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const rport = (receiver.address() as { port: number }).port;

  const tmp = tempDir('fleetscope-bench-alerts-lat-');
  const port = await freePort();
  const db = join(tmp.dir, 'hub.db');
  const rulesFile = join(tmp.dir, 'rules.json');
  const latRule = { id: 'lat-power', name: 'LatPower', selector: { chip: Array.from({ length: LAT_CHIPS }, (_, j) => latChip(j)) }, field: 'powerW', op: '>', threshold: LAT_THRESHOLD, for: '2s', severity: 'warning' };
  // A rules-file receiver rather than --webhook: the flag's receiver keeps the default rate limit
  // (60 requests a minute), which 2 crossings a second (and their resolutions) would run into.
  const receivers: object[] = [
    { name: 'bench', kind: 'webhook', url: `http://127.0.0.1:${rport}/hook`, matchers: ['alertname="LatPower"'], groupBy: ['alertname', 'chip'], groupWait: '0s', rateLimit: { count: 10_000, per: '1m' }, sendResolved: true },
  ];
  if (loaded) receivers.push({ name: 'fleet', kind: 'webhook', url: `http://127.0.0.1:${rport}/fleet`, matchers: ['alertname!="LatPower"'], groupBy: ['alertname', 'chip'], groupWait: '0s', rateLimit: { count: 10_000, per: '1m' }, sendResolved: true });
  writeFileSync(rulesFile, JSON.stringify({ rules: [latRule, ...(loaded ? alertsUserRules() : [])], receivers }));
  const token = await createToken(db, 'agent');
  const hub = runFleetscope(['hub', '--port', String(port), '--host', '127.0.0.1', '--db', db, '--log-level', 'warn', '--rules', rulesFile, ...(loaded ? ['--agent-frame-rate', String(BENCH_FRAME_RATE)] : [])]);
  const crossings: { chip: string; ts: number }[] = [];
  let gen: ChildProcess | null = null;
  let load: LatencyRun['load'];
  const ticks = durationS;
  try {
    await listening(hub);
    let genDone: Promise<unknown> = Promise.resolve();
    let genOut = '';
    // CPU of the hub and the generator over the probe's span, read every 250 ms (a process may be gone by the end).
    const usage = (pid: number | undefined) => {
      try {
        return pid === undefined ? null : procUsage(pid);
      } catch {
        return null;
      }
    };
    let hub0 = usage(hub.child.pid);
    let gen0 = hub0;
    let hubEnd = hub0;
    let genEnd = gen0;
    let tEnd = Date.now();
    let t0 = Date.now();
    let sampler: NodeJS.Timeout | null = null;
    // The load first (its agents connected and sending), then the probe; the load runs past the probe's end.
    const LEAD_S = 5;
    const genS = LEAD_S + ticks + 10;
    if (loaded) {
      gen = spawn(process.execPath, ['--import', 'tsx', GENERATOR, `ws://127.0.0.1:${port}`, String(AGENTS), String(WINDOW), String(genS), 'moving', String(loadRate ?? 0)], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, FLEETSCOPE_TOKEN: token } });
      gen.stdout!.on('data', (d) => (genOut += d));
      genDone = new Promise((r) => gen!.on('exit', r));
      await new Promise((r) => setTimeout(r, LEAD_S * 1000));
      hub0 = usage(hub.child.pid);
      gen0 = usage(gen.pid);
      t0 = Date.now();
      sampler = setInterval(() => {
        const h = usage(hub.child.pid);
        const g = usage(gen!.pid);
        if (h && g) [hubEnd, genEnd, tEnd] = [h, g, Date.now()];
      }, 250);
    }
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/agent`, { perMessageDeflate: false, headers: { authorization: `Bearer ${token}` } });
    await new Promise<void>((resolve, reject) => {
      ws.on('open', () => {
        const chips = Array.from({ length: LAT_CHIPS }, (_, j) => ({ chipId: latChip(j), vendor: 'nvidia', model: 'H100', index: j, cores: 132, memTotalBytes: 85_520_809_984, ratedPowerW: 700 }));
        ws.send(JSON.stringify({ v: PROTOCOL_VERSION, type: 'hello', agentId: 'alert-lat', agentVersion: 'bench', host: { hostname: 'alert-lat-host', instanceId: null, instanceType: 'p5.48xlarge' }, intervalMs: 1000, chips }));
      });
      ws.on('message', (d) => {
        const m = JSON.parse(d.toString());
        if (m.type === 'welcome') resolve();
        else if (m.type === 'error') reject(new Error(`hub error ${m.code}: ${m.message}`));
      });
      ws.on('error', reject);
    });
    const high = new Array<boolean>(LAT_CHIPS).fill(false);
    let seq = 0;
    for (let tick = 0; tick < ticks; tick++) {
      const ts = Date.now();
      const samples = [];
      for (let j = 0; j < LAT_CHIPS; j++) {
        const k = tick - 2 - Math.floor(j / 2);
        // Go high only where the alert can fire (and be received) before the run ends.
        const wantHigh = k >= 0 && k % CYCLE < HIGH_TICKS && (high[j] || tick + 4 < ticks);
        if (wantHigh && !high[j]) crossings.push({ chip: latChip(j), ts });
        high[j] = wantHigh;
        samples.push({ ts, chipId: latChip(j), utilPct: 90, memUtilPct: 40, memUsedBytes: 40e9, memTotalBytes: 85_520_809_984, powerW: wantHigh ? 690 : 400, powerLimitW: 700, tempC: 60, energyJ: 1e6 + tick * 500, smClockMhz: 1980, eccCorrected: 0, eccUncorrected: 0 });
      }
      ws.send(JSON.stringify({ v: PROTOCOL_VERSION, type: 'batch', seq: seq++, samples }));
      // Next tick on the second after this one's start (no drift).
      await new Promise((r) => setTimeout(r, Math.max(0, ts + 1000 - Date.now())));
    }
    await new Promise((r) => setTimeout(r, 1500));
    ws.close();
    if (gen) {
      clearInterval(sampler!);
      const elapsed = (tEnd - t0) / 1000;
      const cpu = (a: ProcUsage | null, b: ProcUsage | null) => (a && b && elapsed > 0 ? (100 * (b.cpuS - a.cpuS)) / elapsed : NaN);
      await genDone;
      const res = JSON.parse(genOut.trim().split('\n').at(-1)!) as { elapsedS: number; samples: number; ackP99Ms: number };
      load = { rate: res.samples / res.elapsedS, acked: res.samples, ackP99Ms: res.ackP99Ms, hubCpu: cpu(hub0, hubEnd), genCpu: cpu(gen0, genEnd), otherRequests, durationS: genS, hz: loadRate ?? 0 };
    }
  } finally {
    gen?.kill('SIGKILL');
    hub.child.kill('SIGTERM');
    await Promise.race([hub.exited, new Promise((r) => setTimeout(r, 5000))]);
    hub.child.kill('SIGKILL');
    receiver.close();
    tmp.cleanup();
  }
  // Match each crossing to the first firing notification of its chip with that startsAt (or, failing that, the first after it).
  const used = new Set<number>();
  const latencies: number[] = [];
  let startsAtMismatch = 0;
  for (const c of crossings) {
    let idx = arrivals.findIndex((a, i) => !used.has(i) && a.chip === c.chip && a.startsAt === c.ts);
    if (idx < 0) {
      idx = arrivals.findIndex((a, i) => !used.has(i) && a.chip === c.chip && a.at >= c.ts);
      if (idx >= 0) startsAtMismatch++;
    }
    if (idx < 0) continue;
    used.add(idx);
    latencies.push(arrivals[idx]!.at - (c.ts + LAT_FOR_MS));
  }
  latencies.sort((x, y) => x - y);
  return { latencies, crossings: crossings.length, startsAtMismatch, requests, load };
}

export async function latencyBench(opts: { durationS: number; progress: Progress }): Promise<BenchResult[]> {
  const durationS = Math.max(10, opts.durationS);
  const rows = (r: LatencyRun, label: string, conditions: string): BenchResult[] => {
    const pct = (p: number) => (r.latencies.length ? r.latencies[Math.min(r.latencies.length - 1, Math.ceil((p / 100) * r.latencies.length) - 1)]! : NaN);
    const ok = r.latencies.length === r.crossings && r.crossings > 0;
    const p99 = pct(99);
    return [
      { part: 'alerts', metric: `crossing -> webhook latency${label} p50 (beyond for)`, value: Math.round(pct(50)), unit: 'ms', target: 'info', pass: ok, conditions },
      { part: 'alerts', metric: `crossing -> webhook latency${label} p99 (beyond for)`, value: Math.round(p99), unit: 'ms', target: '<= 1000 ms', pass: ok && p99 <= 1000, conditions },
    ];
  };
  const probe = (r: LatencyRun) =>
    `${r.crossings} crossings (2 a second, each 4 s high then 6 s low, resolving between), ${durationS} s; latency = webhook arrival - (crossing sample ts + 2 s); ` +
    `notifications received for ${r.latencies.length}/${r.crossings} crossings (${r.crossings - r.latencies.length} missing, ${r.startsAtMismatch} matched without an equal startsAt), ${r.requests} webhook requests, min ${Math.round(r.latencies[0] ?? NaN)} ms, max ${Math.round(r.latencies.at(-1) ?? NaN)} ms`;

  opts.progress(`alerts: latency, ${LAT_CHIPS} chips at 1 Hz, rule powerW > ${LAT_THRESHOLD} for 2s, webhook group wait 0s, ${durationS} s`);
  const idle = await latencyRun(durationS, null);
  opts.progress(`alerts: latency under load: the same probe beside ${AGENTS} agents x 16 chips at 1 Hz, built-ins + 50 user rules, ${durationS} s`);
  const fleet = await latencyRun(durationS, 1);
  opts.progress(`alerts: latency under load: the same probe beside ${AGENTS} agents x 16 chips sending as fast as acks allow (the cost run's (b)), ${durationS} s`);
  const busy = await latencyRun(durationS, 0);
  const loadConditions = (r: LatencyRun) => {
    const l = r.load!;
    return (
      `the probe above (its own agent, ${LAT_CHIPS} chips beside the others, at 1 Hz) on a hub that meanwhile takes ${AGENTS} agents x 16 chips = ${AGENTS * 16} chips from ingest-generator.ts (moving values, ~3 % hot) in its own process, ` +
      `${l.hz > 0 ? `every chip at ${l.hz} Hz` : `${WINDOW} batches in flight per agent, sending as fast as acks allow (the cost run's (b) load)`}, hub --agent-frame-rate ${BENCH_FRAME_RATE}, built-ins + 50 user rules, and a second webhook receiver taking every other alert (groupWait 0s: ${l.otherRequests} requests); ` +
      `the load started 5 s before the probe and ran ${l.durationS} s: ${Math.round(l.rate)} chip-samples/s acknowledged (${l.acked}), ack p99 ${Math.round(l.ackP99Ms)} ms, hub CPU ${Math.round(l.hubCpu)} %, generator CPU ${Math.round(l.genCpu)} % over the probe's span; hub, generator and bench process share the machine's cores; ${probe(r)}`
    );
  };
  return [
    ...rows(
      idle,
      '',
      `hub with a rules-file webhook receiver (groupWait 0s, groupBy alertname+chip, rate limit raised) -> node:http server in the bench process on 127.0.0.1; one agent (WebSocket, agent token) with ${LAT_CHIPS} chips at 1 Hz, rule powerW > ${LAT_THRESHOLD} for 2s on those chips, built-ins on; ${probe(idle)}; no other load on the hub`,
    ),
    ...rows(fleet, ', 10,000 chips at 1 Hz + 50 rules', loadConditions(fleet)),
    ...rows(busy, ', 10,000 chips as fast as acks allow + 50 rules', loadConditions(busy)),
  ];
}

async function listening(hub: Proc): Promise<void> {
  const t0 = Date.now();
  while (!hub.stdout().includes('listening')) {
    if (hub.child.exitCode !== null || Date.now() - t0 > 30_000) throw new Error(`hub did not start: ${hub.stderr().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
