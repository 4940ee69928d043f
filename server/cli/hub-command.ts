/** `fleetscope hub`: run the hub (HTTP API, WebSockets, embedded store, dashboard). */
import { startHub } from '../hub.ts';
import { createLogger, type LogLevel } from '../logger.ts';
import { helpText, intOption, parseCommand, resolveOptions, UsageError, type CommandSpec } from './cli-args.ts';
import { onShutdown } from './shutdown.ts';

export const DEFAULT_DB = './data/fleetscope.db';

const spec = {
  name: 'hub',
  summary: 'receive agent telemetry, store it, serve the API and the live dashboard',
  usage: 'fleetscope hub [--port 8080] [--db ./data/fleetscope.db]',
  options: {
    port: { type: 'string', short: 'p' },
    host: { type: 'string' },
    db: { type: 'string' },
    'log-format': { type: 'string' },
    'log-level': { type: 'string' },
    config: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  help: {
    port: 'TCP port for HTTP and WebSockets (default 8080, env FLEETSCOPE_PORT; 0 = any free port)',
    host: 'address to listen on (default 0.0.0.0, env FLEETSCOPE_HOST)',
    db: `SQLite database file (default ${DEFAULT_DB}, env FLEETSCOPE_DB)`,
    'log-format': 'text (default) or json',
    'log-level': 'debug, info (default), warn or error',
    config: 'JSON config file; keys are these long option names (FLEETSCOPE_<OPTION> env vars work too)',
    help: 'show this help',
  },
  examples: ['fleetscope hub', 'fleetscope hub --port 9000 --db /var/lib/fleetscope/fleet.db'],
} satisfies CommandSpec<Record<string, { type: 'string' | 'boolean'; short?: string }>>;

export async function hubCommand(argv: string[]): Promise<void> {
  const flags = parseCommand(spec, argv);
  if (flags.help) {
    process.stdout.write(helpText(spec));
    return;
  }
  const o = resolveOptions(spec, flags);
  const log = createLogger({ format: o['log-format'] === 'json' ? 'json' : 'text', level: (o['log-level'] as LogLevel) ?? 'info', name: 'hub' });
  const port = intOption('port', o.port as string | undefined, 8080, 0, 65535);
  const db = (o.db as string | undefined) ?? DEFAULT_DB;
  const hub = await startHub({ port, host: o.host as string | undefined, db, log }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EADDRINUSE') throw new UsageError(`port ${port} is already in use; pick another with --port`);
    throw err;
  });
  log.info('hub listening', { url: hub.url, db, port: hub.port });
  // Machine-readable line for scripts and tests that start the hub on port 0.
  process.stdout.write(`fleetscope hub listening on ${hub.url}\n`);
  onShutdown(log, () => hub.close());
}
