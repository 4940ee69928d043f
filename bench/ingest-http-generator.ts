/**
 * Load generator for the HTTP part of the ingest benchmark (a separate process from the hub):
 * C clients, each a host with 16 chips of its own and a keep-alive connection, POST Influx line
 * protocol to /api/v1/write — T ticks x 16 chips lines per request, all 11 canonical fields,
 * ns timestamps (the default precision, what Telegraf sends) — one request in flight per client,
 * the next sent as soon as the 204 arrives, for D seconds. Then prints one JSON line: requests,
 * lines acknowledged (in 204 answers), non-204 answers, transport errors and request latency
 * percentiles.
 * Usage: node --import tsx bench/ingest-http-generator.ts URL CLIENTS TICKS SECONDS
 * (an agent token in FLEETSCOPE_TOKEN, sent as Authorization: Bearer).
 */
import { Agent, request } from 'node:http';

const [url, clientsArg, ticksArg, secondsArg] = process.argv.slice(2);
const CLIENTS = Number(clientsArg);
const TICKS = Number(ticksArg);
const DURATION_MS = Number(secondsArg) * 1000;
const CHIPS = 16;
const target = new URL('/api/v1/write', url);
const TOKEN = process.env.FLEETSCOPE_TOKEN;
const AUTH: Record<string, string> = TOKEN ? { authorization: `Bearer ${TOKEN}` } : {};

interface ClientLoad {
  requests: number;
  lines: number;
  non204: number;
  errors: number;
  latencies: number[];
}

function chipId(h: number, c: number): string {
  return `GPU-lp-bench-${String(h).padStart(4, '0')}-${String(c).padStart(2, '0')}`;
}

/** One request body: TICKS ticks x 16 chips, timestamps from `ts` (ms), 1 ms apart per tick. */
function body(prefixes: string[], ts: number, energy: number[]): string {
  let out = '';
  for (let t = 0; t < TICKS; t++) {
    const ms = ts + t;
    const ns = `${ms}000000`;
    for (let c = 0; c < CHIPS; c++) {
      // Cheap values that still move from tick to tick and chip to chip.
      const k = (ms + c * 37) % 100;
      const powerW = 450 + k * 2.5;
      energy[c] += powerW;
      out +=
        `${prefixes[c]}util_pct=${k},mem_util_pct=${(k * 0.41).toFixed(1)},mem_used_bytes=${74_690_871_296 + k * 1_048_576}i,` +
        `mem_total_bytes=85520809984i,power_w=${powerW},power_limit_w=700i,temp_c=${55 + (k >> 2)},energy_j=${energy[c].toFixed(1)},` +
        `sm_clock_mhz=${1900 + k}i,ecc_corrected=0i,ecc_uncorrected=0i ${ns}\n`;
    }
  }
  return out;
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

async function runClient(h: number, until: number): Promise<ClientLoad> {
  const load: ClientLoad = { requests: 0, lines: 0, non204: 0, errors: 0, latencies: [] };
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const host = `lp-bench-host-${String(h).padStart(4, '0')}`;
  const prefixes = Array.from({ length: CHIPS }, (_, c) => `chip,host=${host},chip=${chipId(h, c)},vendor=nvidia,model=H100 `);
  const energy = Array.from({ length: CHIPS }, (_, c) => 1_234_567.8 + c * 1000);
  // Timestamps: one per tick, 1 ms apart per client, in the past hour, so every line is a distinct row.
  let ts = Date.now() - 3_600_000;
  try {
    while (Date.now() < until) {
      const payload = body(prefixes, ts, energy);
      ts += TICKS;
      const t0 = performance.now();
      let status: number;
      try {
        status = await post(agent, payload);
      } catch {
        load.errors++;
        break; // the hub went away: stop this client rather than spin
      }
      load.latencies.push(performance.now() - t0);
      load.requests++;
      if (status === 204) load.lines += TICKS * CHIPS;
      else load.non204++;
    }
  } finally {
    agent.destroy();
  }
  return load;
}

const until = Date.now() + DURATION_MS;
const started = performance.now();
const loads = await Promise.all(Array.from({ length: CLIENTS }, (_, h) => runClient(h, until)));
const elapsedS = (performance.now() - started) / 1000;
const lat = loads.flatMap((l) => l.latencies).sort((x, y) => x - y);
const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] ?? 0;
const sum = (f: (l: ClientLoad) => number) => loads.reduce((n, l) => n + f(l), 0);
process.stdout.write(
  JSON.stringify({
    elapsedS,
    requests: sum((l) => l.requests),
    lines: sum((l) => l.lines),
    non204: sum((l) => l.non204),
    errors: sum((l) => l.errors),
    latencyP50Ms: pct(50),
    latencyP99Ms: pct(99),
  }) + '\n',
);
