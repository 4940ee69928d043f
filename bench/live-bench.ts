/**
 * Live delivery benchmarks (see `live-scenario.ts` for the processes and state machine):
 * - `live`: 20,000 chip-samples/s of ingest, 100 /ws/live clients on the fleet overview, 10 of
 *   them also on one chip each. Targets: sent -> received p50 <= 10 ms, p99 <= 50 ms.
 * - `fanout`: 1,008 chips once a second, 1,000 fleet clients (over several client processes).
 *   Targets: delivery p99 <= 100 ms, every client gets every chip's update each second, ingest
 *   not slowed (ack p99 <= 250 ms and acks keep up).
 */
import { cpus } from 'node:os';
import type { BenchResult } from './bench-result.ts';
import { summary } from './latency-histogram.ts';
import { runLiveScenario, type ScenarioResult } from './live-scenario.ts';

type Opts = { durationS: number; progress(msg: string): void; chips?: number };

const fmt = (n: number) => n.toLocaleString('en-US');
/** Settle before the window with `--chips`: 100 clients each start from a snapshot of every chip. */
const SETTLE_AT_FLEET_SHAPE_S = 20;

function conditions(r: ScenarioResult, what: string): string {
  const f = summary(r.fleet);
  const h = summary(r.hub);
  const a = summary(r.toFrame);
  const frames = Object.entries(r.frames).map(([k, n]) => `${k} ${fmt(n)}`).join(', ');
  return [
    what,
    `${r.windowS} s window after a baseline without live clients and a settle while clients connect; generator, hub and client processes on the same machine`,
    `CPU (100 % = one core): hub ${r.cpu.hub} % (baseline without clients ${r.cpu.hubBaseline} %), generator ${r.cpu.generator} %, client process(es) ${r.cpu.clients.map((c) => `${c} %`).join(' + ')}; whole machine ${r.cpu.machine} % of ${cpus().length * 100} %, of which other processes ${r.cpu.others} %; hub peak RSS ${r.hubPeakRssMB} MB`,
    `ingest ${fmt(Math.round(r.gen.samplesInWindow / r.windowS))} chip-samples/s, ack p50 ${r.gen.ackWindow.p50} / p99 ${r.gen.ackWindow.p99} ms (baseline ${r.gen.ackBaseline.p50} / ${r.gen.ackBaseline.p99} ms), ${fmt(r.gen.acked)}/${fmt(r.gen.batches)} batches acked`,
    `each client process parses a frame once and reuses the result for byte-identical copies other clients of that process receive (${fmt(r.decoded.parsed)} parsed, ${fmt(r.decoded.reused)} reused; each client still receives and is stamped for its own copy)`,
    `fleet latency = client receive (after decoding) - sample ts (whole ms, over-states by < 1 ms): n ${fmt(f.n)}, max ${f.max} ms; split: agent send -> hub frame built p50 ${a.p50} / p99 ${a.p99} ms, hub frame built -> client p50 ${h.p50} / p99 ${h.p99} ms`,
    `frames received over the run: ${frames}; ${fmt(Math.round(r.bytes / r.windowS / 1e6))} MB/s to all clients; lag re-snapshots ${r.resnapshots}; late generator sends ${r.gen.lateSends}, bumped ts ${r.gen.bumpedTs}${r.fleet.negative ? `, negative latencies ${r.fleet.negative}` : ''}${r.errors.length ? `; client errors: ${r.errors.slice(0, 3).join('; ')}` : ''}${r.clientsReadyLate ? '; clients were ready only after the window began' : ''}`,
  ].join('; ');
}

/**
 * Bench part `live`: latency at 20,000 chip-samples/s with 100 live clients; with `--chips N`, N
 * chips at 1 Hz instead (the fleet shape: e.g. 10,000 chips, 625 agents).
 */
