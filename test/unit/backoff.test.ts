/**
 * schema/backoff.ts: the ceiling grows by the factor per attempt and caps at maxMs; 'equal'
 * jitter stays in [ceiling/2, ceiling]; 'none' is the ceiling; odd attempts are safe.
 */
import { describe, expect, it } from 'vitest';
import { backoffCeiling, backoffDelay, RECONNECT_BACKOFF, type BackoffPolicy } from '../../schema/backoff.ts';

const P: BackoffPolicy = { initialMs: 100, maxMs: 5_000, factor: 2, jitter: 'equal' };
const ALMOST_ONE = 1 - Number.EPSILON;

describe('RECONNECT_BACKOFF', () => {
  it('is 250 ms doubling to a 10 s cap with equal jitter', () => {
    expect(RECONNECT_BACKOFF).toEqual({ initialMs: 250, maxMs: 10_000, factor: 2, jitter: 'equal' });
  });

  it('gives ceilings 250, 500, 1000, … capped at 10 s', () => {
    expect(Array.from({ length: 9 }, (_, a) => backoffCeiling(a, RECONNECT_BACKOFF))).toEqual([250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
  });
});

describe('backoffCeiling', () => {
  const cases: [string, number, BackoffPolicy, number][] = [
    ['attempt 0 is initialMs', 0, P, 100],
    ['attempt 1 grows by the factor', 1, P, 200],
    ['attempt 5', 5, P, 3200],
    ['attempt 6 is capped', 6, P, 5000],
    ['factor 3', 3, { ...P, factor: 3, maxMs: 1e9 }, 2700],
    ['factor 1 never grows', 10, { ...P, factor: 1 }, 100],
    ['initialMs above maxMs is capped at once', 0, { ...P, initialMs: 9_000 }, 5000],
    ['negative attempt counts as 0', -1, P, 100],
    ['very negative attempt counts as 0', -1e9, P, 100],
    ['-Infinity counts as 0', -Infinity, P, 100],
    ['NaN counts as 0', NaN, P, 100],
    ['huge attempt is the cap', 1e9, P, 5000],
    ['Infinity is the cap', Infinity, P, 5000],
    ['MAX_SAFE_INTEGER is the cap', Number.MAX_SAFE_INTEGER, P, 5000],
    // The exponent is clamped at 30: a huge attempt with an uncapped policy stays finite.
    ['huge attempt with no real cap stays finite (exponent clamped at 30)', 1e6, { ...P, initialMs: 1, maxMs: Infinity }, 2 ** 30],
  ];
  it.each(cases)('%s', (_name, attempt, policy, expected) => {
    expect(backoffCeiling(attempt, policy)).toBe(expected);
  });

  it('never decreases as the attempt grows and never exceeds maxMs', () => {
    let prev = 0;
    for (let a = 0; a < 60; a++) {
      const c = backoffCeiling(a, P);
      expect(c).toBeGreaterThanOrEqual(prev);
      expect(c).toBeLessThanOrEqual(P.maxMs);
      prev = c;
    }
    expect(prev).toBe(P.maxMs);
  });
});

describe('backoffDelay', () => {
  const equal: [number, number, number][] = [
    // attempt, random, expected
    [0, 0, 50],
    [0, 0.5, 75],
    [0, ALMOST_ONE, 100],
    [1, 0, 100],
    [1, ALMOST_ONE, 200],
    [3, 0.25, 500],
    [6, 0, 2500],
    [6, ALMOST_ONE, 5000],
    [100, 0, 2500],
    [-3, 0, 50],
  ];
  it.each(equal)("'equal' jitter, attempt %i, random %d -> %i", (attempt, r, expected) => {
    expect(backoffDelay(attempt, P, () => r)).toBe(expected);
  });

  it("'equal' jitter stays within [ceiling/2, ceiling] for random 0 and 0.999… at every attempt", () => {
    for (const policy of [P, RECONNECT_BACKOFF, { ...P, initialMs: 3, maxMs: 7_000, factor: 3 }]) {
      for (let a = -2; a < 40; a++) {
        const c = backoffCeiling(a, policy);
        for (const r of [0, 0.3, 0.5, 0.999, ALMOST_ONE]) {
          const d = backoffDelay(a, policy, () => r);
          expect(d).toBeGreaterThanOrEqual(c / 2);
          expect(d).toBeLessThanOrEqual(c);
          expect(Number.isInteger(d)).toBe(true);
        }
        expect(backoffDelay(a, policy, () => 0)).toBe(Math.round(c / 2));
        expect(backoffDelay(a, policy, () => ALMOST_ONE)).toBe(Math.round(c));
      }
    }
  });

  it('rounds to whole ms: with a fractional ceiling the delay stays within the rounded bounds', () => {
    // 7 · 1.5 = 10.5: bounds [5.25, 10.5] round to [5, 11] (the delay may be up to 0.5 ms under ceiling/2).
    const frac: BackoffPolicy = { initialMs: 7, maxMs: 1_000, factor: 1.5, jitter: 'equal' };
    expect(backoffCeiling(1, frac)).toBe(10.5);
    expect(backoffDelay(1, frac, () => 0)).toBe(5);
    expect(backoffDelay(1, frac, () => ALMOST_ONE)).toBe(11);
    for (let a = 0; a < 20; a++) {
      const c = backoffCeiling(a, frac);
      for (const r of [0, 0.5, ALMOST_ONE]) {
        const d = backoffDelay(a, frac, () => r);
        expect(Number.isInteger(d)).toBe(true);
        expect(d).toBeGreaterThanOrEqual(Math.round(c / 2));
        expect(d).toBeLessThanOrEqual(Math.round(c));
      }
    }
  });

  it("'none' returns the ceiling whatever the random source says", () => {
    const none: BackoffPolicy = { ...P, jitter: 'none' };
    for (let a = -2; a < 12; a++) {
      for (const r of [0, 0.5, ALMOST_ONE]) expect(backoffDelay(a, none, () => r)).toBe(backoffCeiling(a, none));
    }
    expect([0, 1, 2, 6, 1e9].map((a) => backoffDelay(a, none, () => 0.5))).toEqual([100, 200, 400, 5000, 5000]);
  });

  it("'none' does not call the random source; 'equal' calls it once per delay", () => {
    let calls = 0;
    const rnd = () => {
      calls++;
      return 0.5;
    };
    backoffDelay(3, { ...P, jitter: 'none' }, rnd);
    expect(calls).toBe(0);
    backoffDelay(3, P, rnd);
    expect(calls).toBe(1);
  });

  it('uses Math.random by default and still stays within bounds', () => {
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(4, P);
      expect(d).toBeGreaterThanOrEqual(800);
      expect(d).toBeLessThanOrEqual(1600);
    }
  });

  it('is finite and within the cap for negative and huge attempts', () => {
    for (const a of [-1, -1e12, -Infinity, 31, 1e12, Infinity]) {
      const d = backoffDelay(a, RECONNECT_BACKOFF, () => 0.5);
      expect(Number.isFinite(d)).toBe(true);
      expect(d).toBeGreaterThanOrEqual(125);
      expect(d).toBeLessThanOrEqual(10_000);
    }
  });
});
