/**
 * Times and durations in history query parameters. Pure: no I/O, no clock (callers pass `now`).
 *
 * Times: ISO-8601 (`2025-01-31T12:00:00Z`), epoch milliseconds (`1738324800000`), or relative to
 * now (`now`, `now-6h`, `now-30m`, `now+5m`). Durations (steps, offsets): a whole number with a
 * unit `s`, `m`, `h`, `d` or `w` (`10s`, `5m`, `1h`); a bare whole number means seconds.
 */
import { parseTimeParam } from '../routes/time-param.ts';

/** A time as given: absolute, or an offset from the time the request is served. */
export type TimeSpec = { kind: 'abs'; ms: number } | { kind: 'rel'; offsetMs: number };

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };
/** Units from coarsest to finest, to print durations. */
const PRINT_UNITS: [string, number][] = [['w', UNIT_MS.w], ['d', UNIT_MS.d], ['h', UNIT_MS.h], ['m', UNIT_MS.m], ['s', UNIT_MS.s]];
/** Longest duration accepted (about 10 years): keeps arithmetic far from overflow. */
export const MAX_DURATION_MS = 3660 * 86_400_000;

export const TIME_FORMS = 'an ISO-8601 time (2025-01-31T12:00:00Z), epoch milliseconds, or relative to now (now, now-6h, now-30m)';
export const DURATION_FORMS = 'a positive whole number with a unit s, m, h, d or w (10s, 1m, 5m, 1h, 1d)';

/** A duration in ms, or null when `text` is not one (zero and negative durations are not). */
export function parseDurationParam(text: string): number | null {
  const m = /^(\d{1,12})(s|m|h|d|w)?$/.exec(text.trim());
  if (!m) return null;
  const ms = Number(m[1]) * UNIT_MS[m[2] ?? 's'];
  return ms > 0 && ms <= MAX_DURATION_MS ? ms : null;
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
