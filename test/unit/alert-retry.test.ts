/**
 * server/alerts/retry-policy.ts: Retry-After in seconds and as an HTTP-date; the next attempt of a
 * failed delivery (capped exponential backoff with equal jitter, never before Retry-After); dead
 * letters after the last attempt or for answers a retry cannot change.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY, isRetryable, nextStep, parseRetryAfter, WEBHOOK_BACKOFF, type AttemptResult, type NextStep } from '../../server/alerts/retry-policy.ts';

const NOW = Date.UTC(2025, 0, 2, 3, 4, 5);
const ALMOST_ONE = 1 - Number.EPSILON;

describe('parseRetryAfter', () => {
  const cases: [string | null | undefined, number | null][] = [
    ['120', 120_000],
    [' 0 ', 0],
    ['Thu, 02 Jan 2025 03:04:35 GMT', 30_000],
    ['Thursday, 02-Jan-25 03:05:05 GMT', 60_000],
    ['Thu Jan  2 03:04:15 2025', 10_000],
    ['Thu, 02 Jan 2025 03:00:00 GMT', 0],
    [null, null],
    [undefined, null],
    ['', null],
    ['-5', null],
    ['1.5', null],
    ['soon', null],
    ['2025-01-02T03:04:35Z', null],
  ];
  it.each(cases)('%j -> %s', (header, expected) => {
    expect(parseRetryAfter(header, NOW)).toBe(expected);
  });
});

describe('nextStep', () => {
  it('uses 1 s doubling to 5 min, equal jitter, 12 attempts', () => {
    expect(WEBHOOK_BACKOFF).toEqual({ initialMs: 1_000, maxMs: 300_000, factor: 2, jitter: 'equal' });
    expect(DEFAULT_RETRY.maxAttempts).toBe(12);
  });

  const cases: [string, number, AttemptResult, number, NextStep][] = [
    ['2xx: done', 1, { status: 204 }, 0, { action: 'done' }],
    ['first failure, shortest jitter: 0.5 s', 1, { status: 500 }, 0, { action: 'retry', at: NOW + 500 }],
    ['first failure, longest jitter: 1 s', 1, { status: 500 }, ALMOST_ONE, { action: 'retry', at: NOW + 1000 }],
    ['no answer is retried', 3, { status: null }, ALMOST_ONE, { action: 'retry', at: NOW + 4000 }],
    ['the ceiling doubles per attempt and stops at 5 min', 11, { status: 503 }, ALMOST_ONE, { action: 'retry', at: NOW + 300_000 }],
    ['429 waits for Retry-After when it is longer', 1, { status: 429, retryAfter: '30' }, 0, { action: 'retry', at: NOW + 30_000 }],
    ['Retry-After as a date', 1, { status: 503, retryAfter: 'Thu, 02 Jan 2025 03:04:35 GMT' }, 0, { action: 'retry', at: NOW + 30_000 }],
    ['the backoff when it is longer than Retry-After', 6, { status: 429, retryAfter: '1' }, 0, { action: 'retry', at: NOW + 16_000 }],
    ['an unreadable Retry-After is ignored', 1, { status: 429, retryAfter: 'later' }, 0, { action: 'retry', at: NOW + 500 }],
    ['a Retry-After over an hour is cut to an hour', 1, { status: 429, retryAfter: '86400' }, 0, { action: 'retry', at: NOW + 3_600_000 }],
    ['dead after the last attempt', 12, { status: 500 }, 0, { action: 'dead', reason: 'no success after 12 attempts (last: 500)' }],
    ['dead after the last attempt with no answer', 12, { status: null }, 0, { action: 'dead', reason: 'no success after 12 attempts (last: no answer)' }],
    ['a 400 is dead at once', 1, { status: 400 }, 0, { action: 'dead', reason: 'status 400 is not retried' }],
    ['a redirect is dead at once', 1, { status: 301 }, 0, { action: 'dead', reason: 'status 301 is not retried' }],
  ];
  it.each(cases)('%s', (_name, attempt, result, random, expected) => {
    expect(nextStep(attempt, result, NOW, DEFAULT_RETRY, () => random)).toEqual(expected);
  });

  it.each([
    [null, true],
    [408, true],
    [425, true],
    [429, true],
    [500, true],
    [599, true],
    [400, false],
    [401, false],
    [404, false],
    [413, false],
  ])('isRetryable(%s) -> %s', (status, expected) => {
    expect(isRetryable(status)).toBe(expected);
  });
});
