/** GET /api/v1/efficiency: work done, energy and cost per unit of work, by job, model, vendor, host or chip. */
import { Hono } from 'hono';
import { noteTier } from '../telemetry/history-timing.ts';
import type { Store } from '../store/store.ts';
import type { Prices } from '../history/prices.ts';
import { efficiencyQuerySchema, parseQuery } from '../history/query-schemas.ts';
import { queryEfficiency } from '../work/efficiency-query.ts';

export function efficiencyRoutes(store: Store, prices: Prices) {
  return new Hono().get('/', async (c) => {
    const q = parseQuery(efficiencyQuerySchema, c.req.queries());
    const answer = await queryEfficiency(store, q, Date.now(), prices);
    noteTier(c, answer.tier);
    return c.json(answer);
  });
}
