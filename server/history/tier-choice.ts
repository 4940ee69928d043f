/**
 * Which storage tier answers a history query, and at which step. Pure: no I/O, no clock.
 *
 * Tiers: `raw` (samples, kept retention.rawMs), `1m` and `1h` rollups (kept m1Ms and h1Ms). A tier
 * "holds" `from` when from >= now - its retention.
 *
 * /series with a step: the coarsest tier whose bucket divides the step (1h, then 1m, else raw);
 * 400 when that tier no longer holds `from`, or when the range has more than maxPoints steps.
 * /series without a step: the smallest nice step (NICE_STEPS) with at most maxPoints steps that is
 * no finer than the finest tier still holding `from` allows (raw: any, 1m: >= 1m, 1h: >= 1h), and
 * whose tier reads no more than the budgets below for the selection when a step that fits does.
 *
 * /energy and /top (one figure per chip over the range): 1h when from and to are whole hours, the
 * range is over 7 days, the selected chips have more than M1_RANGE_ROW_BUDGET 1m rollup rows in
 * it, or 1m rollups no longer hold `from`; else 1m when from and to are whole minutes, the range
 * is over 6 hours, the selected chips hold more than RAW_RANGE_SAMPLE_BUDGET raw samples in it
 * (estimated from their intervals) or raw samples no longer hold `from`; else raw.
 */
import { bucketStart, TIERS, type RollupTier } from '../rollups/rollup-fields.ts';
import type { Retention } from '../store/store.ts';
import { InvalidQueryError } from './invalid-query.ts';
import { formatDuration, formatSpan } from './time-spec.ts';

export type Tier = 'raw' | RollupTier;

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Steps chosen automatically, finest first. */
export const NICE_STEPS = [10_000, 30_000, MIN, 5 * MIN, 15 * MIN, 30 * MIN, HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 7 * DAY, 30 * DAY];
export const DEFAULT_MAX_POINTS = 2_000;
export const MAX_MAX_POINTS = 100_000;
/**
 * Most values one /series answer may hold, all series together (points × series × fields): about
 * 15 MB of JSON and 0.2 s of work. maxPoints bounds one series only; 40 chips × 11 fields × 6 h at
 * 1 s is 9.5 million values (a 60 MB answer that took the hub over a gigabyte).
 */
export const DEFAULT_MAX_SERIES_CELLS = 2_000_000;
/** /energy and /top: ranges longer than these use the 1h (resp. 1m) tier even when not aligned. */
export const LONG_RANGE_1H_MS = 7 * DAY;
export const LONG_RANGE_1M_MS = 6 * HOUR;
/**
 * /energy and /top read at most about this many raw samples (all chips together); a range that
 * holds more is answered from the 1m tier. Raw samples are decoded on the hub's event loop
 * (~1.5 µs each: 100 chips × 1 h took 0.43–0.62 s): 100,000 is ~0.15 s, where 1,000 chips × 1 h
 * at 1 s would hold it for seconds and take gigabytes.
 */
export const RAW_RANGE_SAMPLE_BUDGET = 100_000;

/**
 * /energy and /top decode at most this many 1m rollup rows (one chip-hour each, ~30-50 µs
 * measured: 168,000 rows took 7.9 s); a range that has more is answered from the 1h tier.
 */
export const M1_RANGE_ROW_BUDGET = 10_000;

/** What a range asks of the tiers: the selected chips, and the raw samples they hold in it. */
export interface RangeLoad {
  chips: number;
  rawSamples: number;
}

/** Raw samples the chips hold in [from, to), from their sampling intervals (ms). */
export function rawSampleEstimate(intervalsMs: readonly number[], from: number, to: number): number {
  let n = 0;
  for (const ms of intervalsMs) n += Math.ceil((to - from) / Math.max(1, ms));
  return n;
}

/** Bucket width of a tier (raw: none, 0). */
export function tierBucketMs(tier: Tier): number {
  return tier === 'raw' ? 0 : TIERS[tier].bucketMs;
}

