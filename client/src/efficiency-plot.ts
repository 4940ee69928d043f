/**
 * Pure helpers of the efficiency scatter (power against throughput per chip): the points of an
 * answer, nice axis ticks, linear scales, the model colours and the hover hit test. No DOM.
 */
import type { EfficiencyRow } from '../../schema/api-answers.ts';
import { perSecond } from './efficiency-format.ts';

/** One chip's dot: x = average power (W), y = units per second per chip. */
export interface ScatterPoint {
  x: number;
  y: number;
  row: EfficiencyRow;
  model: string;
  estimated: boolean;
}

/** The chips (rows of `groupBy=chip`) of one unit that have both a power and a throughput. */
export function scatterPoints(rows: readonly EfficiencyRow[], unit: string): ScatterPoint[] {
  const out: ScatterPoint[] = [];
  for (const r of rows) {
    if (r.unit !== unit) continue;
    const y = perSecond(r.unitsPerChipHour);
    const x = r.avgPowerW;
    if (x == null || y == null || !Number.isFinite(x)) continue;
    out.push({ x, y, row: r, model: r.model ?? r.vendor ?? '?', estimated: r.powerEstimated });
  }
  return out;
}

export interface Axis {
  min: number;
  max: number;
  step: number;
  ticks: number[];
}

/** 1, 2, 2.5 or 5 × 10^k: the tick step nearest to `raw` from above. */
function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  const m = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
  return m * p;
}

/**
 * An axis over [lo, hi] with about `count` ticks at nice steps, widened to whole steps; an empty
 * or one-value span is opened around the value (±10%, or 0..1 at zero), and never below 0 when
 * the data are not.
 */
export function niceAxis(lo: number, hi: number, count = 5): Axis {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return { min: 0, max: 1, step: 0.2, ticks: [0, 0.2, 0.4, 0.6, 0.8, 1] };
  if (lo > hi) [lo, hi] = [hi, lo];
  if (hi - lo < Math.abs(hi) * 1e-9 || hi === lo) {
    const d = Math.abs(hi) * 0.1 || 1;
    const wasNonNegative = lo >= 0;
    lo -= d;
    hi += d;
    if (wasNonNegative && lo < 0) lo = 0;
  }
  const step = niceStep((hi - lo) / Math.max(1, count));
  const min = Math.floor(lo / step + 1e-9) * step;
  const max = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  const n = Math.round((max - min) / step);
  // whole multiples of the step, free of accumulated float error (0.30000000000000004)
  const digits = Math.max(0, -Math.floor(Math.log10(step)) + 2);
  for (let i = 0; i <= n; i++) ticks.push(Number((min + i * step).toFixed(Math.min(20, digits))));
  return { min: ticks[0]!, max: ticks[ticks.length - 1]!, step, ticks };
}

/** The axes of the points: about 10% of the span added each side so no dot sits on an edge. */
export function scatterAxes(points: readonly ScatterPoint[], xCount = 6, yCount = 5): { x: Axis; y: Axis } {
  const span = (vals: number[]) => {
    let lo = Math.min(...vals);
    let hi = Math.max(...vals);
    const pad = (hi - lo) * 0.1;
    lo = lo >= 0 ? Math.max(0, lo - pad) : lo - pad;
    hi += pad;
    return [lo, hi] as const;
  };
  if (points.length === 0) return { x: niceAxis(0, 1, xCount), y: niceAxis(0, 1, yCount) };
  const [x0, x1] = span(points.map((p) => p.x));
  const [y0, y1] = span(points.map((p) => p.y));
  return { x: niceAxis(x0, x1, xCount), y: niceAxis(y0, y1, yCount) };
}

/** A linear map of [d0, d1] onto [r0, r1] (pixels; r0 > r1 for a y axis drawn downwards). */
export function linearScale(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return (v) => r0 + (v - d0) * k;
}

/** The decimals `step` needs to be written exactly (0.25: 2, 2.5: 1, 50: 0), at most 10. */
function decimalsOf(step: number): number {
  for (let d = 0; d < 10; d++) {
    const v = step * 10 ** d;
    if (Math.abs(v - Math.round(v)) < 1e-6 * Math.max(1, v)) return d;
  }
  return 10;
}

/** A tick's label: as many decimals as the step needs, SI prefix from 10,000 on (12.5k, 1.5M). */
export function fmtTick(v: number, step: number): string {
  const a = Math.abs(v);
  if (a >= 1e4) {
    for (const [k, p] of [
      [1e12, 'T'],
      [1e9, 'G'],
      [1e6, 'M'],
      [1e3, 'k'],
    ] as const) {
      if (a >= k) return `${(v / k).toFixed(decimalsOf(step / k))}${p}`;
    }
  }
  return v.toFixed(decimalsOf(step));
}

/** Distinct colours that read on dark and light backgrounds (Tableau 10). */
export const MODEL_PALETTE = ['#4e9af1', '#f28e2b', '#59a14f', '#e15759', '#b07aa1', '#edc948', '#76b7b2', '#ff9da7', '#9c755f', '#bab0ac'] as const;

/** Each model's colour: models in name order take the palette's colours in turn (stable across refreshes). */
export function modelColors(models: Iterable<string>): Map<string, string> {
  const names = [...new Set(models)].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  return new Map(names.map((m, i) => [m, MODEL_PALETTE[i % MODEL_PALETTE.length]!]));
}

/** The index of the point drawn nearest to (px, py) within `radius` pixels, or -1. */
export function nearestPoint(pixels: readonly { x: number; y: number }[], px: number, py: number, radius = 8): number {
  let best = -1;
  let bestD = radius * radius;
  for (let i = 0; i < pixels.length; i++) {
    const dx = pixels[i]!.x - px;
    const dy = pixels[i]!.y - py;
    const d = dx * dx + dy * dy;
    if (d <= bestD) {
      bestD = d;
      best = i;
    }
  }
  return best;
}
