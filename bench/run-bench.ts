/** `fleetscope bench [part]`: runs the benchmark parts, prints a table, writes a JSON result file. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentFootprintBench } from './agent-footprint.ts';
import { alertsBench } from './alerts-bench.ts';
import { browserBench } from './browser-bench.ts';
import { ingestBench } from './ingest-bench.ts';
import { foldBench } from './fold-bench.ts';
import { fanoutBench, liveBench } from './live-bench.ts';
import { queryBench } from './query-bench.ts';
import { metricsBench } from './metrics-bench.ts';
import { pgBench } from './pg-bench-part.ts';
import type { BenchResult } from './bench-result.ts';
import { describeMachine, machineInfo } from './machine.ts';

type Part = (opts: { durationS: number; progress(msg: string): void; chips?: number; rate?: number }) => Promise<BenchResult[]>;

export const BENCH_PARTS: Record<string, { describe: string; run: Part; defaultDurationS: number }> = {
  ingest: { describe: 'ingest at 1,000 / 10,000 / 100,000 chips (or --chips N), /ws/agent and POST /api/v1/write, as fast as acks allow (or --rate HZ): chip-samples/s, p99, RSS, bytes per sample on disk (as stopped, once merged) and written; history reads of one chip during 10,000-chip ingest at 10 Hz (with --rate: during every WebSocket run)', run: ingestBench, defaultDurationS: 60 },
  fold: { describe: 'the fold alone: the sample log of 10,000 chips (or --chips N) at 1 Hz into chunks and rollups in an hour\'s 46th minute, in steps as the compactor takes them: chip-samples/s, the hour\'s sealing, the chunk merge, peak RSS, bytes per sample', run: foldBench, defaultDurationS: 0 },
  agent: { describe: 'agent footprint: CPU and RSS with 16 chips at 1 s', run: agentFootprintBench, defaultDurationS: 60 },
  live: { describe: 'live latency: 20,000 chip-samples/s (or --chips N at 1 Hz), 100 /ws/live clients (10 also on a chip), agent send -> client receive', run: liveBench, defaultDurationS: 30 },
  fanout: { describe: 'fan-out: 1,008 chips at 1 s to 1,000 fleet clients, delivery p99 and ingest not slowed', run: fanoutBench, defaultDurationS: 30 },
  alerts: { describe: 'alerts: ingest with built-ins + 50 rules vs none at 10,000 chips (<= 10 % slower), threshold crossing -> webhook p99 beyond for (<= 1 s)', run: alertsBench, defaultDurationS: 30 },
  metrics: { describe: 'GET /metrics/fleet at 10,000 chips (or --chips N): scrape p50/p95, body size plain and gzip', run: metricsBench, defaultDurationS: 30 },
  browser: { describe: 'dashboard heatmap in headless Chromium: 10,000 chips (or --chips N) at 1 s through a hub: main-thread busy, longest task, heap growth, live bytes/s; 43,200-point chart draw', run: browserBench, defaultDurationS: 30 },
  pg: { describe: 'PostgreSQL writes (server at FLEETSCOPE_PG_URL): rows/s into the sample log by VALUES, unnest and COPY; chip-samples/s through the store and its fold, beside SQLite\'s store on the same data (1,024 chips or --chips N, 60 s of samples or --duration S)', run: pgBench, defaultDurationS: 60 },
  query: { describe: 'history queries on 1,000 chips x 30 days (seeded, ~5 min): one chip at 1 m and fleet at 1 h p95, bytes per chip-sample per tier (--duration N: N timed requests per query, at least 30)', run: queryBench, defaultDurationS: 30 },
};

export async function runBench(parts: string[], opts: { durationS?: number; chips?: number; rate?: number; outDir: string }): Promise<BenchResult[]> {
  const machine = machineInfo();
  const progress = (msg: string) => process.stderr.write(msg + '\n');
  progress(`machine: ${describeMachine(machine)}`);
  const results: BenchResult[] = [];
  for (const name of parts) {
    const part = BENCH_PARTS[name];
    results.push(...(await part.run({ durationS: opts.durationS ?? part.defaultDurationS, progress, chips: opts.chips, rate: opts.rate })));
  }
  const rows = results.map((r) => `| ${r.part} | ${r.metric} | ${r.value} ${r.unit} | ${r.target} | ${r.pass ? 'yes' : 'MISSED'} |`);
  process.stdout.write(`\nfleetscope bench — ${describeMachine(machine)}\n\n| part | metric | value | target | met |\n| --- | --- | --- | --- | --- |\n${rows.join('\n')}\n\nConditions:\n${[...new Set(results.map((r) => `- ${r.part}: ${r.conditions}`))].join('\n')}\n`);
  mkdirSync(opts.outDir, { recursive: true });
  const file = join(opts.outDir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ machine, at: new Date().toISOString(), results }, null, 2));
  process.stdout.write(`\nresults written to ${file}\n`);
  return results;
}