/** The finest tier that still holds data as old as `from`. */
export function finestTierHolding(from: number, now: number, retention: Retention): Tier {
  if (from >= now - retention.rawMs) return 'raw';
  if (from >= now - retention.m1Ms) return '1m';
  return '1h';
}

/** Step buckets (aligned to multiples of the step since epoch) that [from, to] touches. */
export function countPoints(from: number, to: number, stepMs: number): number {
  return (bucketStart(to, stepMs) - bucketStart(from, stepMs)) / stepMs + 1;
}

/** The coarsest tier whose bucket divides `stepMs`. */
export function tierForStep(stepMs: number): Tier {
  if (stepMs % HOUR === 0) return '1h';
  if (stepMs % MIN === 0) return '1m';
  return 'raw';
}

export interface StepChoice {
  tier: Tier;
  stepMs: number;
  /** Points per series. */
  points: number;
}

export interface StepRequest {
  from: number;
  to: number;
  now: number;
  retention: Retention;
  maxPoints: number;
  /** Requested step; absent: automatic. */
  stepMs?: number;
  /**
   * What the selection would read: rollup keys (chips, or fleet groups) and the raw samples its
   * chips hold in the range. An automatic step skips steps whose tier would read more than the
   * budgets below (RAW_RANGE_SAMPLE_BUDGET, M1_RANGE_ROW_BUDGET) when a coarser one fits.
   */
  load?: { rollupKeys: number; rawSamples: number };
  /**
   * The answer's shape: series (chips or groups) and fields per series, and the most values
   * (points × series × fields) it may hold. An automatic step is chosen within it; a given step
   * that exceeds it is a 400 saying how to narrow the request.
   */
  answer?: { series: number; fields: number; maxCells: number };
}

const TIER_HOLDS: Record<Tier, (r: Retention) => number> = { raw: (r) => r.rawMs, '1m': (r) => r.m1Ms, '1h': (r) => r.h1Ms };
const TIER_NAME: Record<Tier, string> = { raw: 'raw samples', '1m': '1-minute rollups', '1h': '1-hour rollups' };
const MIN_STEP: Record<Tier, number> = { raw: 0, '1m': MIN, '1h': HOUR };

function badRequest(message: string): InvalidQueryError {
  return new InvalidQueryError(message);
}

/** 1m rollup rows `keys` have over [from, to] (one per key and hour touched). */
function m1Rows(keys: number, from: number, to: number): number {
  return keys * Math.ceil((to + 1 - bucketStart(from, HOUR)) / HOUR);
}

/**
 * The smallest nice step that fits maxPoints and the tier holding `from` and, given the load,
 * whose tier stays within the read budgets, or null. The budgets never refuse a query: the 1h
 * tier has none, and when a finer step fits, 1h fits too.
 */
function autoStep(req: StepRequest): number | null {
  const minStep = MIN_STEP[finestTierHolding(req.from, req.now, req.retention)];
  const fits = (s: number) => s >= minStep && countPoints(req.from, req.to, s) <= req.maxPoints;
  const { load } = req;
  const cheap = (s: number) => {
    if (!load) return true;
    const tier = tierForStep(s);
    if (tier === 'raw') return load.rawSamples <= RAW_RANGE_SAMPLE_BUDGET;
    return tier === '1h' || m1Rows(load.rollupKeys, req.from, req.to) <= M1_RANGE_ROW_BUDGET;
  };
  return NICE_STEPS.find((s) => fits(s) && cheap(s)) ?? null;
}

/** Points per series the answer budget allows (Infinity without one). */
function cellBudgetPoints(req: StepRequest): number {
  const a = req.answer;
  if (!a || a.series * a.fields === 0) return Infinity;
  return Math.floor(a.maxCells / (a.series * a.fields));
}

