/** Parse a time query parameter: epoch ms or an ISO-8601 date. */
export function parseTimeParam(value: string): number | null {
  if (/^\d{1,16}$/.test(value)) return Number(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value)) return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}
