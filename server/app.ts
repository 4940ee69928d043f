/** createApp(deps): the hub's HTTP surface as a Hono app (no listening here). */
import { existsSync } from 'node:fs';
import { Hono } from 'hono';
import { requestId } from 'hono/request-id';
import { serveStatic } from '@hono/node-server/serve-static';
import type { FleetState } from './fleet-state.ts';
import type { Ingest } from './ingest.ts';
import type { Store } from './store/store.ts';
import type { Logger } from '../common/logger.ts';
import { errorHandler, notFound } from './http-errors.ts';
import { agentsRoutes } from './routes/agents-routes.ts';
import { chipsRoutes } from './routes/chips-routes.ts';
import { healthRoutes } from './routes/health-routes.ts';
import { writeRoutes } from './routes/write-routes.ts';
import { seriesRoutes } from './routes/series-routes.ts';
import { energyRoutes } from './routes/energy-routes.ts';
import { efficiencyRoutes } from './routes/efficiency-routes.ts';
import { topRoutes } from './routes/top-routes.ts';
import { openApiRoutes } from './routes/openapi-routes.ts';
import { NO_PRICES, type Prices } from './history/prices.ts';
import { OPEN_POLICY, type AuthPolicy } from './auth/auth-policy.ts';
import { apiAuth } from './auth/http-auth.ts';
import { sessionRoutes, tokenRoutes } from './routes/auth-routes.ts';
import { chipOwnerRoutes } from './routes/chip-owner-routes.ts';
import type { TimeWindow } from '../schema/time-window.ts';
import type { Notifier } from './alerts/notifier.ts';
import { alertNotifyRoutes } from './routes/alert-notify-routes.ts';
import type { AlertEngine } from './alerts/alert-engine.ts';
import { alertRoutes } from './routes/alert-routes.ts';
import { metricsRoutes } from './routes/metrics-routes.ts';
import type { ReadinessCheck } from './readiness.ts';
import type { HubInstruments } from './telemetry/hub-instruments.ts';
import { historyTiming } from './telemetry/history-timing.ts';

export interface AppDeps {
  store: Store;
  fleet: FleetState;
  ingest: Ingest;
  log: Logger;
  startedAt: number;
  /** Directory of the built client; served at `/` when it exists. */
  clientDir: string;
  /** Prices for /api/v1/energy and /api/v1/efficiency costs (default: none). */
  prices?: Prices;
  /** Who may do what (default: auth off). */
  policy?: AuthPolicy;
  /** Served over https (session cookies are then Secure). */
  secure?: boolean;
  /** Accepted sample timestamps of POST /api/v1/write (default: at most 5 s ahead, any age). */
  sampleWindow?: TimeWindow;
  /** Most values in one /series answer (default DEFAULT_MAX_SERIES_CELLS). */
  maxSeriesCells?: number;
  /** The alert notifier: receivers, silences and dead letters under /api/v1/alerts. */
  notifier?: Notifier;
  /** The alert engine: alerts, their history and rules under /api/v1/alerts. */
  alerts?: AlertEngine;
  /** What GET /readyz checks (default: nothing, always ready). */
  readiness?: readonly ReadinessCheck[];
  /** Self-observability: the instruments history queries report to, the text of GET /metrics. */
  telemetry?: { instruments: HubInstruments; prometheusText(): Promise<string> };
}

export function createApp(deps: AppDeps) {
  const policy = deps.policy ?? OPEN_POLICY;
  const auth = apiAuth(policy, deps.secure ?? false);
  const timing = (endpoint: string) => historyTiming(deps.telemetry?.instruments ?? null, endpoint);
  const app = new Hono()
    .use(requestId())
    .use('/api/v1/*', auth)
    .use('/metrics', auth)
    .use('/metrics/*', auth)
    .use('/api/v1/series', timing('series'))
    .use('/api/v1/energy', timing('energy'))
    .use('/api/v1/top', timing('top'))
    .use('/api/v1/efficiency', timing('efficiency'))
    .use('/api/v1/chips/:chipId/samples', timing('samples'))
    .route('/', healthRoutes(deps.startedAt, deps.ingest.metrics, deps.readiness))
    .route('/', metricsRoutes(deps.fleet, deps.telemetry?.prometheusText ?? null))
    .route('/api/v1/chips', chipsRoutes(deps.fleet, deps.store))
    .route('/api/v1/chips', chipOwnerRoutes(deps.ingest, deps.log))
    .route('/api/v1/agents', agentsRoutes(deps.fleet))
    .route('/api/v1/write', writeRoutes({ fleet: deps.fleet, ingest: deps.ingest, log: deps.log, window: deps.sampleWindow }))
    .route('/api/v1/series', seriesRoutes(deps.store, { maxCells: deps.maxSeriesCells }))
    .route('/api/v1/energy', energyRoutes(deps.store, deps.prices ?? NO_PRICES))
    .route('/api/v1/top', topRoutes(deps.store))
    .route('/api/v1/efficiency', efficiencyRoutes(deps.store, deps.prices ?? NO_PRICES))
    .route('/api/v1/openapi.json', openApiRoutes())
    .route('/api/v1/session', sessionRoutes(policy, deps.secure ?? false));
  if (policy.tokens) app.route('/api/v1/tokens', tokenRoutes(policy.tokens));
  if (deps.notifier) app.route('/api/v1/alerts', alertNotifyRoutes(deps.notifier));
  if (deps.alerts) app.route('/api/v1/alerts', alertRoutes(deps.alerts, deps.log));
  app.onError(errorHandler(deps.log));
  if (existsSync(deps.clientDir)) {
    app.use('/*', serveStatic({ root: deps.clientDir }));
  } else {
    app.get('/', (c) => c.text('fleetscope hub: the dashboard is not built. Run `npm run build` (or `fleetscope demo`, which builds it).', 503));
  }
  app.notFound(notFound);
  return app;
}
