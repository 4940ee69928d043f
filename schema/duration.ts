/** Parse a duration such as `250ms`, `1s`, `1.5s`, `2m`, `1h`; a bare number means seconds. */
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) throw new Error(`invalid duration ${JSON.stringify(text)}: use e.g. 250ms, 1s, 2m, 48h, 30d`);
  return Math.round(Number(m[1]) * UNITS[m[2] ?? 's']);
}
