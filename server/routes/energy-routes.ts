/** GET /api/v1/energy: energy, average power and utilization, chip-hours and costs over a range. */
import { Hono } from 'hono';
import { noteTier } from '../telemetry/history-timing.ts';
import type { Store } from '../store/store.ts';
import { queryEnergy } from '../history/history-queries.ts';
import type { Prices } from '../history/prices.ts';
import { energyQuerySchema, parseQuery } from '../history/query-schemas.ts';

export function energyRoutes(store: Store, prices: Prices) {
  return new Hono().get('/', async (c) => {
    const q = parseQuery(energyQuerySchema, c.req.queries());
    const answer = await queryEnergy(store, q, Date.now(), prices);
    noteTier(c, answer.tier);
    return c.json(answer);
  });
}
