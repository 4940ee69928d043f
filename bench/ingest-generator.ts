/**
 * Load generator for the ingest benchmark (a separate process from the hub): C agents with 16
 * chips each send batches as fast as acks allow (W batches in flight per agent) for D seconds
 * over /ws/agent, then print one JSON line: batches/samples acknowledged and ack latency
 * percentiles. Usage: node --import tsx bench/ingest-generator.ts URL AGENTS WINDOW SECONDS [VALUES] [RATE]
 * (an agent token in FLEETSCOPE_TOKEN, sent as Authorization: Bearer). VALUES `constant` (default):
 * near-constant values, timestamps an hour back 1 ms apart; `moving`: bench/moving-values.ts on
 * wall-clock timestamps (max(now, last + 1 ms) per agent), H100 and H200 agents alternating, so
 * alert rules' `for` durations run in real time; `sim`: the agents' simulators (bench/sim-fleet.ts)
 * on wall-clock timestamps, each batch with its source's health and spool drops as an agent's;
 * `simwork`: the same, each batch also carrying the host's job's work counters (tokens, steps).
 * RATE: batches per second per agent (every chip at RATE Hz), started at spread-out phases; a tick
 * that finds WINDOW batches still unacknowledged is not sent and counted `late`. 0 or absent: as
 * fast as acks allow. With FLEETSCOPE_GEN_ACKED=FILE (moving or sim values), each agent's chip ids
 * and the timestamps of its acknowledged batches are written to FILE, one JSON line per agent, for a
 * check that every acknowledged sample was stored. With FLEETSCOPE_GEN_FRAMES=binary, batches go as
 * binary frames (schema/batch-frame.ts) to a hub whose welcome lists `binary-batch`; otherwise as
 * JSON text.
 */
import { writeFileSync } from 'node:fs';
import WebSocket from 'ws';
import { PROTOCOL_VERSION } from '../schema/protocol-constants.ts';
import { BINARY_BATCH_FEATURE, encodeBatchFrame } from '../schema/batch-frame.ts';
import type { BatchMessage } from '../schema/protocol.ts';
import { chipFraction, movingSample } from './moving-values.ts';
import { simHost } from './sim-fleet.ts';

const [url, agentsArg, windowArg, secondsArg, valuesArg = 'constant', rateArg = '0'] = process.argv.slice(2);
const MOVING = valuesArg === 'moving';
/** `simwork`: the simulators' values, and each host's job's work counters in every batch. */
const WORK = valuesArg === 'simwork';
const SIM = valuesArg === 'sim' || WORK;
const RATE = Number(rateArg);
const AGENTS = Number(agentsArg);
const WINDOW = Number(windowArg);
const DURATION_MS = Number(secondsArg) * 1000;
const CHIPS = 16;
const TOKEN = process.env.FLEETSCOPE_TOKEN;
const ACKED_FILE = process.env.FLEETSCOPE_GEN_ACKED;
const BINARY = process.env.FLEETSCOPE_GEN_FRAMES === 'binary';
const HEADERS: Record<string, string> = TOKEN ? { authorization: `Bearer ${TOKEN}` } : {};

interface AgentLoad {
  /** Chip ids and the timestamp of each acknowledged batch (with FLEETSCOPE_GEN_ACKED). */
  chipIds: string[];
  ackedTs: number[];
  acked: number;
  ackedSamples: number;
  latencies: number[];
  late: number;
  /** ms from the generator's start to this agent's welcome (-1: never welcomed). */
  welcomedAt: number;
  /** The first error frame from the hub or connection error, if any. */
  error?: string;
  /** Its batches went as binary frames. */
  binary?: boolean;
}

function chipId(a: number, c: number): string {
  return `GPU-bench-${String(a).padStart(4, '0')}-${String(c).padStart(2, '0')}`;
}

