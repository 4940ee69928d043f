/** `fleetscope hub`: run the hub (HTTP API, WebSockets, embedded store, dashboard). */
import { limitHeapGrowth } from '../server/heap-growth.ts';
import { parseDuration } from '../schema/duration.ts';
import { parsePriceChipHour, parsePriceKwh, type Prices } from '../server/history/prices.ts';
import { describeDb, exitIfDatabaseUnreachable, isPgUrl, parseDbTarget } from '../server/store/open-store.ts';
import { startHub } from '../server/hub.ts';
import type { Retention } from '../server/store/store.ts';
import { createLogger, type LogLevel } from '../common/logger.ts';
import { helpText, intOption, parseCommand, resolveOptions, UsageError, type CommandSpec } from '../common/cli-args.ts';
import { onShutdown } from './shutdown.ts';
import { readFileSync } from 'node:fs';
import { DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS_PER_IP } from '../server/ws/upgrade-router.ts';
import { OPEN_WARNING } from './open-warning.ts';
import { DEFAULT_HUB_BOUNDS } from '../server/hub-bounds.ts';
import { RulesFileError } from '../server/alerts/rules-file.ts';
import type { z } from 'zod';
import { notifyDurationSchema, receiverSecretSchema, receiverUrlSchema } from '../schema/alert-notify.ts';
import { parseBusUrl } from '../server/bus/nats-bus.ts';
import { checkSubjectRoot } from '../server/bus/subjects.ts';
import type { HubBusOptions } from '../server/bus/start-bus.ts';

export const DEFAULT_DB = './data/fleetscope.db';

