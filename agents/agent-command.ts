/** `fleetscope agent`: sample local chips and push them to the hub. */
import { parseDuration } from '../schema/duration.ts';
import { createLogger, type Logger, type LogLevel } from '../server/logger.ts';
import { envList, helpText, intOption, parseCommand, UsageError, type CommandSpec } from '../server/cli/cli-args.ts';
import { runAgent } from './agent-runtime.ts';
import type { ChipSource } from './sources/chip-source.ts';
import { createSource, SOURCE_KINDS } from './sources/source-registry.ts';

const spec = {
  name: 'agent',
  summary: 'read per-chip telemetry every interval and push it to the hub',
  usage: 'fleetscope agent --hub ws://HOST:PORT --source KIND[:MODEL] [--source …] [--interval 1s] [--seed N]',
  options: {
    hub: { type: 'string', multiple: true },
    source: { type: 'string', multiple: true },
    interval: { type: 'string' },
    seed: { type: 'string' },
    model: { type: 'string' },
    chips: { type: 'string' },
    hostname: { type: 'string' },
    'agent-id': { type: 'string' },
    token: { type: 'string' },
    'log-format': { type: 'string' },
    'log-level': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  help: {
    hub: 'hub URL (ws://, wss://, http://); repeat for failover (env FLEETSCOPE_HUB, comma-separated)',
    source: `telemetry source, repeatable: ${Object.keys(SOURCE_KINDS).join(', ')}; KIND:MODEL picks a model (env FLEETSCOPE_SOURCE)`,
    interval: 'sampling interval, e.g. 1s, 500ms (default 1s; a bare number is seconds)',
    seed: 'seed for simulated sources (default 1): same seed, same telemetry',
    model: 'chip model for simulated sources, e.g. H200, B200, Trainium3, Inferentia2',
    chips: 'number of chips for simulated sources (default per instance type)',
    hostname: 'host name to report (default: simulated name from the seed)',
    'agent-id': 'stable agent id (default: the host name)',
    token: 'token sent to the hub as Authorization: Bearer (env FLEETSCOPE_TOKEN)',
    'log-format': 'text (default) or json',
    'log-level': 'debug, info (default), warn or error',
    help: 'show this help',
  },
  examples: [
    'fleetscope agent --hub ws://localhost:8080 --source sim-nvml',
    'fleetscope agent --hub ws://hub-a:8080 --hub ws://hub-b:8080 --source sim-neuron:Trainium3 --seed 7',
  ],
} satisfies CommandSpec<Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>>;

function buildSources(specs: string[], o: { seed: number; intervalMs: number; model?: string; chips?: number; hostname?: string; log: Logger }): ChipSource[] {
  return specs.map((s) => {
    const [kind, model] = s.split(':');
    try {
      return createSource(kind, { seed: o.seed, intervalMs: o.intervalMs, model: model || o.model, chips: o.chips, hostname: o.hostname, log: o.log });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  });
}

export async function agentCommand(argv: string[]): Promise<void> {
  const o = parseCommand(spec, argv);
  if (o.help) {
    process.stdout.write(helpText(spec));
    return;
  }
  const hubs = (o.hub as string[] | undefined) ?? envList('FLEETSCOPE_HUB');
  if (!hubs?.length) throw new UsageError("--hub is required, e.g. --hub ws://localhost:8080\nRun 'fleetscope agent --help' for usage.");
  for (const h of hubs) {
    if (!/^(wss?|https?):\/\/[^/]+/.test(h)) throw new UsageError(`--hub ${JSON.stringify(h)} is not a ws://, wss://, http:// or https:// URL`);
  }
  const sourceSpecs = (o.source as string[] | undefined) ?? envList('FLEETSCOPE_SOURCE');
  if (!sourceSpecs?.length) throw new UsageError(`--source is required: one of ${Object.keys(SOURCE_KINDS).join(', ')}`);
  let intervalMs: number;
  try {
    intervalMs = parseDuration((o.interval as string | undefined) ?? process.env.FLEETSCOPE_INTERVAL ?? '1s');
  } catch (err) {
    throw new UsageError(`--interval: ${(err as Error).message}`);
  }
  if (intervalMs < 10 || intervalMs > 3_600_000) throw new UsageError('--interval must be between 10ms and 1h');
  const seed = intOption('seed', o.seed as string | undefined, 1, 0, 2 ** 31 - 1);
  const chips = o.chips === undefined ? undefined : intOption('chips', o.chips as string, 1, 1, 1024);
  const log = createLogger({ format: o['log-format'] === 'json' ? 'json' : 'text', level: (o['log-level'] as LogLevel) ?? 'info', name: 'agent' });
  const sources = buildSources(sourceSpecs, { seed, intervalMs, model: o.model as string | undefined, chips, hostname: o.hostname as string | undefined, log });
  const agent = await runAgent({ hubs, sources, intervalMs, log, agentId: o['agent-id'] as string | undefined, token: (o.token as string | undefined) ?? process.env.FLEETSCOPE_TOKEN });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    void agent.stop().then((stats) => {
      log.info('agent stopped', { ...stats });
      process.exit(0);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
