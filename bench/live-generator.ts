/**
 * Load generator of the live benchmarks (a separate process from the hub): AGENTS agents with
 * CHIPS chips each send one batch (one sample per chip) every INTERVAL ms over /ws/agent, evenly
 * staggered, without waiting for acks. Each sample's `ts` is the send time in whole ms
 * (`floor(performance.timeOrigin + performance.now())`) and `extras.sentAt` the exact send time,
 * so a client on the same machine can compute sent -> received latency.
 *
 * Usage: node --import tsx bench/live-generator.ts '<GeneratorConfig JSON>'
 * Prints one JSON line (`GeneratorReport`) when done.
 */
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { LatencyHistogram, preciseNow, summary } from './latency-histogram.ts';
import { PROTOCOL_VERSION } from '../schema/protocol-constants.ts';

/** What the bench tells the generator (absolute times are epoch ms). */
export interface GeneratorConfig {
  url: string;
  /** Agent token, sent as Authorization: Bearer. */
  token: string;
  agents: number;
  chips: number;
  intervalMs: number;
  /** Stop sending at this time. */
  stopAt: number;
  /** Ack latency before this time is the baseline (no live clients yet). */
  baselineUntil: number;
  /** Samples with ts in [windowFrom, windowTo) are counted as "in the window". */
  windowFrom: number;
  windowTo: number;
}

/** The generator's result line. */
export interface GeneratorReport {
  batches: number;
  samples: number;
  acked: number;
  samplesInWindow: number;
  /** Per agent: batches (one sample per chip) with ts in the window. */
  batchesInWindow: number[];
  /** Samples whose ts had to be pushed past the send time (two sends in one ms of one agent). */
  bumpedTs: number;
  /** Sends later than their schedule by > 1 interval (the generator could not keep up). */
  lateSends: number;
  ackBaseline: ReturnType<typeof summary>;
  ackWindow: ReturnType<typeof summary>;
}

/** Chip id of agent `a`'s chip `c` (also used by the bench to pick chips to watch). */
export function benchChipId(a: number, c: number): string {
  return `GPU-live-${String(a).padStart(4, '0')}-${String(c).padStart(2, '0')}`;
}

async function main(cfg: GeneratorConfig): Promise<void> {
  const report: GeneratorReport = { batches: 0, samples: 0, acked: 0, samplesInWindow: 0, batchesInWindow: Array(cfg.agents).fill(0), bumpedTs: 0, lateSends: 0, ackBaseline: summary(new LatencyHistogram()), ackWindow: summary(new LatencyHistogram()) };
  const ackBaseline = new LatencyHistogram();
  const ackWindow = new LatencyHistogram();
  const agents = Array.from({ length: cfg.agents }, (_, a) => runAgent(a));
  await Promise.all(agents);
  report.ackBaseline = summary(ackBaseline);
  report.ackWindow = summary(ackWindow);
  process.stdout.write(JSON.stringify(report) + '\n');

  function runAgent(a: number): Promise<void> {
    const ws = new WebSocket(`${cfg.url}/ws/agent`, { perMessageDeflate: false, headers: { authorization: `Bearer ${cfg.token}` } });
    const inFlight = new Map<number, number>();
    let seq = 0;
    let lastTs = 0;
    let done = false;
    let rng = a * 7919 + 17;
    const rand = () => ((rng = (rng * 1103515245 + 12345) % 2147483648) / 2147483648);
    const chipIds = Array.from({ length: cfg.chips }, (_, c) => benchChipId(a, c));
    const send = () => {
      const sentAt = preciseNow();
      let ts = Math.floor(sentAt);
      if (ts <= lastTs) {
        ts = lastTs + 1;
        report.bumpedTs += cfg.chips;
      }
      lastTs = ts;
      const samples = chipIds.map((chipId, c) => ({
        ts, chipId, utilPct: Math.round(rand() * 1000) / 10, memUtilPct: Math.round(rand() * 1000) / 10,
        memUsedBytes: 40_000_000_000 + Math.floor(rand() * 40_000_000_000), memTotalBytes: 85_520_809_984,
        powerW: Math.round((300 + rand() * 400) * 100) / 100, powerLimitW: 700, tempC: 40 + Math.floor(rand() * 40),
        energyJ: Math.round(sentAt / 10) / 100 + c, smClockMhz: 1980, eccCorrected: 0, eccUncorrected: 0, extras: { sentAt },
      }));
      const s = seq++;
      inFlight.set(s, sentAt);
      ws.send(JSON.stringify({ v: PROTOCOL_VERSION, type: 'batch', seq: s, samples }));
      report.batches++;
      report.samples += samples.length;
      if (ts >= cfg.windowFrom && ts < cfg.windowTo) {
        report.samplesInWindow += samples.length;
        report.batchesInWindow[a]++;
      }
    };
    return new Promise((resolve, reject) => {
      ws.on('open', () => {
        const chips = chipIds.map((chipId, c) => ({ chipId, vendor: 'nvidia', model: 'H100', index: c, cores: 132, memTotalBytes: 85_520_809_984, ratedPowerW: 700 }));
        ws.send(JSON.stringify({ v: PROTOCOL_VERSION, type: 'hello', agentId: `live-bench-${a}`, agentVersion: 'bench', host: { hostname: `live-host-${String(a).padStart(4, '0')}`, instanceId: null, instanceType: 'p5.48xlarge' }, intervalMs: cfg.intervalMs, chips }));
      });
      ws.on('message', (d) => {
        const m = JSON.parse(d.toString());
        if (m.type === 'welcome') {
          // Evenly staggered start; each send is scheduled against the clock (no drift).
          const start = Math.ceil(preciseNow() / cfg.intervalMs) * cfg.intervalMs + (a * cfg.intervalMs) / cfg.agents;
          let k = 0;
          const next = () => {
            const due = start + k * cfg.intervalMs;
            if (due >= cfg.stopAt) {
              done = true;
              if (inFlight.size === 0) ws.close();
              return;
            }
            setTimeout(() => {
              if (preciseNow() - due > cfg.intervalMs) report.lateSends++;
              send();
              k++;
              next();
            }, Math.max(0, due - preciseNow()));
          };
          next();
        } else if (m.type === 'ack') {
          const sentAt = inFlight.get(m.seq)!;
          inFlight.delete(m.seq);
          report.acked++;
          const lat = preciseNow() - sentAt;
          if (sentAt < cfg.baselineUntil) ackBaseline.add(lat);
          else if (sentAt >= cfg.windowFrom && sentAt < cfg.windowTo) ackWindow.add(lat);
          if (done && inFlight.size === 0) ws.close();
        } else if (m.type === 'error') reject(new Error(`hub error ${m.code}: ${m.message}`));
      });
      ws.on('close', () => resolve());
      ws.on('error', reject);
    });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main(JSON.parse(process.argv[2]!) as GeneratorConfig);
