/** The time range of a history query: parameters resolved against now, checked. Pure. */
import { InvalidQueryError } from './invalid-query.ts';
import { formatDuration, resolveTime, type TimeSpec } from './time-spec.ts';

export interface TimeRange {
  from: number;
  to: number;
}

const iso = (ms: number) => (Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(ms));

/**
 * from/to as given, or to = now and from = to - defaultMs. `exclusiveTo`: the range is [from, to)
 * and must not be empty; else [from, to] with from <= to.
 */
export function resolveRange(from: TimeSpec | undefined, to: TimeSpec | undefined, now: number, defaultMs: number, exclusiveTo: boolean): TimeRange {
  const end = to ? resolveTime(to, now) : now;
  const start = from ? resolveTime(from, now) : end - defaultMs;
  if (start > end || (exclusiveTo && start === end)) {
    const rel = exclusiveTo ? 'is not before' : 'is after';
    const hint = from ? '' : ` (from defaults to to - ${formatDuration(defaultMs)})`;
    throw new InvalidQueryError(`from: ${iso(start)} ${rel} to (${iso(end)})${hint}; give from earlier than to`);
  }
  return { from: start, to: end };
}
