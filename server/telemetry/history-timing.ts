/**
 * Hono middleware timing the history endpoints: a span per query and the latency histogram by
 * endpoint, tier and status. Routes say which storage tier answered with `noteTier(c, tier)`;
 * a streamed answer (/series) is timed until its first piece, not to its last byte.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { SpanStatusCode } from '@opentelemetry/api';
import type { HubInstruments } from './hub-instruments.ts';

const TIER_KEY = 'fleetscope.historyTier';

/** Record which tier answered a history request (raw, 1m, 1h). */
export function noteTier(c: Context, tier: string): void {
  c.set(TIER_KEY as never, tier as never);
}

export function historyTiming(instruments: HubInstruments | null, endpoint: string): MiddlewareHandler {
  return async (c, next) => {
    if (instruments === null || c.req.method !== 'GET') return next();
    const span = instruments.startHistorySpan(endpoint);
    const t0 = performance.now();
    let status = 500;
    try {
      await next();
      status = c.res.status;
    } finally {
      const tier = (c.get(TIER_KEY as never) as string | undefined) ?? 'none';
      instruments.historyQuery(endpoint, tier, status, (performance.now() - t0) / 1000);
      span.setAttribute('fleetscope.history.tier', tier);
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
  };
}
