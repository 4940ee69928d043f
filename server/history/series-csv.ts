/**
 * A /series answer as CSV (RFC 4180): header `ts,<label>/<field>,…`, one row per step bucket, the
 * time column ISO-8601 UTC with milliseconds (the bucket start), empty cells for nulls, CRLF line
 * ends. Pure: no I/O.
 */
import { lazyOf, type LazyColumns, type SeriesColumns } from './series-assembly.ts';

/** Quote a cell when it holds a comma, a quote, CR or LF (quotes doubled). */
export function csvCell(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function columnHeader(c: { label: string; field: string }): string {
  return `${c.label}/${c.field}`;
}

export function seriesCsv(columns: SeriesColumns): string {
  return [...seriesCsvPieces(lazyOf(columns))].join('');
}

/** The same CSV a line at a time, each ending in CRLF, read from columns on demand (for a paced response body). */
export function* seriesCsvPieces({ series, xs, cell }: LazyColumns): Generator<string> {
  yield `${['ts', ...series.map(columnHeader)].map(csvCell).join(',')}\r\n`;
  const cols = series.length;
  for (let i = 0; i < xs.length; i++) {
    let line = new Date(xs[i]).toISOString();
    for (let c = 0; c < cols; c++) {
      const v = cell(c, i);
      line += v === null ? ',' : `,${v}`;
    }
    yield `${line}\r\n`;
  }
}
