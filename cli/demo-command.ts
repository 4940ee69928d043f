/** `fleetscope demo`: hub + embedded database + a simulated mixed fleet, live in the browser. */
import { limitHeapGrowth } from '../server/heap-growth.ts';
import { runAgent, type RunningAgent } from '../agents/agent-runtime.ts';
import { createSource } from '../agents/sources/source-registry.ts';
import { startHub } from '../server/hub.ts';
import { createLogger } from '../common/logger.ts';
import { helpText, intOption, parseCommand, UsageError, type CommandSpec } from '../common/cli-args.ts';
import { ensureClientBuilt } from './client-build.ts';
import { DEFAULT_DB } from './hub-command.ts';
import { onShutdown } from './shutdown.ts';
import { OPEN_WARNING } from './open-warning.ts';

/** Power cap of the demo's capped p5 hosts, W (the real H200 capture's cap: 86 % of the step rate at 63 % of the power). */
export const DEMO_P5_CAP_W = 400;

const spec = {
  name: 'demo',
  summary: 'start a hub with the embedded database and a simulated mixed fleet',
  usage: 'fleetscope demo [--port 8080] [--db ./data/fleetscope.db] [--trn2-hosts 2] [--p5-hosts 2 | --chips N] [--p5-capped-hosts 1]',
  options: {
    port: { type: 'string', short: 'p' },
    db: { type: 'string' },
    'trn2-hosts': { type: 'string' },
    'p5-hosts': { type: 'string' },
    'p5-capped-hosts': { type: 'string' },
    chips: { type: 'string' },
    interval: { type: 'string' },
    replay: { type: 'string', multiple: true },
    help: { type: 'boolean', short: 'h' },
  },
  help: {
    port: 'port for the hub (default 8080)',
    db: `SQLite database file (default ${DEFAULT_DB})`,
    'trn2-hosts': 'simulated trn2.48xlarge hosts, 16 x Trainium2 each (default 2)',
    'p5-hosts': 'simulated p5.48xlarge hosts, 8 x H100 each (default 2)',
    'p5-capped-hosts': `of the p5 hosts, how many run power-capped at ${DEMO_P5_CAP_W} W (hostnames p5-sim-cap${DEMO_P5_CAP_W}-N), to compare energy per token (default 1 of the default 2; about 10 % with --chips or --p5-hosts)`,
    chips: 'about N simulated chips instead: 60 % on trn2 hosts, the rest on p5 hosts (e.g. 1000 or 10000)',
    interval: 'sampling interval of the simulated agents (default 1s)',
    replay: 'also replay a real capture in a loop (nvidia-smi CSV, NVML or neuron-monitor JSON lines); repeatable',
    help: 'show this help',
  },
  examples: ['npm run demo', 'fleetscope demo --port 9090 --trn2-hosts 4 --p5-hosts 8 --p5-capped-hosts 2', 'fleetscope demo --chips 10000', 'npm run demo -- --replay test/fixtures/nvidia-h100/query-gpu-250ms.csv'],
} satisfies CommandSpec<Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>>;

/** What `fleetscope demo` runs, from its arguments (pure but for reading them; throws UsageError). */
export interface DemoPlan {
  port: number;
  db: string;
  intervalMs: number;
  trn2Hosts: number;
  p5Hosts: number;
  /** How many of the p5 hosts are power-capped at DEMO_P5_CAP_W. */
  p5CappedHosts: number;
  fleet: DemoHost[];
  replays: string[];
}

/** Parse the demo's arguments into a plan; null with --help. */
export async function demoPlan(argv: string[]): Promise<DemoPlan | null> {
  const o = parseCommand(spec, argv);
  if (o.help) return null;
  const port = intOption('port', o.port as string | undefined, 8080, 0, 65535);
  const chipsWanted = o.chips === undefined ? null : intOption('chips', o.chips as string, 24, 1, 100_000);
  if (chipsWanted != null && (o['trn2-hosts'] !== undefined || o['p5-hosts'] !== undefined)) throw new UsageError('--chips sets the number of hosts: give it alone, or --trn2-hosts and --p5-hosts');
  const split = chipsWanted == null ? null : demoHosts(chipsWanted);
  const trn2Hosts = split?.trn2 ?? intOption('trn2-hosts', o['trn2-hosts'] as string | undefined, 2, 0, 1000);
  const p5Hosts = split?.p5 ?? intOption('p5-hosts', o['p5-hosts'] as string | undefined, 2, 0, 1000);
  const p5CappedHosts = intOption('p5-capped-hosts', o['p5-capped-hosts'] as string | undefined, defaultCappedHosts(p5Hosts), 0, 1000);
  if (p5CappedHosts > p5Hosts) throw new UsageError(`--p5-capped-hosts ${p5CappedHosts} is more than the ${p5Hosts} p5 host(s)`);
  const intervalMs = o.interval ? (await import('../schema/duration.ts')).parseDuration(o.interval as string) : 1000;
  const db = (o.db as string | undefined) ?? DEFAULT_DB;
  const replays = (o.replay as string[] | undefined) ?? [];
  return { port, db, intervalMs, trn2Hosts, p5Hosts, p5CappedHosts, fleet: demoFleet(trn2Hosts, p5Hosts, p5CappedHosts), replays };
}

