/**
 * Durations as fleetscope reads them, on the command line and in query parameters: a number with
 * a unit `ms`, `s`, `m`, `h`, `d` or `w` (`250ms`, `1.5s`, `5m`, `48h`, `30d`, `1w`); a bare number
 * means seconds. Callers add their own bounds (a query step is whole seconds, say).
 */
/** Milliseconds of each unit. */
export const UNIT_MS: Readonly<Record<'ms' | 's' | 'm' | 'h' | 'd' | 'w', number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** The duration in ms (rounded to whole ms), or null when `text` is not a duration. */
export function durationMs(text: string): number | null {
  const m = /^\s*(\d{1,12}(?:\.\d{1,6})?)\s*(ms|s|m|h|d|w)?\s*$/.exec(text);
  return m ? Math.round(Number(m[1]) * UNIT_MS[(m[2] ?? 's') as keyof typeof UNIT_MS]) : null;
}

/** The duration in ms; throws an error fit to show when `text` is not a duration. */
export function parseDuration(text: string): number {
  const ms = durationMs(text);
  if (ms === null) throw new Error(`invalid duration ${JSON.stringify(text)}: use e.g. 250ms, 1s, 2m, 48h, 30d`);
  return ms;
}