export async function liveBench(opts: Opts): Promise<BenchResult[]> {
  const chips = 16;
  const agents = opts.chips ? Math.ceil(opts.chips / chips) : 80;
  const intervalMs = opts.chips ? 1000 : 64;
  const offered = Math.round((agents * chips * 1000) / intervalMs);
  opts.progress(`live: ${agents} agents x ${chips} chips every ${intervalMs} ms (${fmt(offered)} chip-samples/s), 100 fleet clients (10 also on a chip), ${opts.durationS} s`);
  // At fleet shape (--chips) the clients subscribe as the dashboard does (compact frames).
  const compact = opts.chips !== undefined;
  const settleS = opts.chips ? SETTLE_AT_FLEET_SHAPE_S : 5;
  const r = await runLiveScenario({ agents, chips, intervalMs, fleetClients: 100, clientProcs: 1, chipSubscribers: 10, baselineS: 5, settleS, trackGaps: false, compact, measureS: opts.durationS, progress: opts.progress });
  const f = summary(r.fleet);
  const c = summary(r.chip);
  const chipComplete = r.chipInWindow.every((n, i) => n === r.chipSentInWindow[i]);
  const perClient = r.fleetInWindow.reduce((a, b) => a + b, 0) / r.fleetInWindow.length;
  const cond = conditions(r, `/ws/live, ${agents} agents x ${chips} chips at ${intervalMs} ms over /ws/agent (1 generator process), 100 clients in 1 client process all on fleet${compact ? ' (compact fleet-columns frames, as the dashboard)' : ' (fleet-update frames)'}, 10 also on one chip each`);
  const rate = r.gen.samplesInWindow / r.windowS;
  // fleet shape (10,000 chips at 1 Hz): the fleet overview within 100 ms at p99; 50 ms at 20,000 chip-samples/s from 1,280 chips
  const fleetP99 = opts.chips ? 100 : 50;
  const split = [summary(r.toFrame), summary(r.hub)];
  return [
    { part: 'live', metric: 'ingest while serving live clients, chip-samples/s', value: Math.round(rate), unit: '/s', target: `>= ${fmt(Math.round(offered * 0.975))} (${fmt(offered)} offered)`, pass: rate >= offered * 0.975 && r.gen.acked === r.gen.batches, conditions: cond },
    { part: 'live', metric: 'fleet-update latency p50 (agent send -> client)', value: f.p50, unit: 'ms', target: '<= 10 ms', pass: f.p50 <= 10, conditions: cond },
    { part: 'live', metric: 'fleet-update latency p99 (agent send -> client)', value: f.p99, unit: 'ms', target: `<= ${fleetP99} ms`, pass: f.p99 <= fleetP99 && !r.clientsReadyLate, conditions: cond },
    { part: 'live', metric: 'chip samples latency p50 (agent send -> client)', value: c.p50, unit: 'ms', target: '<= 10 ms', pass: c.p50 <= 10, conditions: cond },
    { part: 'live', metric: 'chip samples latency p99 (agent send -> client)', value: c.p99, unit: 'ms', target: '<= 50 ms', pass: c.p99 <= 50, conditions: cond },
    { part: 'live', metric: 'of which agent send -> hub frame built (ingest + commit + tick), p50 / p99', value: split[0].p50, unit: `/ ${split[0].p99} ms`, target: 'info', pass: true, conditions: cond },
    { part: 'live', metric: 'of which hub frame built -> client (fan-out + client), p50 / p99', value: split[1].p50, unit: `/ ${split[1].p99} ms`, target: 'info', pass: true, conditions: cond },
    { part: 'live', metric: 'chip subscribers that got every sample of their chip', value: r.chipInWindow.filter((n, i) => n === r.chipSentInWindow[i]).length, unit: `of ${r.chipInWindow.length}`, target: 'all', pass: chipComplete, conditions: cond },
    { part: 'live', metric: 'fleet entries per client / samples sent (latest-wins per tick)', value: Math.round((1000 * perClient) / Math.max(1, r.gen.samplesInWindow)) / 10, unit: '%', target: 'info', pass: true, conditions: cond },
  ];
}

/** Bench part `fanout`: 1,000 fleet clients, 1,008 chips once a second. */
export async function fanoutBench(opts: Opts): Promise<BenchResult[]> {
  const agents = 63;
  const chips = 16;
  const clients = 1000;
  const clientProcs = 4;
  opts.progress(`fanout: ${agents} agents x ${chips} chips every 1 s, ${clients} fleet clients in ${clientProcs} processes, ${opts.durationS} s`);
  const r = await runLiveScenario({ agents, chips, intervalMs: 1000, fleetClients: clients, clientProcs, chipSubscribers: 0, baselineS: 10, settleS: 15, trackGaps: true, measureS: opts.durationS, progress: opts.progress });
  const f = summary(r.fleet);
  const sent = r.gen.samplesInWindow;
  const complete = r.fleetInWindow.filter((n) => n === sent).length;
  const cond = conditions(r, `/ws/live, ${agents * chips} chips (${agents} agents x ${chips}) once a second over /ws/agent, ${clients} fleet clients spread over ${clientProcs} client processes so the clients are not the bottleneck; every client should get ${fmt(sent)} chip updates in the window (min ${fmt(Math.min(...r.fleetInWindow))}, max ${fmt(Math.max(...r.fleetInWindow))})`);
  const ackOk = r.gen.ackWindow.p99 <= 250 && r.gen.acked === r.gen.batches;
  return [
    { part: 'fanout', metric: `delivery latency p50 (agent send -> each of ${fmt(clients)} clients)`, value: f.p50, unit: 'ms', target: 'info', pass: true, conditions: cond },
    { part: 'fanout', metric: `delivery latency p99 (agent send -> each of ${fmt(clients)} clients)`, value: f.p99, unit: 'ms', target: '<= 100 ms', pass: f.p99 <= 100, conditions: cond },
    { part: 'fanout', metric: 'of which hub frame built -> client (fan-out + client), p50 / p99', value: summary(r.hub).p50, unit: `/ ${summary(r.hub).p99} ms`, target: 'info', pass: true, conditions: cond },
    { part: 'fanout', metric: 'clients that got every chip update in the window', value: complete, unit: `of ${fmt(clients)}`, target: 'all', pass: complete === clients, conditions: cond },
    { part: 'fanout', metric: 'updates missing at the best-served client (merged by latest-wins when ticks fell behind)', value: sent - Math.max(...r.fleetInWindow), unit: `of ${fmt(sent)}`, target: 'info', pass: true, conditions: cond },
    { part: 'fanout', metric: 'longest gap between two updates of a chip at a client', value: Math.round(r.maxGapMs), unit: 'ms', target: '<= 1,100 ms (each second, 100 ms jitter)', pass: r.maxGapMs <= 1100, conditions: cond },
    { part: 'fanout', metric: `ack p99 with ${fmt(clients)} live clients (baseline without: ${r.gen.ackBaseline.p99} ms)`, value: r.gen.ackWindow.p99, unit: 'ms', target: '<= 250 ms, all acked', pass: ackOk, conditions: cond },
  ];
}