export async function demoCommand(argv: string[]): Promise<void> {
  const plan = await demoPlan(argv);
  if (!plan) {
    process.stdout.write(helpText(spec));
    return;
  }
  const { port, db, intervalMs, trn2Hosts, p5Hosts, p5CappedHosts, fleet, replays } = plan;
  limitHeapGrowth();
  const log = createLogger({ name: 'demo' });

  await ensureClientBuilt(log);
  const hub = await startHub({ port, db, log: createLogger({ name: 'hub', level: 'warn' }), auth: { open: true } }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EADDRINUSE') throw new UsageError(`port ${port} is already in use; try: npm run demo -- --port ${port + 1}`);
    throw err;
  });
  const agentLog = createLogger({ name: 'agent', level: 'warn' });
  const hubUrl = `ws://127.0.0.1:${hub.port}`;
  const agents: RunningAgent[] = [];
  for (const f of fleet) {
    const source = createSource(f.kind, { seed: f.seed, intervalMs, hostname: f.hostname, powerCapW: f.powerCapW, scheduleOf: f.scheduleOf, log: agentLog });
    agents.push(await runAgent({ hubs: [hubUrl], sources: [source], intervalMs, log: agentLog }));
  }
  for (const [i, file] of replays.entries()) {
    const source = createSource('replay', { seed: 1, intervalMs, hostname: `replay-${i + 1}`, replayFile: file, replayLoop: true, log: agentLog });
    try {
      agents.push(await runAgent({ hubs: [hubUrl], sources: [source], intervalMs, log: agentLog }));
    } catch (err) {
      throw new UsageError(`--replay ${file}: ${(err as Error).message}`);
    }
  }
  process.stdout.write(
    `\nfleetscope demo is running: ${trn2Hosts} trn2 hosts (16 x Trainium2 each) and ${p5Hosts} p5 hosts (8 x H100 each` +
      `${p5CappedHosts ? `, ${p5CappedHosts} of them power-capped at ${DEMO_P5_CAP_W} W` : ''}), ` +
      `sampling every ${intervalMs} ms${replays.length ? `, plus ${replays.length} replayed capture(s)` : ''}.\n\n  Open http://localhost:${hub.port}/\n\n  ${OPEN_WARNING}\n\n  Database: ${db}\n  Stop with Ctrl+C.\n\n`,
  );
  onShutdown(log, async () => {
    await Promise.all(agents.map((a) => a.stop(1000)));
    await hub.close();
  });
}

/** Hosts for about `chips` chips: 60 % on trn2 hosts (16 each), the rest on p5 hosts (8 each). */
export function demoHosts(chips: number): { trn2: number; p5: number } {
  const trn2 = Math.floor((chips * 0.6) / 16);
  return { trn2, p5: Math.max(0, Math.ceil((chips - trn2 * 16) / 8)) };
}


/** One simulated host of the demo. */
export interface DemoHost {
  kind: 'sim-neuron' | 'sim-nvml';
  seed: number;
  hostname: string;
  /** Set on the power-capped p5 hosts. */
  powerCapW?: number;
  /** A capped host's uncapped twin, whose workload schedule it follows. */
  scheduleOf?: string;
}

/** Default number of power-capped p5 hosts: about 10 %, at least 1 once there are 2 p5 hosts (the default 2: 1). */
export function defaultCappedHosts(p5: number): number {
  return p5 >= 2 ? Math.max(1, Math.round(p5 / 10)) : 0;
}

/**
 * The demo's hosts: trn2-sim-1…, then the uncapped p5 hosts p5-sim-1…, then the capped ones
 * p5-sim-cap400-1…, each the twin of an uncapped one (its seed and workload schedule), so the
 * two differ by the cap alone.
 */
export function demoFleet(trn2: number, p5: number, p5Capped: number): DemoHost[] {
  const capped = Math.max(0, Math.min(p5Capped, p5));
  const plain = p5 - capped;
  return [
    ...Array.from({ length: trn2 }, (_, i): DemoHost => ({ kind: 'sim-neuron', seed: i + 1, hostname: `trn2-sim-${i + 1}` })),
    ...Array.from({ length: plain }, (_, i): DemoHost => ({ kind: 'sim-nvml', seed: i + 1, hostname: `p5-sim-${i + 1}` })),
    // A capped host runs the workload of an uncapped twin (same seed and schedule): they differ by the cap alone.
    ...Array.from({ length: capped }, (_, i): DemoHost => {
      const twin = plain > 0 ? (i % plain) + 1 : null;
      return { kind: 'sim-nvml', seed: twin ?? plain + i + 1, hostname: `p5-sim-cap${DEMO_P5_CAP_W}-${i + 1}`, powerCapW: DEMO_P5_CAP_W, ...(twin === null ? {} : { scheduleOf: `p5-sim-${twin}` }) };
    }),
  ];
}
