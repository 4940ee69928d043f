import { describe, expect, it } from 'vitest';
import { chooseRangeTier, chooseSeriesStep, countPoints, finestTierHolding, RAW_RANGE_SAMPLE_BUDGET, rawSampleEstimate, tierForStep, type RangeLoad, type StepChoice, type Tier } from '../../server/history/tier-choice.ts';
import { DEFAULT_RETENTION, type Retention } from '../../server/store/store.ts';

const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** An hour boundary. */
const NOW = Date.UTC(2026, 0, 15, 12);
const R = DEFAULT_RETENTION;
const SHORT: Retention = { rawMs: 6 * HOUR, m1Ms: DAY, h1Ms: 7 * DAY };

describe('finestTierHolding: retention boundaries', () => {
  const cases: [string, number, Retention, Tier][] = [
    ['now', NOW, R, 'raw'],
    ['exactly 48h ago', NOW - 48 * HOUR, R, 'raw'],
    ['1 ms past 48h', NOW - 48 * HOUR - 1, R, '1m'],
    ['exactly 30d ago', NOW - 30 * DAY, R, '1m'],
    ['1 ms past 30d', NOW - 30 * DAY - 1, R, '1h'],
    ['3 years ago', NOW - 3 * 365 * DAY, R, '1h'],
    ['custom: 6h ago', NOW - 6 * HOUR, SHORT, 'raw'],
    ['custom: 7h ago', NOW - 7 * HOUR, SHORT, '1m'],
    ['custom: 2d ago', NOW - 2 * DAY, SHORT, '1h'],
  ];
  it.each(cases)('%s -> %s', (_name, from, retention, tier) => expect(finestTierHolding(from, NOW, retention)).toBe(tier));
});

describe('countPoints / tierForStep', () => {
  const points: [number, number, number, number][] = [
    [0, 0, 10 * S, 1],
    [0, 9_999, 10 * S, 1],
    [0, 10_000, 10 * S, 2],
    [5_000, 15_000, 10 * S, 2],
    [NOW - HOUR, NOW, 10 * S, 361],
    [NOW - HOUR + 1, NOW - 1, 10 * S, 360],
  ];
  it.each(points)('[%i, %i] at %i ms -> %i points', (from, to, step, n) => expect(countPoints(from, to, step)).toBe(n));

  const tiers: [number, Tier][] = [
    [10 * S, 'raw'],
    [30 * S, 'raw'],
    [90 * S, 'raw'],
    [MIN, '1m'],
    [5 * MIN, '1m'],
    [90 * MIN, '1m'],
    [HOUR, '1h'],
    [6 * HOUR, '1h'],
    [DAY, '1h'],
  ];
  it.each(tiers)('step %i ms -> %s', (step, tier) => expect(tierForStep(step)).toBe(tier));
});

