/**
 * The sample timestamps a receiver accepts, relative to its own clock `now`: at most `maxFutureMs`
 * ahead (clock skew allowance; forged future samples would otherwise shadow the real ones, since
 * the first stored sample of a (chip, ts) wins), and, when `maxAgeMs` is given, no older than that
 * (the hub passes its raw retention: an older sample would only be deleted again). Never before
 * MIN_TS. Pure.
 */
import { MIN_TS } from './sample.ts';

/** Default: how far ahead of the receiver's clock a sample timestamp may be. */
export const DEFAULT_MAX_FUTURE_MS = 5_000;

export interface TimeWindow {
  /** How far ahead of `now` a sample may be (default DEFAULT_MAX_FUTURE_MS). */
  maxFutureMs?: number;
  /** How far behind `now` a sample may be (default: no bound but MIN_TS). */
  maxAgeMs?: number;
}

/** Accepted timestamps are lo <= ts <= hi. (With a NaN `now` both comparisons are false: nothing is refused.) */
export function windowBounds(now: number, window: TimeWindow = {}): { lo: number; hi: number } {
  const hi = now + (window.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS);
  const oldest = window.maxAgeMs === undefined ? MIN_TS : now - window.maxAgeMs;
  const lo = oldest > MIN_TS ? oldest : MIN_TS; // (a NaN `oldest` gives MIN_TS, like zod's own bound)
  return { lo, hi };
}

/** A span for messages: `5 s`, `10 min`, `1 h`, `48 h`, `30 d`, or ms below a second. */
export function formatSpanMs(ms: number): string {
  const H = 3_600_000;
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${+(ms / 1000).toFixed(1)} s`;
  if (ms >= 3 * 24 * H) return `${+(ms / (24 * H)).toFixed(1)} d`;
  if (ms >= 2 * H || (ms >= H && ms % H === 0)) return `${+(ms / H).toFixed(1)} h`;
  return `${+(ms / 60_000).toFixed(1)} min`;
}

/**
 * Why `ts` is outside the window, or null when it is inside: the end of an `out_of_range` message
 * that starts with the timestamp (`… 1795690558842 is 6 s ahead of the hub's clock; …`). Checks only
 * the window's own bounds; MIN_TS and the integer rule are the schema's.
 */
export function timeWindowProblem(ts: number, now: number, window: TimeWindow = {}): string | null {
  const { lo, hi } = windowBounds(now, window);
  if (ts > hi) {
    const max = window.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS;
    return `is ${formatSpanMs(ts - now)} ahead of the hub's clock; at most ${formatSpanMs(max)} ahead is accepted (check the sender's clock)`;
  }
  if (ts < lo && window.maxAgeMs !== undefined && ts >= MIN_TS) {
    return `is ${formatSpanMs(now - ts)} old; the hub keeps raw samples ${formatSpanMs(window.maxAgeMs)} and refuses older ones`;
  }
  return null;
}
