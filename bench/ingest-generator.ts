/**
 * Load generator for the ingest benchmark (a separate process from the hub): C agents with 16
 * chips each send batches as fast as acks allow (W batches in flight per agent) for D seconds
 * over /ws/agent, then print one JSON line: batches/samples acknowledged and ack latency
 * percentiles. Usage: node --import tsx bench/ingest-generator.ts URL AGENTS WINDOW SECONDS
 * (an agent token in FLEETSCOPE_TOKEN, sent as Authorization: Bearer).
 */
import WebSocket from 'ws';
import { PROTOCOL_VERSION } from '../schema/protocol-constants.ts';

const [url, agentsArg, windowArg, secondsArg] = process.argv.slice(2);
const AGENTS = Number(agentsArg);
const WINDOW = Number(windowArg);
const DURATION_MS = Number(secondsArg) * 1000;
const CHIPS = 16;
const TOKEN = process.env.FLEETSCOPE_TOKEN;
const HEADERS: Record<string, string> = TOKEN ? { authorization: `Bearer ${TOKEN}` } : {};

interface AgentLoad {
  acked: number;
  ackedSamples: number;
  latencies: number[];
}

function chipId(a: number, c: number): string {
  return `GPU-bench-${String(a).padStart(4, '0')}-${String(c).padStart(2, '0')}`;
}

function runAgent(a: number, until: number): Promise<AgentLoad> {
  const load: AgentLoad = { acked: 0, ackedSamples: 0, latencies: [] };
  const ws = new WebSocket(`${url}/ws/agent`, { perMessageDeflate: false, headers: HEADERS });
  const sentAt = new Map<number, number>();
  let seq = 0;
  // Timestamps: one per batch, 1 ms apart per agent, so every sample is a distinct row.
  let ts = Date.now() - 3_600_000;
  const send = () => {
    if (Date.now() >= until) return;
    const t = ts++;
    const samples = [];
    for (let c = 0; c < CHIPS; c++) {
      samples.push({ ts: t, chipId: chipId(a, c), utilPct: 97.5, memUtilPct: 41.2, memUsedBytes: 74_690_871_296, memTotalBytes: 85_520_809_984, powerW: 612.45 + c, powerLimitW: 700, tempC: 63, energyJ: 1_234_567.8 + t / 1000, smClockMhz: 1980, eccCorrected: 0, eccUncorrected: 0 });
    }
    const s = seq++;
    sentAt.set(s, performance.now());
    ws.send(JSON.stringify({ v: PROTOCOL_VERSION, type: 'batch', seq: s, samples }));
  };
  return new Promise((resolve, reject) => {
    ws.on('open', () => {
      const chips = Array.from({ length: CHIPS }, (_, c) => ({ chipId: chipId(a, c), vendor: 'nvidia', model: 'H100', index: c, cores: 132, memTotalBytes: 85_520_809_984, ratedPowerW: 700 }));
      ws.send(JSON.stringify({ v: PROTOCOL_VERSION, type: 'hello', agentId: `bench-${a}`, agentVersion: 'bench', host: { hostname: `bench-host-${a}`, instanceId: null, instanceType: 'p5.48xlarge' }, intervalMs: 1000, chips }));
    });
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      if (m.type === 'welcome') for (let i = 0; i < WINDOW; i++) send();
      else if (m.type === 'ack') {
        load.acked++;
        load.ackedSamples += m.stored;
        load.latencies.push(performance.now() - sentAt.get(m.seq)!);
        sentAt.delete(m.seq);
        if (Date.now() < until) send();
        else if (sentAt.size === 0) ws.close();
      } else if (m.type === 'error') reject(new Error(`hub error ${m.code}: ${m.message}`));
    });
    ws.on('close', () => resolve(load));
    ws.on('error', reject);
  });
}

const until = Date.now() + DURATION_MS;
const started = performance.now();
const loads = await Promise.all(Array.from({ length: AGENTS }, (_, a) => runAgent(a, until)));
const elapsedS = (performance.now() - started) / 1000;
const lat = loads.flatMap((l) => l.latencies).sort((x, y) => x - y);
const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] ?? 0;
process.stdout.write(
  JSON.stringify({
    elapsedS,
    batches: loads.reduce((n, l) => n + l.acked, 0),
    samples: loads.reduce((n, l) => n + l.ackedSamples, 0),
    ackP50Ms: pct(50),
    ackP99Ms: pct(99),
  }) + '\n',
);
