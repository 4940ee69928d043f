/** Assembles and starts a hub: store, fleet state, ingest, HTTP app and WebSockets on one port. */
import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { createApp } from './app.ts';
import { FleetState } from './fleet-state.ts';
import { Ingest } from './ingest.ts';
import { LiveFanout } from './live/live-fanout.ts';
import { openSqliteStore } from './store/sqlite-store.ts';
import type { Retention, Store } from './store/store.ts';
import type { Prices } from './history/prices.ts';
import { handleAgentSocket } from './ws/agent-endpoint.ts';
import { handleLiveSocket } from './ws/live-endpoint.ts';
import { attachWebSockets } from './ws/upgrade-router.ts';
import { silentLogger, type Logger } from '../common/logger.ts';
import type { AuthPolicy } from './auth/auth-policy.ts';
import { openTokenStore, type TokenStore } from './auth/token-store.ts';
import { agentSocketBounds, resolveBounds, type HubBounds } from './hub-bounds.ts';
import { applyHttpTimeouts } from './http-timeouts.ts';
import { AgentQuota } from './ws/agent-limits.ts';

export const DEFAULT_CLIENT_DIR = fileURLToPath(new URL('../dist/client', import.meta.url));
/** How often chip statuses (live/stale/offline) are re-derived. */
const STATUS_TICK_MS = 500;

/** Besides these: the bounds of server/hub-bounds.ts (maxFutureMs, helloTimeoutMs, …), all optional. */
export interface HubOptions extends Partial<HubBounds> {
  /** 0 picks a free port. */
  port: number;
  host?: string;
  /** SQLite file path. */
  db: string;
  clientDir?: string;
  log?: Logger;
  /** Prices for /api/v1/energy costs (default: none). */
  prices?: Prices;
  /** How long each storage tier keeps data (defaults: raw 48 h, 1m 30 days, 1h 2 years). */
  retention?: Partial<Retention>;
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
}

export interface HubHandle {
  port: number;
  url: string;
  store: Store;
  fleet: FleetState;
  ingest: Ingest;
  /** The hub's tokens (`fleetscope token`, /api/v1/tokens). */
  tokens: TokenStore;
  /** Auth off? */
  open: boolean;
  close(): Promise<void>;
}

export async function startHub(opts: HubOptions): Promise<HubHandle> {
  const log = opts.log ?? silentLogger;
  const bounds = resolveBounds(opts);
  const store = await openSqliteStore(opts.db, { log, retention: opts.retention });
  const agentBounds = agentSocketBounds(bounds, store.retention.rawMs);
  const fleet = new FleetState();
  fleet.load(await store.listChips(), await store.latestSamples());
  const fanout = new LiveFanout(() => fleet.list());
  const tokens = openTokenStore(opts.db);
  const quota = new AgentQuota(bounds.maxAgentsPerToken);
  quota.seed(await store.agentTokenIds());
  const ingest = new Ingest(store, fleet, fanout, (id) => tokens.isRevoked(id), quota);
  const secure = opts.tls !== undefined;
  const policy: AuthPolicy = { open: opts.auth?.open ?? false, tokens, allowedOrigins: opts.auth?.allowedOrigins ?? [] };
  const app = createApp({ store, fleet, ingest, log, startedAt: Date.now(), clientDir: opts.clientDir ?? DEFAULT_CLIENT_DIR, prices: opts.prices, policy, secure, sampleWindow: agentBounds.window, maxSeriesCells: bounds.maxSeriesCells });

  const server = await new Promise<Server>((resolve, reject) => {
    const listening = () => resolve(s as Server);
    const s = opts.tls
      ? serve({ fetch: app.fetch, port: opts.port, hostname: opts.host ?? '0.0.0.0', createServer: createHttpsServer, serverOptions: { cert: opts.tls.cert, key: opts.tls.key } }, listening)
      : serve({ fetch: app.fetch, port: opts.port, hostname: opts.host ?? '0.0.0.0' }, listening);
    applyHttpTimeouts(s as Server, bounds); // before 'listening' (see http-timeouts.ts)
    (s as Server).once('error', reject);
  });
  const sockets = attachWebSockets(
    server,
    {
      agent: (ws, _req, principal) => handleAgentSocket(ws, ingest, log, principal, agentBounds),
      live: (ws) => handleLiveSocket(ws, { fanout, fleet, store, log }),
    },
    { policy, secure, maxConnections: opts.maxConnections, maxConnectionsPerIp: opts.maxConnectionsPerIp, revocationCheckMs: opts.revocationCheckMs },
  );
  const statusTimer = setInterval(() => fanout.publishStatus(fleet.refreshStatuses(Date.now())), STATUS_TICK_MS);
  statusTimer.unref();

  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `${secure ? 'https' : 'http'}://localhost:${port}`,
    store,
    fleet,
    ingest,
    tokens,
    open: policy.open,
    async close() {
      clearInterval(statusTimer);
      sockets.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await store.close();
      tokens.close();
    },
  };
}
