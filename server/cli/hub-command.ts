/** `fleetscope hub`: run the hub (HTTP API, WebSockets, embedded store, dashboard). */
import { startHub } from '../hub.ts';
import { createLogger, type LogLevel } from '../logger.ts';
import { helpText, intOption, parseCommand, type CommandSpec } from './cli-args.ts';
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
    help: { type: 'boolean', short: 'h' },
  },
  help: {
    port: 'TCP port for HTTP and WebSockets (default 8080, env FLEETSCOPE_PORT; 0 = any free port)',
    host: 'address to listen on (default 0.0.0.0, env FLEETSCOPE_HOST)',
    db: `SQLite database file (default ${DEFAULT_DB}, env FLEETSCOPE_DB)`,
    'log-format': 'text (default) or json',
    'log-level': 'debug, info (default), warn or error',
    help: 'show this help',
  },
  examples: ['fleetscope hub', 'fleetscope hub --port 9000 --db /var/lib/fleetscope/fleet.db'],
} satisfies CommandSpec<Record<string, { type: 'string' | 'boolean'; short?: string }>>;

export async function hubCommand(argv: string[]): Promise<void> {
  const o = parseCommand(spec, argv);
  if (o.help) {
    process.stdout.write(helpText(spec));
    return;
  }
  const log = createLogger({ format: o['log-format'] === 'json' ? 'json' : 'text', level: (o['log-level'] as LogLevel) ?? 'info', name: 'hub' });
  const port = intOption('port', (o.port as string | undefined) ?? process.env.FLEETSCOPE_PORT, 8080, 0, 65535);
  const db = (o.db as string | undefined) ?? process.env.FLEETSCOPE_DB ?? DEFAULT_DB;
  const hub = await startHub({ port, host: (o.host as string | undefined) ?? process.env.FLEETSCOPE_HOST, db, log });
  log.info('hub listening', { url: hub.url, db, port: hub.port });
  // Machine-readable line for scripts and tests that start the hub on port 0.
  process.stdout.write(`fleetscope hub listening on ${hub.url}\n`);
  onShutdown(log, () => hub.close());
}
