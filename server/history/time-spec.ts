/**
 * Times and durations in history query parameters. Pure: no I/O, no clock (callers pass `now`).
 *
 * Times: ISO-8601 (`2025-01-31T12:00:00Z`), epoch milliseconds (`1738324800000`), or relative to
 * now (`now`, `now-6h`, `now-30m`, `now+5m`). Durations (steps, offsets): as schema/duration.ts
 * reads them (`10s`, `5m`, `1h`; a bare number means seconds), positive and at most ~10 years.
 */
import { durationMs, UNIT_MS } from '../../schema/duration.ts';

/** A time as given: absolute, or an offset from the time the request is served. */
export type TimeSpec = { kind: 'abs'; ms: number } | { kind: 'rel'; offsetMs: number };

/** Units from coarsest to finest, to print durations. */
const PRINT_UNITS: [string, number][] = [['w', UNIT_MS.w], ['d', UNIT_MS.d], ['h', UNIT_MS.h], ['m', UNIT_MS.m], ['s', UNIT_MS.s]];
/** Longest duration accepted (about 10 years): keeps arithmetic far from overflow. */
export const MAX_DURATION_MS = 3660 * 86_400_000;

export const TIME_FORMS = 'an ISO-8601 time (2025-01-31T12:00:00Z), epoch milliseconds, or relative to now (now, now-6h, now-30m)';
export const DURATION_FORMS = 'a positive whole number with a unit s, m, h, d or w (10s, 1m, 5m, 1h, 1d)';

/** A duration in ms, or null when `text` is not one (zero and negative durations are not). */
export function parseDurationParam(text: string): number | null {
  const ms = durationMs(text);
  return ms !== null && ms > 0 && ms <= MAX_DURATION_MS ? ms : null;
}

/** An absolute time parameter: epoch ms or an ISO-8601 date; null when it is neither. */
export function parseTimeParam(value: string): number | null {
  if (/^\d{1,16}$/.test(value)) return Number(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value)) return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}

/** A time parameter, or null when `text` is none of the accepted forms. */
export function parseTimeSpec(text: string): TimeSpec | null {
  const t = text.trim();
  if (t === 'now') return { kind: 'rel', offsetMs: 0 };
  const rel = /^now\s*([+-])\s*(.+)$/.exec(t);
  if (rel) {
    const d = parseDurationParam(rel[2]);
    return d === null ? null : { kind: 'rel', offsetMs: rel[1] === '-' ? -d : d };
  }
  const ms = parseTimeParam(t);
  return ms === null ? null : { kind: 'abs', ms };
}

export function resolveTime(spec: TimeSpec, now: number): number {
  return spec.kind === 'abs' ? spec.ms : now + spec.offsetMs;
}

/** A retention-like span: whole hours up to 72h (`48h`), else as formatDuration (`30d`). */
export function formatSpan(ms: number): string {
  return ms % UNIT_MS.h === 0 && ms <= 72 * UNIT_MS.h ? `${ms / UNIT_MS.h}h` : formatDuration(ms);
}

/** `90000` -> `90s`, `3600000` -> `1h`, `172800000` -> `2d`: the largest unit that divides exactly. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of PRINT_UNITS) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}