describe('chooseSeriesStep: automatic step', () => {
  const cases: [string, number, number, number, StepChoice][] = [
    ['last hour', NOW - HOUR, NOW, 2000, { tier: 'raw', stepMs: 10 * S, points: 361 }],
    ['last 6 hours (10s would be 2161 points)', NOW - 6 * HOUR, NOW, 2000, { tier: 'raw', stepMs: 30 * S, points: 721 }],
    ['last day', NOW - DAY, NOW, 2000, { tier: '1m', stepMs: MIN, points: 1441 }],
    ['last week (5m would be 2017)', NOW - 7 * DAY, NOW, 2000, { tier: '1m', stepMs: 15 * MIN, points: 673 }],
    ['last 90 days', NOW - 90 * DAY, NOW, 2000, { tier: '1h', stepMs: 3 * HOUR, points: 721 }],
    ['last hour in 10 points', NOW - HOUR, NOW, 10, { tier: '1m', stepMs: 15 * MIN, points: 5 }],
    ['short range past raw retention: no finer than 1m', NOW - 49 * HOUR, NOW - 48.5 * HOUR, 2000, { tier: '1m', stepMs: MIN, points: 31 }],
    ['short range past 1m retention: no finer than 1h', NOW - 31 * DAY, NOW - 30 * DAY - HOUR, 2000, { tier: '1h', stepMs: HOUR, points: 24 }],
    ['a single instant', NOW, NOW, 1, { tier: 'raw', stepMs: 10 * S, points: 1 }],
  ];
  it.each(cases)('%s', (_name, from, to, maxPoints, expected) => {
    expect(chooseSeriesStep({ from, to, now: NOW, retention: R, maxPoints })).toEqual(expected);
  });

  // Load: rollup keys and raw samples the selection would read (one chip at 1 s unless said).
  const loadCases: [string, number, number, { rollupKeys: number; rawSamples: number }, StepChoice][] = [
    ['one chip, last hour: raw 10s as without load', NOW - HOUR, NOW, { rollupKeys: 1, rawSamples: 3600 }, { tier: 'raw', stepMs: 10 * S, points: 361 }],
    ['1,000 chips, last hour: over the raw budget, 1m', NOW - HOUR, NOW, { rollupKeys: 1000, rawSamples: 3_600_000 }, { tier: '1m', stepMs: MIN, points: 61 }],
    ['400 chips, last week: over the 1m row budget, 1h', NOW - 7 * DAY, NOW, { rollupKeys: 400, rawSamples: 1e9 }, { tier: '1h', stepMs: HOUR, points: 169 }],
    ['one chip, last week: 15m as without load', NOW - 7 * DAY, NOW, { rollupKeys: 1, rawSamples: 1e9 }, { tier: '1m', stepMs: 15 * MIN, points: 673 }],
    ['fleet groups (4 keys), last week: 15m', NOW - 7 * DAY, NOW, { rollupKeys: 4, rawSamples: 1e9 }, { tier: '1m', stepMs: 15 * MIN, points: 673 }],
    ['1,000 chips, last hour in 2 points: only 1h steps fit anyway', NOW - HOUR, NOW, { rollupKeys: 1000, rawSamples: 3_600_000 }, { tier: '1h', stepMs: HOUR, points: 2 }],
  ];
  it.each(loadCases)('with load: %s', (_name, from, to, load, expected) => {
    const maxPoints = expected.points === 2 ? 2 : 2000;
    expect(chooseSeriesStep({ from, to, now: NOW, retention: R, maxPoints, load })).toEqual(expected);
  });

  it('with load: a budget that no fitting step meets does not refuse the query', () => {
    // 100,000 keys: raw and 1m tiers are over their budgets; the 1h tier answers.
    expect(chooseSeriesStep({ from: NOW - HOUR + S, to: NOW - S, now: NOW, retention: R, maxPoints: 1, load: { rollupKeys: 100_000, rawSamples: 1e9 } })).toEqual({ tier: '1h', stepMs: HOUR, points: 1 });
    expect(chooseSeriesStep({ from: NOW - 10 * MIN, to: NOW - 5 * MIN, now: NOW, retention: R, maxPoints: 2000, load: { rollupKeys: 100_000, rawSamples: 1e9 } })).toEqual({ tier: '1h', stepMs: HOUR, points: 1 });
  });

  it('answers 400 when even the largest step gives too many points', () => {
    expect(() => chooseSeriesStep({ from: 0, to: NOW, now: NOW, retention: R, maxPoints: 100 })).toThrow(
      `the range from 0 to ${NOW} needs more than maxPoints (100) points per series even at step 30d; use a shorter range (from/to) or a larger maxPoints (up to 100000)`,
    );
  });
});

describe('chooseSeriesStep: given step', () => {
  const ok: [string, number, number, number, Retention, StepChoice][] = [
    ['10s over the last hour: raw', 10 * S, NOW - HOUR, NOW, R, { tier: 'raw', stepMs: 10 * S, points: 361 }],
    ['90s: raw (not a multiple of 1m)', 90 * S, NOW - HOUR, NOW, R, { tier: 'raw', stepMs: 90 * S, points: 41 }],
    ['5m over a day: 1m tier', 5 * MIN, NOW - DAY, NOW, R, { tier: '1m', stepMs: 5 * MIN, points: 289 }],
    ['1m on recent data: 1m tier, not raw', MIN, NOW - HOUR, NOW, R, { tier: '1m', stepMs: MIN, points: 61 }],
    ['1h over 30 days: 1h tier', HOUR, NOW - 30 * DAY, NOW, R, { tier: '1h', stepMs: HOUR, points: 721 }],
    ['1d over a year: 1h tier', DAY, NOW - 365 * DAY, NOW, R, { tier: '1h', stepMs: DAY, points: 366 }],
    ['10s from exactly 48h ago', 10 * S, NOW - 48 * HOUR, NOW - 47 * HOUR, R, { tier: 'raw', stepMs: 10 * S, points: 361 }],
    ['1m from exactly 30d ago', MIN, NOW - 30 * DAY, NOW - 30 * DAY + HOUR, R, { tier: '1m', stepMs: MIN, points: 61 }],
  ];
  it.each(ok)('%s', (_name, stepMs, from, to, retention, expected) => {
    expect(chooseSeriesStep({ from, to, now: NOW, retention, maxPoints: 2000, stepMs })).toEqual(expected);
  });

  const bad: [string, number, number, number, number, Retention, string][] = [
    ['10s from 1 ms past 48h', 10 * S, NOW - 48 * HOUR - 1, NOW - 47 * HOUR, 2000, R, 'step 10s: raw samples are kept 48h and from is older than that; use a step that is a multiple of 1m for older data, or a later from'],
    ['1m from 1 ms past 30d', MIN, NOW - 30 * DAY - 1, NOW - 30 * DAY + HOUR, 2000, R, 'step 1m: 1-minute rollups are kept 30d and from is older than that; use a step that is a multiple of 1h for older data, or a later from'],
    ['10s from 31d ago', 10 * S, NOW - 31 * DAY, NOW - 31 * DAY + HOUR, 2000, R, 'step 10s: raw samples are kept 48h and from is older than that; use a step that is a multiple of 1h for older data, or a later from'],
    ['custom raw retention', 10 * S, NOW - 7 * HOUR, NOW, 100_000, SHORT, 'step 10s: raw samples are kept 6h and from is older than that; use a step that is a multiple of 1m for older data, or a later from'],
    ['1s over 2h in 100 points', S, NOW - 2 * HOUR, NOW, 100, R, 'step 1s gives 7201 points per series over this range, more than maxPoints (100); use step=5m or coarser, or a shorter range (from/to), or a larger maxPoints (up to 100000)'],
    ['1m over 30d', MIN, NOW - 30 * DAY, NOW, 2000, R, 'step 1m gives 43201 points per series over this range, more than maxPoints (2000); use step=30m or coarser, or a shorter range (from/to), or a larger maxPoints (up to 100000)'],
    ['1h over 700d in 100 points', HOUR, NOW - 700 * DAY, NOW, 100, R, 'step 1h gives 16801 points per series over this range, more than maxPoints (100); use step=30d or coarser, or a shorter range (from/to), or a larger maxPoints (up to 100000)'],
    ['1h over 50 years', HOUR, NOW - 50 * 365 * DAY, NOW, 100, { rawMs: R.rawMs, m1Ms: R.m1Ms, h1Ms: 100 * 365 * DAY }, `step 1h gives ${50 * 365 * 24 + 1} points per series over this range, more than maxPoints (100); use a shorter range (from/to), or a larger maxPoints (up to 100000)`],
  ];
  it.each(bad)('%s -> 400', (_name, stepMs, from, to, maxPoints, retention, message) => {
    expect(() => chooseSeriesStep({ from, to, now: NOW, retention, maxPoints, stepMs })).toThrow(expect.objectContaining({ name: 'InvalidQueryError', message }));
  });
});

