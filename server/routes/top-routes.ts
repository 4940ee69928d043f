/** GET /api/v1/top: the k chips highest (or lowest) on a field over a range. */
import { Hono } from 'hono';
import type { Store } from '../store/store.ts';
import { queryTop } from '../history/history-queries.ts';
import { parseQuery, topQuerySchema } from '../history/query-schemas.ts';

export function topRoutes(store: Store) {
  return new Hono().get('/', async (c) => {
    const q = parseQuery(topQuerySchema, c.req.queries());
    return c.json(await queryTop(store, q, Date.now()));
  });
}
