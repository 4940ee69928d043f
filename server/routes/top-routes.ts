/** GET /api/v1/top: the k chips highest (or lowest) on a field over a range. */
import { Hono } from 'hono';
import { noteTier } from '../telemetry/history-timing.ts';
import type { Store } from '../store/store.ts';
import { queryTop } from '../history/history-queries.ts';
import { parseQuery, topQuerySchema } from '../history/query-schemas.ts';

export function topRoutes(store: Store) {
  return new Hono().get('/', async (c) => {
    const q = parseQuery(topQuerySchema, c.req.queries());
    const answer = await queryTop(store, q, Date.now());
    noteTier(c, answer.tier);
    return c.json(answer);
  });
}
