/**
 * A /series answer as JSON text pieces, a column at a time, each column built only when its turn
 * comes (LazyColumns), for a paced response body (server/paced-stream.ts): neither the text nor
 * the columns of a large answer are ever held whole. Joined, the pieces are exactly
 * `JSON.stringify({ ...head, series, data })` (querySeries' answer). (CSV: `seriesCsvPieces` of
 * series-csv.ts.) Pure.
 */
import type { LazySeriesAnswer } from './history-queries.ts';

export function* seriesJsonPieces({ head, columns }: LazySeriesAnswer): Generator<string> {
  const h = JSON.stringify({ ...head, series: columns.series });
  yield `${h.slice(0, -1)},"data":[${JSON.stringify(columns.xs)}`;
  for (let c = 0; c < columns.series.length; c++) yield `,${JSON.stringify(columns.column(c))}`;
  yield ']}';
}
