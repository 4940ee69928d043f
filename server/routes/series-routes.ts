/** GET /api/v1/series: history of chips or groups of chips as columns (JSON for uPlot) or CSV. */
import { Hono } from 'hono';
import type { Store } from '../store/store.ts';
import { querySeries } from '../history/history-queries.ts';
import { parseQuery, seriesQuerySchema } from '../history/query-schemas.ts';
import { seriesCsv } from '../history/series-csv.ts';

/** Whether an Accept header asks for CSV. */
export function acceptsCsv(accept: string | undefined): boolean {
  return accept !== undefined && /(^|,)\s*text\/csv\s*(;|,|$)/i.test(accept);
}

export function seriesRoutes(store: Store) {
  return new Hono().get('/', async (c) => {
    const q = parseQuery(seriesQuerySchema, c.req.queries());
    const csv = q.format === 'csv' || (q.format === undefined && acceptsCsv(c.req.header('accept')));
    const answer = await querySeries(store, q, Date.now());
    if (csv) return c.body(seriesCsv(answer), 200, { 'content-type': 'text/csv; charset=utf-8' });
    return c.json(answer);
  });
}