describe('chooseRangeTier (/energy, /top)', () => {
  // The selection: 10 chips at 1 s unless a case says otherwise.
  const tenChips = (from: number, to: number): RangeLoad => ({ chips: 10, rawSamples: rawSampleEstimate(Array(10).fill(S), from, to) });
  const cases: [string, number, number, Tier, Partial<RangeLoad>?][] = [
    ['whole hours', NOW - 2 * HOUR, NOW, '1h'],
    ['whole minutes', NOW - 2 * HOUR + MIN, NOW, '1m'],
    ['unaligned, short, recent', NOW - 2 * HOUR + S, NOW, 'raw'],
    ['unaligned, over 6 hours', NOW - 7 * HOUR + S, NOW, '1m'],
    ['unaligned, over 7 days', NOW - 8 * DAY + S, NOW - S, '1h'],
    ['unaligned, past raw retention', NOW - 49 * HOUR + S, NOW - 48 * HOUR, '1m'],
    ['unaligned, past 1m retention', NOW - 31 * DAY + S, NOW - 31 * DAY + HOUR, '1h'],
    ['unaligned, short, but the chips hold more raw samples than the budget', NOW - 2 * HOUR + S, NOW, '1m', { rawSamples: RAW_RANGE_SAMPLE_BUDGET + 1 }],
    ['unaligned, short, the chips hold exactly the budget', NOW - 2 * HOUR + S, NOW, 'raw', { rawSamples: RAW_RANGE_SAMPLE_BUDGET }],
    ['whole hours, over the raw budget: still 1h', NOW - 2 * HOUR, NOW, '1h', { rawSamples: 10 * RAW_RANGE_SAMPLE_BUDGET }],
    // 1m rows: each chip's hour rows the range touches (2 h + 1 s unaligned: 3 rows per chip).
    ['unaligned day, 1,000 chips: more 1m rows than the budget', NOW - DAY + S, NOW, '1h', { chips: 1000, rawSamples: 1e9 }],
    ['unaligned, 2 h, 3,333 chips: 9,999 rows, within the budget', NOW - 2 * HOUR - S, NOW, '1m', { chips: 3333, rawSamples: 1e9 }],
    ['unaligned, 2 h, 3,334 chips: 10,002 rows, over it', NOW - 2 * HOUR - S, NOW, '1h', { chips: 3334, rawSamples: 1e9 }],
    ['unaligned day, 48 chips: 1m', NOW - DAY + S, NOW, '1m', { chips: 48, rawSamples: 1e9 }],
  ];
  it.each(cases)('%s -> %s', (_name, from, to, tier, load) => expect(chooseRangeTier(from, to, NOW, R, { ...tenChips(from, to), ...load })).toBe(tier));

  it('estimates raw samples from each chip\'s interval', () => {
    expect(rawSampleEstimate([], NOW - HOUR, NOW)).toBe(0);
    expect(rawSampleEstimate([S, S, 250], NOW - HOUR, NOW)).toBe(3600 + 3600 + 14_400);
    expect(rawSampleEstimate([7 * S], NOW - MIN, NOW)).toBe(9);
    // 1,000 chips at 1 s over the default hour of /top: far over the budget.
    expect(rawSampleEstimate(Array(1000).fill(S), NOW - HOUR, NOW)).toBeGreaterThan(RAW_RANGE_SAMPLE_BUDGET);
  });
});
