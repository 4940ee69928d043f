/**
 * When to try a failed webhook delivery again: fleetscope's one capped exponential backoff
 * (schema/backoff.ts) from 1 s to 5 min with equal jitter, never sooner than the receiver's
 * `Retry-After` (delta-seconds or an HTTP-date), and a dead letter after `maxAttempts` attempts or
 * at once for an answer that retrying cannot change (a 4xx other than 408, 425, 429). Pure.
 */
import { backoffDelay, type BackoffPolicy } from '../../schema/backoff.ts';

/** Delivery backoff: 1 s doubling to 5 min, each delay uniform in [ceiling/2, ceiling]. */
export const WEBHOOK_BACKOFF: BackoffPolicy = { initialMs: 1_000, maxMs: 300_000, factor: 2, jitter: 'equal' };

export interface RetryOptions {
  policy: BackoffPolicy;
  /** Attempts in all, the first included (12: about 10 to 20 minutes of retries). */
  maxAttempts: number;
  /** The longest Retry-After honoured, ms; a longer one is cut to it. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { policy: WEBHOOK_BACKOFF, maxAttempts: 12, maxRetryAfterMs: 3_600_000 };

/** How an attempt ended: the HTTP status, or null when no answer came (network error, timeout). */
export interface AttemptResult {
  status: number | null;
  /** The answer's Retry-After header, if any. */
  retryAfter?: string | null;
}

export type NextStep = { action: 'done' } | { action: 'retry'; at: number } | { action: 'dead'; reason: string };

/**
 * A Retry-After header as a delay from `now`, ms: delta-seconds (`120`) or an HTTP-date (a date
 * already past is 0). Null when the header is absent or neither.
 */
export function parseRetryAfter(header: string | null | undefined, now: number): number | null {
  const text = header?.trim();
  if (!text) return null;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP-date starts with the day's name (IMF-fixdate, RFC 850 and asctime forms alike).
  if (!/^[A-Za-z]{3}/.test(text)) return null;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** Whether a status (null: no answer) may succeed if tried again. */
export function isRetryable(status: number | null): boolean {
  return status === null || status === 408 || status === 425 || status === 429 || status >= 500;
}

/**
 * What to do after attempt number `attempt` (1 for the first) ended with `result` at `now`.
 * `random` is the jitter source (tests pass a constant).
 */
export function nextStep(attempt: number, result: AttemptResult, now: number, opts: RetryOptions = DEFAULT_RETRY, random: () => number = Math.random): NextStep {
  const { status } = result;
  if (status !== null && status >= 200 && status < 300) return { action: 'done' };
  if (!isRetryable(status)) return { action: 'dead', reason: `status ${status} is not retried` };
  if (attempt >= opts.maxAttempts) return { action: 'dead', reason: `no success after ${attempt} attempts (last: ${status ?? 'no answer'})` };
  const backoff = backoffDelay(attempt - 1, opts.policy, random);
  const asked = parseRetryAfter(result.retryAfter, now);
  const delay = asked === null ? backoff : Math.max(backoff, Math.min(asked, opts.maxRetryAfterMs));
  return { action: 'retry', at: now + delay };
}
