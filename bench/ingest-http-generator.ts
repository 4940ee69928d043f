/**
 * Load generator for the HTTP part of the ingest benchmark (a separate process from the hub):
 * HOSTS simulated hosts of 16 chips (bench/sim-fleet.ts: the agents' simulators), written as Influx
 * line protocol to POST /api/v1/write by C clients (keep-alive connections, one request in flight
 * each). A request carries LINES lines: the next sample of each of the next LINES / 16 hosts, in
 * turn through the whole fleet, ns timestamps (the default precision, what Telegraf sends) on the
 * wall clock. RATE (optional): each host's chips at RATE Hz (requests paced to it; a request later
 * than its slot is counted `late`); absent or 0: as fast as the answers allow. Runs D seconds, then
 * prints one JSON line: requests, lines acknowledged (in 204 answers), non-204 answers, transport
 * errors, late requests and request latency percentiles (also of the requests that registered no
 * host: `knownHostsP99Ms`).
 * Usage: node --import tsx bench/ingest-http-generator.ts URL CLIENTS LINES SECONDS HOSTS [RATE]
 * (an agent token in FLEETSCOPE_TOKEN, sent as Authorization: Bearer).
 */
import { Agent, request } from 'node:http';
import { CHIPS_PER_HOST, simHost, type SimHost } from './sim-fleet.ts';

const [url, clientsArg, linesArg, secondsArg, hostsArg, rateArg = '0'] = process.argv.slice(2);
const CLIENTS = Number(clientsArg);
const HOSTS_PER_REQUEST = Math.max(1, Math.floor(Number(linesArg) / CHIPS_PER_HOST));
const DURATION_MS = Number(secondsArg) * 1000;
const HOSTS = Number(hostsArg);
const RATE = Number(rateArg);
const target = new URL('/api/v1/write', url);
const TOKEN = process.env.FLEETSCOPE_TOKEN;
const AUTH: Record<string, string> = TOKEN ? { authorization: `Bearer ${TOKEN}` } : {};

interface ClientLoad {
  requests: number;
  lines: number;
  non204: number;
  errors: number;
  late: number;
  latencies: number[];
  /** Latencies of requests whose hosts had all been written before (no host registered by them). */
  knownLatencies: number[];
}

interface Host {
  sim: SimHost;
  prefixes: string[];
  lastTs: number;
}

// Line-protocol host names: the sim host's name with an `lp-` prefix (fleetscope's push-agent naming).
const hosts: Host[] = Array.from({ length: HOSTS }, (_, h) => {
  const sim = simHost(h, 'lp-bench');
  const prefixes = sim.chips.map((c) => `chip,host=${sim.host.hostname},chip=${c.chipId},vendor=${c.vendor},model=${c.model} `);
  return { sim, prefixes, lastTs: 0 };
});
let cursor = 0;

const field = (name: string, v: number | null | undefined, int = false): string => (v === null || v === undefined ? '' : `${name}=${int ? `${Math.round(v)}i` : v},`);

/** The next request body: the next sample of each of the next HOSTS_PER_REQUEST hosts; its line count; whether it is a host's first. */
function body(): { text: string; lines: number; first: boolean } {
  let out = '';
  let lines = 0;
  let first = false;
  for (let k = 0; k < Math.min(HOSTS_PER_REQUEST, HOSTS); k++) {
    const host = hosts[cursor]!;
    cursor = (cursor + 1) % HOSTS;
    if (host.lastTs === 0) first = true;
    const ts = Math.max(Date.now(), host.lastTs + 1);
    host.lastTs = ts;
    const samples = host.sim.next(ts);
    for (let c = 0; c < samples.length; c++) {
      const s = samples[c]!;
      const fields =
        field('util_pct', s.utilPct) + field('mem_util_pct', s.memUtilPct) + field('mem_used_bytes', s.memUsedBytes, true) + field('mem_total_bytes', s.memTotalBytes, true) +
        field('power_w', s.powerW) + field('power_limit_w', s.powerLimitW) + field('temp_c', s.tempC) + field('energy_j', s.energyJ) + field('sm_clock_mhz', s.smClockMhz, true) +
        field('ecc_corrected', s.eccCorrected, true) + field('ecc_uncorrected', s.eccUncorrected, true);
      out += `${host.prefixes[c]}${fields.slice(0, -1)} ${ts}000000\n`;
      lines++;
    }
  }
  return { text: out, lines, first };
}

function post(agent: Agent, payload: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      { method: 'POST', agent, headers: { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(payload), ...AUTH } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Paced mode: the time slot of the next request (shared by the clients), ms on performance.now(). */
const periodMs = RATE > 0 ? (1000 * Math.min(HOSTS_PER_REQUEST, HOSTS)) / (HOSTS * RATE) : 0;
let nextSlot = performance.now();

async function runClient(until: number): Promise<ClientLoad> {
  const load: ClientLoad = { requests: 0, lines: 0, non204: 0, errors: 0, late: 0, latencies: [], knownLatencies: [] };
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    while (Date.now() < until) {
      if (RATE > 0) {
        const slot = nextSlot;
        nextSlot += periodMs;
        const wait = slot - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        else if (wait < -periodMs) load.late++;
        if (Date.now() >= until) break;
      }
      const { text, lines, first } = body();
      const t0 = performance.now();
      let status: number;
      try {
        status = await post(agent, text);
      } catch {
        load.errors++;
        break; // the hub went away: stop this client rather than spin
      }
      load.latencies.push(performance.now() - t0);
      if (!first) load.knownLatencies.push(performance.now() - t0);
      load.requests++;
      if (status === 204) load.lines += lines;
      else load.non204++;
    }
  } finally {
    agent.destroy();
  }
  return load;
}

const until = Date.now() + DURATION_MS;
const started = performance.now();
const loads = await Promise.all(Array.from({ length: CLIENTS }, () => runClient(until)));
const elapsedS = (performance.now() - started) / 1000;
const sorted = (f: (l: ClientLoad) => number[]) => loads.flatMap(f).sort((x, y) => x - y);
const lat = sorted((l) => l.latencies);
const known = sorted((l) => l.knownLatencies);
const pctOf = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0;
const pct = (p: number) => pctOf(lat, p);
const sum = (f: (l: ClientLoad) => number) => loads.reduce((n, l) => n + f(l), 0);
process.stdout.write(
  JSON.stringify({
    elapsedS,
    requests: sum((l) => l.requests),
    lines: sum((l) => l.lines),
    non204: sum((l) => l.non204),
    errors: sum((l) => l.errors),
    late: sum((l) => l.late),
    latencyP50Ms: pct(50),
    latencyP99Ms: pct(99),
    // Requests that registered no host: what a hub that knows its hosts answers.
    knownHostsP99Ms: pctOf(known, 99),
  }) + '\n',
);
