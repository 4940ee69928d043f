/**
 * GET /api/v1/series: history of chips or groups of chips as columns (JSON for uPlot) or CSV.
 * An answer is at most `maxCells` values (points × series × fields, else a 400 saying how to
 * narrow the request) and its text is streamed a column (row) at a time, paced.
 */
import { Hono } from 'hono';
import { noteTier } from '../telemetry/history-timing.ts';
import type { Store } from '../store/store.ts';
import { querySeriesLazy } from '../history/history-queries.ts';
import { parseQuery, seriesQuerySchema } from '../history/query-schemas.ts';
import { seriesCsvPieces } from '../history/series-csv.ts';
import { seriesJsonPieces } from '../history/series-stream.ts';
import { DEFAULT_MAX_SERIES_CELLS } from '../history/tier-choice.ts';
import { pacedBody } from '../paced-stream.ts';

/** Whether an Accept header asks for CSV. */
export function acceptsCsv(accept: string | undefined): boolean {
  return accept !== undefined && /(^|,)\s*text\/csv\s*(;|,|$)/i.test(accept);
}

export function seriesRoutes(store: Store, opts: { maxCells?: number } = {}) {
  const maxCells = opts.maxCells ?? DEFAULT_MAX_SERIES_CELLS;
  return new Hono().get('/', async (c) => {
    const q = parseQuery(seriesQuerySchema, c.req.queries());
    const csv = q.format === 'csv' || (q.format === undefined && acceptsCsv(c.req.header('accept')));
    const answer = await querySeriesLazy(store, q, Date.now(), maxCells);
    noteTier(c, answer.head.tier);
    if (csv) return c.body(pacedBody(seriesCsvPieces(answer.columns)), 200, { 'content-type': 'text/csv; charset=utf-8' });
    return c.body(pacedBody(seriesJsonPieces(answer)), 200, { 'content-type': 'application/json' });
  });
}