function runAgent(a: number, until: number): Promise<AgentLoad> {
  const load: AgentLoad = { chipIds: [], ackedTs: [], acked: 0, ackedSamples: 0, latencies: [], late: 0, welcomedAt: -1 };
  const sim = SIM ? simHost(a) : null;
  const ws = new WebSocket(`${url}/ws/agent`, { perMessageDeflate: false, headers: HEADERS });
  const sentAt = new Map<number, number>();
  const tsOf = new Map<number, number>();
  let seq = 0;
  // Constant values: one timestamp per batch, 1 ms apart per agent, so every sample is a distinct row.
  let ts = Date.now() - 3_600_000;
  // Moving values: wall-clock timestamps, strictly increasing per agent.
  const fractions = Array.from({ length: CHIPS }, (_, c) => chipFraction(a, c));
  const energy = new Float64Array(CHIPS).fill(1_000_000);
  let last = 0;
  /** The hub's welcome listed binary batches (and they were asked for). */
  let binary = false;
  const send = () => {
    if (Date.now() >= until) return;
    let samples = [];
    let work: unknown[] | undefined;
    if (sim) {
      const t = Math.max(Date.now(), last + 1);
      last = t;
      samples = sim.next(t);
      if (WORK) work = sim.work(t);
    } else if (MOVING) {
      const t = Math.max(Date.now(), last + 1);
      const dt = last === 0 ? 1 : (t - last) / 1000;
      last = t;
      for (let c = 0; c < CHIPS; c++) {
        const s = movingSample(chipId(a, c), c, fractions[c]!, t, energy[c]!);
        energy[c] = energy[c]! + s.powerW * dt;
        samples.push(s);
      }
    } else {
      const t = ts++;
      for (let c = 0; c < CHIPS; c++) {
        samples.push({ ts: t, chipId: chipId(a, c), utilPct: 97.5, memUtilPct: 41.2, memUsedBytes: 74_690_871_296, memTotalBytes: 85_520_809_984, powerW: 612.45 + c, powerLimitW: 700, tempC: 63, energyJ: 1_234_567.8 + t / 1000, smClockMhz: 1980, eccCorrected: 0, eccUncorrected: 0 });
      }
    }
    const s = seq++;
    sentAt.set(s, performance.now());
    if (ACKED_FILE) {
      tsOf.set(s, samples[0].ts);
      if (load.chipIds.length === 0) load.chipIds = samples.map((x) => x.chipId);
    }
    // Simulated hosts' batches carry what every agent's does: its source's health and its spool's drops.
    const batch = { v: PROTOCOL_VERSION, type: 'batch', seq: s, samples, ...sim?.report(), ...(work?.length ? { work } : {}) } as BatchMessage;
    ws.send((binary ? encodeBatchFrame(batch) : null) ?? JSON.stringify(batch));
  };
  return new Promise((resolve) => {
    ws.on('open', () => {
      if (sim) {
        ws.send(JSON.stringify({ v: PROTOCOL_VERSION, type: 'hello', agentId: `bench-${a}`, agentVersion: 'bench', host: sim.host, intervalMs: RATE > 0 ? Math.round(1000 / RATE) : 1000, chips: sim.chips }));
        return;
      }
      const chips = Array.from({ length: CHIPS }, (_, c) => ({ chipId: chipId(a, c), vendor: 'nvidia', model: MOVING && a % 2 === 1 ? 'H200' : 'H100', index: c, cores: 132, memTotalBytes: 85_520_809_984, ratedPowerW: 700 }));
      ws.send(JSON.stringify({ v: PROTOCOL_VERSION, type: 'hello', agentId: `bench-${a}`, agentVersion: 'bench', host: { hostname: `bench-host-${a}`, instanceId: null, instanceType: 'p5.48xlarge' }, intervalMs: 1000, chips }));
    });
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      if (m.type === 'welcome') {
        load.welcomedAt = performance.now() - started;
        binary = BINARY && Array.isArray(m.features) && m.features.includes(BINARY_BATCH_FEATURE);
        load.binary = binary;
        if (RATE > 0) {
          // Every chip at RATE Hz: one batch a tick, ticks of all agents spread over the period.
          const period = 1000 / RATE;
          const tick = () => {
            if (Date.now() >= until) {
              clearInterval(timer);
              if (sentAt.size === 0) ws.close();
              return;
            }
            if (sentAt.size < WINDOW) send();
            else load.late++;
          };
          let timer: ReturnType<typeof setInterval> | undefined;
          setTimeout(() => {
            tick();
            timer = setInterval(tick, period);
          }, Math.random() * period);
          return;
        }
        for (let i = 0; i < WINDOW; i++) send();
        // Welcomed after the run ended (many agents connecting): nothing to wait for.
        if (sentAt.size === 0) ws.close();
      }
      else if (m.type === 'ack') {
        load.acked++;
        load.ackedSamples += m.stored;
        load.latencies.push(performance.now() - sentAt.get(m.seq)!);
        if (ACKED_FILE) {
          load.ackedTs.push(tsOf.get(m.seq)!);
          tsOf.delete(m.seq);
        }
        sentAt.delete(m.seq);
        if (RATE > 0) {
          if (Date.now() >= until && sentAt.size === 0) ws.close();
        } else if (Date.now() < until) send();
        else if (sentAt.size === 0) ws.close();
      } else if (m.type === 'error') {
        load.error ??= `hub error ${m.code}: ${m.message}`;
        ws.close();
      }
    });
    ws.on('close', () => resolve(load));
    // A connection refused or reset (thousands connecting at once) is counted, not fatal.
    ws.on('error', (err) => {
      load.error ??= err.message;
      resolve(load);
    });
  });
}

const until = Date.now() + DURATION_MS;
const started = performance.now();
const loads = await Promise.all(Array.from({ length: AGENTS }, (_, a) => runAgent(a, until)));
const elapsedS = (performance.now() - started) / 1000;
if (ACKED_FILE) writeFileSync(ACKED_FILE, loads.map((l) => JSON.stringify({ chipIds: l.chipIds, ackedTs: l.ackedTs })).join('\n') + '\n');
const lat = loads.flatMap((l) => l.latencies).sort((x, y) => x - y);
const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] ?? 0;
process.stdout.write(
  JSON.stringify({
    elapsedS,
    batches: loads.reduce((n, l) => n + l.acked, 0),
    samples: loads.reduce((n, l) => n + l.ackedSamples, 0),
    ackP50Ms: pct(50),
    ackP99Ms: pct(99),
    late: loads.reduce((n, l) => n + l.late, 0),
    // Cold start: every agent connecting at once; when the last was welcomed.
    welcomedLastMs: Math.max(...loads.map((l) => l.welcomedAt)),
    notWelcomed: loads.filter((l) => l.welcomedAt < 0).length,
    failed: loads.filter((l) => l.error !== undefined).length,
    binaryAgents: loads.filter((l) => l.binary).length,
    firstError: loads.find((l) => l.error !== undefined)?.error ?? null,
  }) + '\n',
);
