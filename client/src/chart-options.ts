/** uPlot options for the chip detail charts; axis and grid colours follow the theme (`themedAxes`). */
import type uPlot from 'uplot';
import { cssColor } from './theme.ts';
import type { ChartOptions } from './uplot-chart.ts';

const AXIS: uPlot.Axis = {
  stroke: '#9aa4b2',
  grid: { stroke: 'rgba(255,255,255,0.07)', width: 1 },
  ticks: { stroke: 'rgba(255,255,255,0.15)', width: 1, size: 4 },
  font: '11px system-ui, sans-serif',
};

/**
 * `options` with every axis's label, grid and tick colours read from `el`'s computed
 * `--fs-axis`, `--fs-grid` and `--fs-tick` (the theme's), the dark ones when unset.
 */
export function themedAxes(options: ChartOptions, el: Element): ChartOptions {
  const stroke = cssColor(el, '--fs-axis', AXIS.stroke as string);
  const grid = cssColor(el, '--fs-grid', AXIS.grid!.stroke as string);
  const tick = cssColor(el, '--fs-tick', AXIS.ticks!.stroke as string);
  return {
    ...options,
    axes: options.axes?.map((a) => ({ ...a, stroke, grid: { ...a.grid, stroke: grid }, ticks: { ...a.ticks, stroke: tick } })),
  };
}

const MIN_SPAN_S = 60;
const pad = (n: number) => String(n).padStart(2, '0');

/**
 * One-line local time tick labels: HH:MM, or HH:MM:SS when ticks are under a minute apart;
 * with ticks an hour or more apart (history ranges), a tick at local midnight shows the date.
 */
const X_AXIS: uPlot.Axis = {
  ...AXIS,
  space: 64,
  size: 28,
  values: (_u, splits, _axis, _space, incr) =>
    splits.map((t) => {
      const d = new Date(t * 1000);
      const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
      if (incr >= 3600 && d.getHours() === 0 && d.getMinutes() === 0) return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
      return incr < 60 ? `${hm}:${pad(d.getSeconds())}` : hm;
    }),
};

export function fmt(unit: string, digits = 0) {
  return (_u: uPlot, v: number | null) => (v == null ? '—' : `${v.toFixed(digits)}${unit}`);
}

/**
 * Options for a time chart (x in seconds since epoch) of `series`; `dated` shows date and
 * time in the legend (history ranges) instead of the time alone.
 */
export function baseOptions(
  series: uPlot.Series[],
  yAxis: Partial<uPlot.Axis>,
  yScale: uPlot.Scale,
  plugins: uPlot.Plugin[],
  dated = false,
): ChartOptions {
  return {
    plugins,
    series: [
      {
        label: 'time',
        value: (_u, v) => (v == null ? '—' : dated ? new Date(v * 1000).toLocaleString() : new Date(v * 1000).toLocaleTimeString()),
      },
      ...series,
    ],
    scales: {
      // at least a minute wide, so a fresh chart does not stretch a few seconds across the width
      x: {
        time: true,
        range: (_u, min, max) => (min == null || max == null || max - min >= MIN_SPAN_S ? [min, max] : [max - MIN_SPAN_S, max]),
      },
      y: yScale,
    },
    axes: [X_AXIS, { ...AXIS, size: 48, ...yAxis }],
    cursor: { drag: { x: false, y: false } },
    legend: { show: true, live: true },
  };
}

/** y axes and scales of the chip charts (live and history). */
export const UTIL_AXIS: Partial<uPlot.Axis> = { values: (_u, ticks) => ticks.map((t) => `${t}%`) };
export const UTIL_SCALE: uPlot.Scale = { range: [0, 100] };
export const POWER_AXIS: Partial<uPlot.Axis> = { values: (_u, ticks) => ticks.map((t) => `${t} W`), size: 56 };
/** 0 to a round number above both the data and `ratedW()`. */
export function powerScale(ratedW: () => number | null): uPlot.Scale {
  return {
    range: (_u, _min, max) => {
      const top = Math.max(max ?? 0, ratedW() ?? 0, 10);
      return [0, Math.ceil((top * 1.08) / 50) * 50];
    },
  };
}
export const TEMP_AXIS: Partial<uPlot.Axis> = { values: (_u, ticks) => ticks.map((t) => `${t}°`) };
export const TEMP_SCALE: uPlot.Scale = {
  range: (_u, min, max) => [
    Math.min(Math.floor(((min ?? 30) - 5) / 10) * 10, 30),
    Math.max(Math.ceil(((max ?? 80) + 5) / 10) * 10, 90),
  ],
};

/** Each builder takes extra uPlot `plugins` (e.g. the backfill shading of `backfill-bands.ts`). */
export function utilOptions(plugins: uPlot.Plugin[] = []): ChartOptions {
  return baseOptions(
    [{ label: 'utilization', stroke: '#5fb3ff', fill: 'rgba(95,179,255,0.12)', width: 1.5, value: fmt(' %') }],
    UTIL_AXIS,
    UTIL_SCALE,
    plugins,
  );
}

/**
 * Power and, dashed, the power limit (or, when the chip reports none, its rated
 * power: `limitLabel` says which); the y range always includes `ratedW()`.
 */
export function powerOptions(
  ratedW: () => number | null,
  estimated: boolean,
  limitLabel = 'limit',
  plugins: uPlot.Plugin[] = [],
): ChartOptions {
  return baseOptions(
    [
      {
        label: estimated ? 'power (est.)' : 'power',
        stroke: '#ffb454',
        fill: 'rgba(255,180,84,0.12)',
        width: 1.5,
        value: fmt(' W'),
      },
      { label: limitLabel, stroke: '#8d97a5', width: 1.25, dash: [6, 4], value: fmt(' W') },
    ],
    POWER_AXIS,
    powerScale(ratedW),
    plugins,
  );
}

export function tempOptions(plugins: uPlot.Plugin[] = []): ChartOptions {
  return baseOptions(
    [{ label: 'temperature', stroke: '#ff6b6b', fill: 'rgba(255,107,107,0.1)', width: 1.5, value: fmt(' °C') }],
    TEMP_AXIS,
    TEMP_SCALE,
    plugins,
  );
}