function overBudget(req: StepRequest, points: number, stepMs: number | undefined): InvalidQueryError {
  const a = req.answer!;
  const cells = points * a.series * a.fields;
  const fit = autoStep({ ...req, maxPoints: Math.min(req.maxPoints, cellBudgetPoints(req)) });
  const coarser = fit === null ? '' : stepMs === undefined ? `step=${formatDuration(fit)} or coarser, ` : `a coarser step (step=${formatDuration(fit)} fits), `;
  const what = stepMs === undefined ? `${points} points per series` : `step ${formatDuration(stepMs)}: ${points} points per series`;
  return badRequest(
    `the answer would hold ${cells} values (${what} × ${a.series} series × ${a.fields} fields), more than the hub answers at once (${a.maxCells}); narrow the request: fewer chips (chip, host, model, vendor) or coarser groups (groupBy=host, model, vendor or fleet), fewer fields, ${coarser}or a shorter range (from/to)`,
  );
}

/** Step and tier for /series; throws an InvalidQueryError that says how to fix the request. */
export function chooseSeriesStep(req: StepRequest): StepChoice {
  const { from, to, maxPoints } = req;
  const budgetPoints = cellBudgetPoints(req);
  if (req.stepMs === undefined) {
    if (budgetPoints < maxPoints) {
      // The answer budget is the tighter bound: choose within it.
      const stepMs = autoStep({ ...req, maxPoints: budgetPoints });
      if (stepMs === null) throw overBudget(req, countPoints(from, to, NICE_STEPS[NICE_STEPS.length - 1]), undefined);
      return { tier: tierForStep(stepMs), stepMs, points: countPoints(from, to, stepMs) };
    }
    const stepMs = autoStep(req);
    if (stepMs === null) {
      const largest = formatDuration(NICE_STEPS[NICE_STEPS.length - 1]);
      throw badRequest(`the range from ${from} to ${to} needs more than maxPoints (${maxPoints}) points per series even at step ${largest}; use a shorter range (from/to) or a larger maxPoints (up to ${MAX_MAX_POINTS})`);
    }
    return { tier: tierForStep(stepMs), stepMs, points: countPoints(from, to, stepMs) };
  }
  const stepMs = req.stepMs;
  const tier = tierForStep(stepMs);
  const holding = finestTierHolding(from, req.now, req.retention);
  if (MIN_STEP[holding] > MIN_STEP[tier]) {
    const kept = formatSpan(TIER_HOLDS[tier](req.retention));
    throw badRequest(`step ${formatDuration(stepMs)}: ${TIER_NAME[tier]} are kept ${kept} and from is older than that; use a step that is a multiple of ${formatDuration(MIN_STEP[holding])} for older data, or a later from`);
  }
  const points = countPoints(from, to, stepMs);
  if (points > maxPoints) {
    const fits = autoStep(req);
    const hint = fits === null ? 'a shorter range (from/to)' : `step=${formatDuration(fits)} or coarser, or a shorter range (from/to)`;
    throw badRequest(`step ${formatDuration(stepMs)} gives ${points} points per series over this range, more than maxPoints (${maxPoints}); use ${hint}, or a larger maxPoints (up to ${MAX_MAX_POINTS})`);
  }
  if (points > budgetPoints) throw overBudget(req, points, stepMs);
  return { tier, stepMs, points };
}

/** Tier for one figure over [from, to) (/energy, /top); see the rules at the top of this file. */
export function chooseRangeTier(from: number, to: number, now: number, retention: Retention, load: RangeLoad): Tier {
  const range = to - from;
  const holding = finestTierHolding(from, now, retention);
  const aligned = (ms: number) => bucketStart(from, ms) === from && bucketStart(to, ms) === to;
  if (aligned(HOUR) || range > LONG_RANGE_1H_MS || m1Rows(load.chips, from, to - 1) > M1_RANGE_ROW_BUDGET || holding === '1h') return '1h';
  if (aligned(MIN) || range > LONG_RANGE_1M_MS || load.rawSamples > RAW_RANGE_SAMPLE_BUDGET || holding === '1m') return '1m';
  return 'raw';
}
