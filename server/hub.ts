/** Assembles and starts a hub: store, fleet state, ingest, HTTP app and WebSockets on one port. */
import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createAdaptorServer } from '@hono/node-server';
import { createApp } from './app.ts';
import { FleetState } from './fleet-state.ts';
import { Ingest, WRITER_HIGH_WATER_ROWS } from './ingest.ts';
import { WorkRecorder } from './work/work-recorder.ts';
import { AgentEventRecorder } from './agent-events/agent-event-recorder.ts';
import { LiveFanout } from './live/live-fanout.ts';
import { parseDbTarget } from './store/open-store.ts';
import { openHubDatabase } from './hub-database.ts';
import type { Retention, Store } from './store/store.ts';
import type { Prices } from './history/prices.ts';
import { handleAgentSocket } from './ws/agent-endpoint.ts';
import { COMMIT_TURNS, EventLoopTurns, FRAME_TURNS } from './event-loop-turns.ts';
import { handleLiveSocket } from './ws/live-endpoint.ts';
import { attachWebSockets } from './ws/upgrade-router.ts';
import { silentLogger, type Logger } from '../common/logger.ts';
import type { AuthPolicy } from './auth/auth-policy.ts';
import type { TokenStore } from './auth/token-store.ts';
import { agentSocketBounds, resolveBounds, type HubBounds } from './hub-bounds.ts';
import { applyHttpTimeouts } from './http-timeouts.ts';
import { AgentQuota } from './ws/agent-limits.ts';
import { Notifier, type NotifierOptions } from './alerts/notifier.ts';
import { AlertEngine, type RulesFileChange } from './alerts/alert-engine.ts';
import { applyRulesFile, loadRulesFileAtStart, readRulesFile } from './alerts/rules-file.ts';
import { startHubTelemetry } from './telemetry/hub-telemetry.ts';
import { busCheck, writerCheck } from './readiness.ts';
import { startLiveBus, type HubBusOptions, type StartedBus } from './bus/start-bus.ts';

export const DEFAULT_CLIENT_DIR = fileURLToPath(new URL('../dist/client', import.meta.url));
/** How often chip statuses (live/stale/offline) are re-derived. */
const STATUS_TICK_MS = 500;
/** Connections the kernel may queue before the hub accepts them (capped by net.core.somaxconn). */
const LISTEN_BACKLOG = 8192;

/** Besides these: the bounds of server/hub-bounds.ts (maxFutureMs, helloTimeoutMs, …), all optional. */
export interface HubOptions extends Partial<HubBounds> {
  /** 0 picks a free port. */
  port: number;
  host?: string;
  /** SQLite file path, or a PostgreSQL URL (`postgres://…`, `?schema=name` optional; server/store/open-store.ts). */
  db: string;
  /** PostgreSQL schema when the URL names none (default `public`). */
  dbSchema?: string;
  /** PostgreSQL: how often tokens, receivers and silences are reloaded besides notifications, ms (default 3 s / 5 s). */
  dbReloadMs?: number;
  clientDir?: string;
  log?: Logger;
  /** Prices for /api/v1/energy costs (default: none). */
  prices?: Prices;
  /** How long each storage tier keeps data (defaults: raw 48 h, 1m 30 days, 1h 2 years). */
  retention?: Partial<Retention>;
  /** How long alert transitions are kept, ms (default 90 days: AlertEngine's). */
  alertHistoryMs?: number;
  /**
   * Auth off (`open: true`: anyone who reaches the port can read and write), else tokens from the
   * hub's database; `allowedOrigins` may open /ws/live besides the hub's own origin. Default: on.
   */
  auth?: { open?: boolean; allowedOrigins?: string[] };
  /** Serve https and wss with this certificate and key (PEM). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Bounds on open WebSockets: in total and per client address. */
  maxConnections?: number;
  maxConnectionsPerIp?: number;
  /** How often open WebSockets' tokens are checked: a revoked token's sockets close within this (default 5 s). */
  revocationCheckMs?: number;
  /** `--rules`: alert rules file (YAML or JSON), read at start (a bad one throws RulesFileError) and again by `reloadRules` (SIGHUP). */
  rulesFile?: string;
  /** `--webhook`: a catch-all `webhook` receiver (source 'flag') for every alert, signed with `webhookSecret` when given. */
  webhook?: string;
  webhookSecret?: string;
  /** Grouping window of the `webhook` receiver (default 30s). */
  webhookGroupWait?: string;
  /** The hub's URL as users reach it; alert notifications link to chips under it (default: the hub's own URL). */
  externalUrl?: string;
  /** Notifier tuning (tests): delivery timeout, retry policy, how often it looks for re-sends. */
  notify?: Pick<NotifierOptions, 'delivery' | 'tickMs'>;
  /** Where the OTEL_* variables are read (default process.env): OTLP export of metrics and traces. */
  otelEnv?: Record<string, string | undefined>;
  /** `--bus`: share live data with other hubs through NATS (docs/scale-out.md); none by default. */
  bus?: HubBusOptions;
}