const spec = {
  name: 'hub',
  summary: 'receive agent telemetry, store it, serve the API and the live dashboard',
  usage: 'fleetscope hub [--port 8080] [--db ./data/fleetscope.db | --db postgres://user@host:5432/db]',
  options: {
    port: { type: 'string', short: 'p' },
    host: { type: 'string' },
    db: { type: 'string' },
    'db-schema': { type: 'string' },
    'log-format': { type: 'string' },
    'log-level': { type: 'string' },
    'price-kwh': { type: 'string' },
    'price-chip-hour': { type: 'string' },
    'retention-raw': { type: 'string' },
    'retention-1m': { type: 'string' },
    'retention-1h': { type: 'string' },
    'retention-alerts': { type: 'string' },
    open: { type: 'boolean' },
    'allowed-origin': { type: 'string', multiple: true },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'max-future': { type: 'string' },
    'agent-frame-rate': { type: 'string' },
    'max-agents-per-token': { type: 'string' },
    'max-connections': { type: 'string' },
    'max-connections-per-ip': { type: 'string' },
    webhook: { type: 'string' },
    'webhook-secret': { type: 'string' },
    'webhook-group-wait': { type: 'string' },
    'external-url': { type: 'string' },
    rules: { type: 'string' },
    bus: { type: 'string' },
    'bus-root': { type: 'string' },
    config: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  help: {
    port: 'TCP port for HTTP and WebSockets (default 8080, env FLEETSCOPE_PORT; 0 = any free port)',
    host: 'address to listen on (default 0.0.0.0, env FLEETSCOPE_HOST)',
    db: `SQLite database file, or a PostgreSQL URL postgres://user[:password]@host:port/database[?schema=name] so that several hubs share one database (default ${DEFAULT_DB}, env FLEETSCOPE_DB; docs/postgresql.md)`,
    'db-schema': 'PostgreSQL schema of the hub\'s tables when the --db URL names none (default public; created when missing)',
    'log-format': 'text (default) or json',
    'log-level': 'debug, info (default), warn or error',
    'price-kwh': 'price of one kWh, for /api/v1/energy costs (e.g. 0.15; no currency)',
    'price-chip-hour': 'price of one chip-hour by model, for /api/v1/energy costs (e.g. H100=2.5,Trainium2=1.3)',
    'retention-raw': 'how long raw samples are kept (default 48h)',
    'retention-1m': 'how long 1-minute rollups are kept (default 30d)',
    'retention-1h': 'how long 1-hour rollups are kept (default 730d)',
    'retention-alerts': 'how long alert transitions are kept (default 90d); at thousands of chips near a threshold they can outweigh the samples (docs/alerts.md)',
    open: 'auth off: anyone who reaches the port can read the fleet and write samples (no tokens)',
    'allowed-origin': 'another web origin that may open /ws/live (repeatable), e.g. https://grafana.example.com',
    'tls-cert': 'serve https and wss with this certificate (PEM file; with --tls-key)',
    'tls-key': 'private key (PEM file) of --tls-cert',
    'agent-frame-rate': `frames per second one agent connection may send on average, bursts of 4x (default ${DEFAULT_HUB_BOUNDS.agentFramesPerSec}); beyond it the hub stops reading the socket for a while`,
    'max-future': 'samples further ahead of the hub\'s clock are refused (default 5s)',
    'max-agents-per-token': `most agent ids one token may register (default ${DEFAULT_HUB_BOUNDS.maxAgentsPerToken})`,
    'max-connections': `most open WebSockets in total (default ${DEFAULT_MAX_CONNECTIONS})`,
    'max-connections-per-ip': `most open WebSockets per client address (default ${DEFAULT_MAX_CONNECTIONS_PER_IP})`,
    webhook: 'send every alert to this URL (Alertmanager webhook JSON v4): a catch-all receiver; more under /api/v1/alerts/receivers',
    'webhook-secret': 'sign --webhook requests with this secret (X-Fleetscope-Signature; env FLEETSCOPE_WEBHOOK_SECRET keeps it off the command line)',
    'webhook-group-wait': 'transitions of one alert name within this window go out in one --webhook request (default 30s; 0s: each at once)',
    'external-url': "the hub's URL as users reach it, for the chip links in alert notifications (default http://localhost:<port>)",
    rules: 'alert rules file (YAML or JSON): adjustments of the built-in rules, your own rules, receivers; reloaded on SIGHUP',
    bus: 'share live data with other hubs through NATS at this URL (e.g. nats://127.0.0.1:4222; docs/scale-out.md); each hub still stores only its own agents\' samples',
    'bus-root': 'subject root on the bus (default fleetscope): hubs share live data only under the same root',
    config: 'JSON config file; keys are these long option names (FLEETSCOPE_<OPTION> env vars work too)',
    help: 'show this help',
  },
  examples: ['fleetscope token create --role admin --name ops && fleetscope hub', 'fleetscope hub --bus nats://127.0.0.1:4222', 'fleetscope hub --tls-cert hub.crt --tls-key hub.key', 'fleetscope hub --webhook https://ops.example.com/hooks/fleetscope --webhook-secret "$SECRET"', 'fleetscope hub --port 9000 --db /var/lib/fleetscope/fleet.db', 'fleetscope hub --price-kwh 0.15 --price-chip-hour H100=2.5,Trainium2=1.3'],
} satisfies CommandSpec<Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>>;

/** After the options: what the hub reads from the environment besides FLEETSCOPE_<OPTION>. */
const HUB_HELP_NOTES = `
Monitoring: GET /metrics (the hub's own) and /metrics/fleet (every chip; ?names=dcgm|neuron) need a
viewer token; /healthz and /readyz need none. OTLP export of metrics and traces follows the
standard variables: OTEL_EXPORTER_OTLP_ENDPOINT (e.g. http://collector:4318), OTEL_EXPORTER_OTLP_HEADERS,
OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_METRIC_EXPORT_INTERVAL (see docs/metrics.md).
`;

export async function hubCommand(argv: string[]): Promise<void> {
  const flags = parseCommand(spec, argv);
  if (flags.help) {
    process.stdout.write(helpText(spec) + HUB_HELP_NOTES);
    return;
  }
  const o = resolveOptions(spec, flags);
  limitHeapGrowth();
  const log = createLogger({ format: o['log-format'] === 'json' ? 'json' : 'text', level: (o['log-level'] as LogLevel) ?? 'info', name: 'hub' });
  const port = intOption('port', o.port as string | undefined, 8080, 0, 65535);
  const db = (o.db as string | undefined) ?? DEFAULT_DB;
  const dbSchema = o['db-schema'] as string | undefined;
  let dbShown: string;
  try {
    dbShown = describeDb(parseDbTarget(db, dbSchema));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const open = o.open === true;
  const hub = await startHub({
    port, host: o.host as string | undefined, db, dbSchema, log, prices: pricesOption(o), retention: retentionOption(o), alertHistoryMs: positiveDuration(o, 'retention-alerts'),
    auth: { open, allowedOrigins: (o['allowed-origin'] as string[] | undefined) ?? [] },
    tls: tlsOption(o),
    maxConnections: intOption('max-connections', o['max-connections'] as string | undefined, DEFAULT_MAX_CONNECTIONS, 1, 10_000_000),
    maxFutureMs: durationOption(o, 'max-future'),
    ...frameRateOption(o),
    maxAgentsPerToken: o['max-agents-per-token'] === undefined ? undefined : intOption('max-agents-per-token', o['max-agents-per-token'] as string, DEFAULT_HUB_BOUNDS.maxAgentsPerToken, 1, 10_000_000),
    maxConnectionsPerIp: intOption('max-connections-per-ip', o['max-connections-per-ip'] as string | undefined, DEFAULT_MAX_CONNECTIONS_PER_IP, 1, 10_000_000),
    ...webhookOptions(o),
    rulesFile: o.rules as string | undefined,
    bus: busOption(o),
  }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EADDRINUSE') throw new UsageError(`port ${port} is already in use; pick another with --port`);
    if (err instanceof RulesFileError) throw new UsageError(err.message);
    exitIfDatabaseUnreachable('hub', err);
    throw err;
  });
  log.info('hub listening', { url: hub.url, db: dbShown, port: hub.port, auth: open ? 'off' : 'tokens', ...(hub.bus ? { bus: hub.bus.bus.url, hubId: hub.bus.bus.hubId } : {}) });
  if (open) log.warn(OPEN_WARNING);
  else if (hub.tokens.list().every((t) => t.revokedAt !== null)) log.warn(`no tokens yet: create one with 'fleetscope token create --role admin --db ${isPgUrl(db) ? `<this hub's --db URL>${dbSchema ? ` --db-schema ${dbSchema}` : ''}` : db}' (agents need --role agent, the dashboard --role viewer)`);
  // Machine-readable line for scripts and tests that start the hub on port 0.
  process.stdout.write(`fleetscope hub listening on ${hub.url}\n`);
  onShutdown(log, () => hub.close());
  // SIGHUP: read the rules file again (a bad one is logged; the rules in force stay).
  if (o.rules !== undefined) process.on('SIGHUP', () => hub.reloadRules());
}

/** `--bus URL` and `--bus-root`, checked (a bad URL is a usage error, not a hub that never connects). */
export function busOption(o: Record<string, unknown>): HubBusOptions | undefined {
  const url = o.bus as string | undefined;
  const root = o['bus-root'] as string | undefined;
  if (url === undefined) {
    if (root !== undefined) throw new UsageError('--bus-root goes with --bus');
    return undefined;
  }
  try {
    parseBusUrl(url);
  } catch (err) {
    throw new UsageError(`--bus: ${(err as Error).message}`);
  }
  try {
    if (root !== undefined) checkSubjectRoot(root);
  } catch (err) {
    throw new UsageError(`--bus-root: ${(err as Error).message}`);
  }
  return { url, subjectRoot: root };
}

function webhookOptions(o: Record<string, unknown>): { webhook?: string; webhookSecret?: string; webhookGroupWait?: string; externalUrl?: string } {
  const webhook = o.webhook as string | undefined;
  const secret = o['webhook-secret'] as string | undefined;
  const groupWait = o['webhook-group-wait'] as string | undefined;
  const externalUrl = o['external-url'] as string | undefined;
  const check = (flag: string, schema: z.ZodType, value: string | undefined) => {
    const res = value === undefined ? null : schema.safeParse(value);
    if (res && !res.success) throw new UsageError(`--${flag}: ${res.error.issues[0]!.message}`);
  };
  if ((secret !== undefined || groupWait !== undefined) && webhook === undefined) throw new UsageError('--webhook-secret and --webhook-group-wait go with --webhook');
  check('webhook', receiverUrlSchema, webhook);
  check('webhook-secret', receiverSecretSchema, secret);
  check('webhook-group-wait', notifyDurationSchema(0), groupWait);
  check('external-url', receiverUrlSchema, externalUrl);
  return { webhook, webhookSecret: secret, webhookGroupWait: groupWait, externalUrl };
}

function frameRateOption(o: Record<string, unknown>): { agentFramesPerSec?: number; agentFrameBurst?: number } {
  const raw = o['agent-frame-rate'] as string | undefined;
  if (raw === undefined) return {};
  const rate = intOption('agent-frame-rate', raw, DEFAULT_HUB_BOUNDS.agentFramesPerSec, 1, 1_000_000);
  return { agentFramesPerSec: rate, agentFrameBurst: 4 * rate };
}

function durationOption(o: Record<string, unknown>, flag: string): number | undefined {
  const raw = o[flag] as string | undefined;
  if (raw === undefined) return undefined;
  try {
    return parseDuration(raw);
  } catch (err) {
    throw new UsageError(`--${flag}: ${(err as Error).message}`);
  }
}

function tlsOption(o: Record<string, unknown>): { cert: Buffer; key: Buffer } | undefined {
  const cert = o['tls-cert'] as string | undefined;
  const key = o['tls-key'] as string | undefined;
  if (!cert && !key) return undefined;
  if (!cert || !key) throw new UsageError('--tls-cert and --tls-key go together');
  const read = (flag: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new UsageError(`--${flag}: cannot read ${file}: ${(err as Error).message}`);
    }
  };
  return { cert: read('tls-cert', cert), key: read('tls-key', key) };
}

function pricesOption(o: Record<string, unknown>): Prices {
  try {
    return { kwh: parsePriceKwh(o['price-kwh'] as string | undefined), chipHour: parsePriceChipHour(o['price-chip-hour'] as string | undefined) };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function retentionOption(o: Record<string, unknown>): Partial<Retention> {
  const out: Partial<Retention> = {};
  const keys = { 'retention-raw': 'rawMs', 'retention-1m': 'm1Ms', 'retention-1h': 'h1Ms' } as const;
  for (const [flag, key] of Object.entries(keys)) {
    const ms = positiveDuration(o, flag);
    if (ms !== undefined) out[key] = ms;
  }
  return out;
}

/** A positive duration option (48h, 30d …) in ms, or undefined when not given. */
function positiveDuration(o: Record<string, unknown>, flag: string): number | undefined {
  const ms = durationOption(o, flag);
  if (ms !== undefined && !(ms > 0)) throw new UsageError(`--${flag} must be a positive duration such as 48h or 30d, got ${JSON.stringify(o[flag])}`);
  return ms;
}
