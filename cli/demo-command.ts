/** `fleetscope demo`: hub + embedded database + a simulated mixed fleet, live in the browser. */
import { runAgent, type RunningAgent } from '../agents/agent-runtime.ts';
import { createSource } from '../agents/sources/source-registry.ts';
import { startHub } from '../server/hub.ts';
import { createLogger } from '../common/logger.ts';
import { helpText, intOption, parseCommand, UsageError, type CommandSpec } from '../common/cli-args.ts';
import { ensureClientBuilt } from './client-build.ts';
import { DEFAULT_DB } from './hub-command.ts';
import { onShutdown } from './shutdown.ts';
import { OPEN_WARNING } from './open-warning.ts';

const spec = {
  name: 'demo',
  summary: 'start a hub with the embedded database and a simulated mixed fleet',
  usage: 'fleetscope demo [--port 8080] [--db ./data/fleetscope.db] [--trn2-hosts 2] [--p5-hosts 2 | --chips N]',
  options: {
    port: { type: 'string', short: 'p' },
    db: { type: 'string' },
    'trn2-hosts': { type: 'string' },
    'p5-hosts': { type: 'string' },
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
    chips: 'about N simulated chips instead: 60 % on trn2 hosts, the rest on p5 hosts (e.g. 1000 or 10000)',
    interval: 'sampling interval of the simulated agents (default 1s)',
    replay: 'also replay a real capture in a loop (nvidia-smi CSV, NVML or neuron-monitor JSON lines); repeatable',
    help: 'show this help',
  },
  examples: ['npm run demo', 'fleetscope demo --port 9090 --trn2-hosts 4 --p5-hosts 8', 'fleetscope demo --chips 10000', 'npm run demo -- --replay test/fixtures/nvidia-h100/query-gpu-250ms.csv'],
} satisfies CommandSpec<Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>>;

export async function demoCommand(argv: string[]): Promise<void> {
  const o = parseCommand(spec, argv);
  if (o.help) {
    process.stdout.write(helpText(spec));
    return;
  }
  const port = intOption('port', o.port as string | undefined, 8080, 0, 65535);
  const chipsWanted = o.chips === undefined ? null : intOption('chips', o.chips as string, 24, 1, 100_000);
  if (chipsWanted != null && (o['trn2-hosts'] !== undefined || o['p5-hosts'] !== undefined)) throw new UsageError('--chips sets the number of hosts: give it alone, or --trn2-hosts and --p5-hosts');
  const split = chipsWanted == null ? null : demoHosts(chipsWanted);
  const trn2Hosts = split?.trn2 ?? intOption('trn2-hosts', o['trn2-hosts'] as string | undefined, 2, 0, 1000);
  const p5Hosts = split?.p5 ?? intOption('p5-hosts', o['p5-hosts'] as string | undefined, 2, 0, 1000);
  const intervalMs = o.interval ? (await import('../schema/duration.ts')).parseDuration(o.interval as string) : 1000;
  const db = (o.db as string | undefined) ?? DEFAULT_DB;
  const log = createLogger({ name: 'demo' });

  await ensureClientBuilt(log);
  const hub = await startHub({ port, db, log: createLogger({ name: 'hub', level: 'warn' }), auth: { open: true } }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EADDRINUSE') throw new UsageError(`port ${port} is already in use; try: npm run demo -- --port ${port + 1}`);
    throw err;
  });
  const agentLog = createLogger({ name: 'agent', level: 'warn' });
  const hubUrl = `ws://127.0.0.1:${hub.port}`;
  const agents: RunningAgent[] = [];
  const fleet = [
    ...Array.from({ length: trn2Hosts }, (_, i) => ({ kind: 'sim-neuron', seed: i + 1, hostname: `trn2-sim-${i + 1}` })),
    ...Array.from({ length: p5Hosts }, (_, i) => ({ kind: 'sim-nvml', seed: i + 1, hostname: `p5-sim-${i + 1}` })),
  ];
  for (const f of fleet) {
    const source = createSource(f.kind, { seed: f.seed, intervalMs, hostname: f.hostname, log: agentLog });
    agents.push(await runAgent({ hubs: [hubUrl], sources: [source], intervalMs, log: agentLog }));
  }
  const replays = (o.replay as string[] | undefined) ?? [];
  for (const [i, file] of replays.entries()) {
    const source = createSource('replay', { seed: 1, intervalMs, hostname: `replay-${i + 1}`, replayFile: file, replayLoop: true, log: agentLog });
    try {
      agents.push(await runAgent({ hubs: [hubUrl], sources: [source], intervalMs, log: agentLog }));
    } catch (err) {
      throw new UsageError(`--replay ${file}: ${(err as Error).message}`);
    }
  }
  process.stdout.write(
    `\nfleetscope demo is running: ${trn2Hosts} trn2 hosts (16 x Trainium2 each) and ${p5Hosts} p5 hosts (8 x H100 each), ` +
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