export interface HubHandle {
  port: number;
  url: string;
  store: Store;
  fleet: FleetState;
  ingest: Ingest;
  /** The hub's tokens (`fleetscope token`, /api/v1/tokens). */
  tokens: TokenStore;
  /** The alert engine: rules, alert states and their history (/api/v1/alerts). */
  alerts: AlertEngine;
  /** Read the rules file again (SIGHUP): a bad one is logged and changes nothing. */
  reloadRules(): RulesFileChange;
  /** The alert notifier (an AlertSink: the alert engine publishes transitions to it). */
  notifier: Notifier;
  /** Auth off? */
  open: boolean;
  /** The live bus and this hub's use of it, with `bus`; else null. */
  bus: StartedBus | null;
  close(): Promise<void>;
}

export async function startHub(opts: HubOptions): Promise<HubHandle> {
  const log = opts.log ?? silentLogger;
  const bounds = resolveBounds(opts);
  const rulesFile = opts.rulesFile === undefined ? null : loadRulesFileAtStart(opts.rulesFile);
  const hubDb = await openHubDatabase(parseDbTarget(opts.db, opts.dbSchema), { log, retention: opts.retention, reloadMs: opts.dbReloadMs });
  const store = hubDb.store;
  const agentBounds = agentSocketBounds(bounds, store.retention.rawMs);
  /** Agent frames of every connection take turns of the event loop while agents connect (event-loop-turns.ts). */
  const frameTurns = new EventLoopTurns(FRAME_TURNS);
  const fleet = new FleetState();
  fleet.load(await store.listChips(), await store.latestSamples());
  const fanout = new LiveFanout(() => fleet.list());
  const tokens = hubDb.tokens;
  const quota = new AgentQuota(bounds.maxAgentsPerToken);
  quota.seed(await store.agentTokenIds());
  const alertStore = await hubDb.alertStore((states, events, now) => store.writeAlerts(states, events, now));
  const alerts = new AlertEngine({ store: alertStore, fleet, log, file: rulesFile?.rules ?? null, historyMs: opts.alertHistoryMs, sinks: [{ publish: (events) => fanout.publishAlerts(events) }] });
  // The live summary's figures: the fleet state (other hubs' chips too with a live bus) and the alert engine.
  fanout.setSummarySource({ chips: () => fleet.views(), alerts: () => alerts.activeAlerts() });
  const ingest = new Ingest(store, fleet, fanout, (id) => tokens.isRevoked(id), quota, alerts);
  const work = await WorkRecorder.start({ store, fleet, publish: (views) => fanout.publishInventory(views), log, maxFutureMs: bounds.maxFutureMs });
  ingest.work = work;
  ingest.commitTurns = new EventLoopTurns(COMMIT_TURNS);
  const agentEvents = new AgentEventRecorder({ store, log });
  ingest.agentEvents = agentEvents;
  const secure = opts.tls !== undefined;
  const policy: AuthPolicy = { open: opts.auth?.open ?? false, tokens, allowedOrigins: opts.auth?.allowedOrigins ?? [] };
  let hubUrl = '';
  const notifier = new Notifier({ ...(hubDb.notifierBackend ? { backend: hubDb.notifierBackend } : { db: opts.db }), log, externalUrl: () => opts.externalUrl ?? hubUrl, ...opts.notify });
  notifier.setFlagReceiver(opts.webhook ? { url: opts.webhook, secret: opts.webhookSecret, groupWait: opts.webhookGroupWait } : null);
  const telemetry = await startHubTelemetry({ store, fanout, notifier, alerts, ingest, log }, opts.otelEnv ?? process.env);
  const bus = opts.bus ? startLiveBus(opts.bus, { fleet, fanout, log }) : null;
  if (bus) alerts.addSink(bus.bridge.alertSink);
  const readiness = [hubDb.readiness, writerCheck(() => store.writeBacklog(), WRITER_HIGH_WATER_ROWS), ...(bus ? [busCheck(bus.bus)] : [])];
  const app = createApp({ store, fleet, ingest, log, startedAt: Date.now(), clientDir: opts.clientDir ?? DEFAULT_CLIENT_DIR, prices: opts.prices, policy, secure, sampleWindow: agentBounds.window, maxSeriesCells: bounds.maxSeriesCells, notifier, alerts, readiness, telemetry });
  alerts.addSink(notifier);
  try {
    // The file is the one source of file receivers: without one, those of an earlier run go.
    notifier.setFileReceivers((rulesFile?.receivers ?? []) as Parameters<Notifier['setFileReceivers']>[0]);
    alerts.start();
  } catch (err) {
    await bus?.close();
    await telemetry.close();
    alerts.close();
    await notifier.close();
    await alertStore.close();
    await store.close();
    await tokens.close();
    await hubDb.close();
    throw err;
  }
  notifier.resume(alerts.firingEvents());
  const reloadRules = (): RulesFileChange => {
    if (opts.rulesFile === undefined) return { ok: false, errors: ['no rules file: start the hub with --rules FILE'] };
    const read = readRulesFile(opts.rulesFile);
    const res = read.ok ? applyRulesFile(opts.rulesFile, read.value, alerts, notifier) : { ok: false as const, errors: read.errors };
    if (res.ok) log.info('alert rules reloaded', { file: opts.rulesFile, rules: res.rules });
    else log.error('alert rules file refused; the rules in force are kept', { file: opts.rulesFile, errors: res.errors });
    return res;
  };

  const server = await new Promise<Server>((resolve, reject) => {
    const s = (
      opts.tls
        ? createAdaptorServer({ fetch: app.fetch, createServer: createHttpsServer, serverOptions: { cert: opts.tls.cert, key: opts.tls.key } })
        : createAdaptorServer({ fetch: app.fetch })
    ) as Server;
    applyHttpTimeouts(s, bounds); // before 'listening' (see http-timeouts.ts)
    s.once('error', reject);
    // A longer accept queue than Node's 511: thousands of agents reconnect at once after a restart.
    s.listen({ port: opts.port, host: opts.host ?? '0.0.0.0', backlog: LISTEN_BACKLOG }, () => resolve(s));
  }).catch(async (err: unknown) => {
    await bus?.close();
    throw err;
  });
  const sockets = attachWebSockets(
    server,
    {
      agent: (ws, _req, principal) => {
        // Node accepts one connection a turn: while agents arrive (a restart's reconnections), agent frames keep the turns short.
        frameTurns.arrived();
        handleAgentSocket(ws, ingest, log, principal, agentBounds, frameTurns);
      },
      live: (ws) => handleLiveSocket(ws, { fanout, fleet, store, log, alerts }),
    },
    { policy, secure, maxConnections: opts.maxConnections, maxConnectionsPerIp: opts.maxConnectionsPerIp, revocationCheckMs: opts.revocationCheckMs },
  );
  let lastStatusTick = Date.now();
  const statusTimer = setInterval(() => {
    const now = Date.now();
    // How late this tick runs: a hub that far behind may have samples waiting unread.
    const lagMs = now - lastStatusTick - STATUS_TICK_MS;
    lastStatusTick = now;
    fanout.publishStatus(fleet.refreshStatuses(now, lagMs));
  }, STATUS_TICK_MS);
  statusTimer.unref();

  const port = (server.address() as AddressInfo).port;
  hubUrl = `${secure ? 'https' : 'http'}://localhost:${port}`;
  agentEvents.hub = `${hostname()}:${port}`;
  notifier.start();
  return {
    port,
    url: hubUrl,
    store,
    fleet,
    ingest,
    tokens,
    notifier,
    alerts,
    reloadRules,
    open: policy.open,
    bus,
    async close() {
      clearInterval(statusTimer);
      fanout.close();
      await bus?.close();
      // First: the agents' sockets closing now is the hub stopping, not agents going offline.
      alerts.close();
      work.close();
      // Agents still connected: disconnected, `hub-stopped` (their sockets closing next is not recorded).
      const agentEventsWritten = agentEvents.close();
      sockets.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await notifier.close();
      await alertStore.close();
      await agentEventsWritten;
      await store.close();
      await tokens.close();
      await hubDb.close();
      await telemetry.close();
    },
  };
}
