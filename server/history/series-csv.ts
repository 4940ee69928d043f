/**
 * A /series answer as CSV (RFC 4180): header `ts,<label>/<field>,…`, one row per step bucket, the
 * time column ISO-8601 UTC with milliseconds (the bucket start), empty cells for nulls, CRLF line
 * ends. Pure: no I/O.
 */
import type { SeriesColumns } from './series-assembly.ts';

/** Quote a cell when it holds a comma, a quote, CR or LF (quotes doubled). */
export function csvCell(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function columnHeader(c: { label: string; field: string }): string {
  return `${c.label}/${c.field}`;
}

export function seriesCsv({ series, data }: SeriesColumns): string {
  const lines = [['ts', ...series.map(columnHeader)].map(csvCell).join(',')];
  const xs = data[0] ?? [];
  for (let i = 0; i < xs.length; i++) {
    const row = [new Date(xs[i] as number).toISOString()];
    for (let c = 1; c < data.length; c++) {
      const v = data[c][i];
      row.push(v === null ? '' : String(v));
    }
    lines.push(row.join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}
