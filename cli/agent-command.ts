/** `fleetscope agent`: sample local chips and push them to the hub. */
import { createLogger, type Logger, type LogLevel } from '../common/logger.ts';
import { helpText, parseCommand, resolveOptions, UsageError } from '../common/cli-args.ts';
import { agentSpec, defaultSpoolDir, intOption, parseInterval, parseFrames, parseJobEnv, parseSize, positiveNumber, readCa, sourcesHelp, validateHubs } from './agent-options.ts';
import { runAgent } from '../agents/agent-runtime.ts';
import { instrumentAgent, type AgentReadings } from '../agents/agent-instruments.ts';
import type { ChipSource } from '../agents/sources/chip-source.ts';
import { createSource, SOURCE_KINDS, type SourceOptions } from '../agents/sources/source-registry.ts';
import { AGENT_TELEMETRY_FILE } from './agent-telemetry-file.ts';

function buildSources(specs: string[], base: Omit<SourceOptions, 'model'> & { model?: string }): ChipSource[] {
  return specs.map((s) => {
    const [kind, model] = s.split(':');
    try {
      return createSource(kind, { ...base, model: model || base.model });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  });
}

/**
 * The agent's own metrics: an HTTP port with --metrics-port, OTLP with OTEL_EXPORTER_OTLP_ENDPOINT;
 * neither: nothing is loaded (the SDK stays out of the agent's memory).
 */
async function startAgentTelemetry(o: Record<string, unknown>, log: Logger, readings: AgentReadings): Promise<{ shutdown(): Promise<void> } | null> {
  const rawPort = o['metrics-port'] as string | undefined;
  const port = rawPort === undefined ? null : intOption('metrics-port', rawPort, 0, 1, 65535);
  const host = (o['metrics-host'] as string | undefined) ?? '0.0.0.0';
  const env = process.env;
  if (port === null && !env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT) return null;
  const { otlpSettings, startTelemetrySdk } = await import('../common/telemetry-sdk.ts').catch((err: unknown) => {
    // The agent bundle imports it from a file of its own (cli/build-agent-bundle.ts), which may not have been copied.
    throw new UsageError(`${port === null ? 'OTLP export' : '--metrics-port'} needs the agent's telemetry module (${AGENT_TELEMETRY_FILE} beside fleetscope-agent.mjs), which did not load: ${(err as Error).message}`);
  });
  const otlp = otlpSettings(env);
  if (port === null && !otlp.metricsUrl) return null;
  let sdk;
  try {
    sdk = await startTelemetrySdk('fleetscope-agent', env, port === null ? undefined : { port, host });
  } catch (err) {
    throw new UsageError(`--metrics-port ${port}: cannot listen on ${host}:${port}: ${(err as Error).message}`);
  }
  const remove = instrumentAgent(sdk.meter, readings);
  if (port !== null) log.info('agent metrics served', { url: `http://${host}:${port}/metrics` });
  return {
    async shutdown() {
      remove();
      await sdk.shutdown();
    },
  };
}

export async function agentCommand(argv: string[]): Promise<void> {
  const flags = parseCommand(agentSpec, argv);
  if (flags.help) {
    process.stdout.write(helpText(agentSpec) + '\n' + sourcesHelp());
    return;
  }
  const o = resolveOptions(agentSpec, flags);
  const str = (k: string) => o[k] as string | undefined;
  const hubs = validateHubs(o.hub as string[] | undefined);
  const sourceSpecs = o.source as string[] | undefined;
  if (!sourceSpecs?.length) throw new UsageError(`--source is required: one of ${Object.keys(SOURCE_KINDS).join(', ')}`);
  const intervalMs = parseInterval(str('interval') ?? '1s');
  const frames = parseFrames(str('frames'));
  const seed = intOption('seed', str('seed'), 1, 0, 2 ** 31 - 1);
  const chips = str('chips') === undefined ? undefined : intOption('chips', str('chips'), 1, 1, 1024);
  const log: Logger = createLogger({ format: str('log-format') === 'json' ? 'json' : 'text', level: (str('log-level') as LogLevel) ?? 'info', name: 'agent' });
  // Several sources on one agent are one host: give them one host name.
  const hostname = str('hostname') ?? (sourceSpecs.length > 1 ? `mixed-sim-${seed}` : undefined);
  const sources = buildSources(sourceSpecs, {
    seed, intervalMs, chips, hostname, log, model: str('model'),
    nvidiaSmiPath: str('nvidia-smi'), neuronMonitorPath: str('neuron-monitor'), neuronSysfsDir: str('neuron-sysfs'),
    replayFile: str('replay'), replaySpeed: positiveNumber('speed', str('speed'), 1), replayLoop: Boolean(o.loop), replayPhases: str('replay-phases'),
  });
  const workPort = str('work-port') === undefined ? undefined : intOption('work-port', str('work-port'), 0, 0, 65535);
  const jobEnv = parseJobEnv(o['job-env'] as string[] | undefined);
  const work = { port: workPort, socketPath: str('work-socket'), jobFile: str('job-file'), jobEnv };
  const spoolOpt = str('spool');
  const spoolDir = spoolOpt === 'none' ? null : (spoolOpt ?? defaultSpoolDir);

  let agent;
  try {
    agent = await runAgent({
      hubs, sources, intervalMs, log, spoolDir, agentId: str('agent-id'),
      token: str('token'),
      ca: readCa(str('ca')),
      spoolMaxBytes: str('spool-max') ? parseSize('spool-max', str('spool-max')!) : undefined,
      frames,
      work: Object.values(work).some((v) => v !== undefined) ? work : undefined,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const running = agent;
  const telemetry = await startAgentTelemetry(o, log, { stats: () => running.stats(), sources: () => sources.map((s) => s.health()) });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    void agent.stop().then(async (stats) => {
      await telemetry?.shutdown();
      log.info('agent stopped', { ...stats });
      process.exit(0);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
