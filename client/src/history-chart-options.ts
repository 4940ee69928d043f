/**
 * uPlot options for the chip history charts: per bucket the average as a line and,
 * when the hub's min and max are there, a shaded min–max band (series order: time,
 * avg, min, max). Same axes, scales and colours as the live charts.
 */
import type uPlot from 'uplot';
import {
  POWER_AXIS,
  TEMP_AXIS,
  TEMP_SCALE,
  UTIL_AXIS,
  UTIL_SCALE,
  baseOptions,
  fmt,
  powerScale,
} from './chart-options.ts';
import type { ChartOptions } from './uplot-chart.ts';

interface Look {
  label: string;
  rgb: string;
  unit: string;
  digits?: number;
}

function banded(look: Look, band: boolean): uPlot.Series[] {
  const { label, rgb, unit, digits = 0 } = look;
  const avg: uPlot.Series = { label: `${label} avg`, stroke: `rgb(${rgb})`, width: 1.5, value: fmt(unit, digits) };
  if (!band) return [{ ...avg, fill: `rgba(${rgb},0.12)` }];
  const edge = (name: string): uPlot.Series => ({ label: name, stroke: `rgba(${rgb},0.35)`, width: 1, value: fmt(unit, digits) });
  return [avg, edge('min'), edge('max')];
}

function options(look: Look, band: boolean, axis: Partial<uPlot.Axis>, scale: uPlot.Scale, plugins: uPlot.Plugin[]): ChartOptions {
  const o = baseOptions(banded(look, band), axis, scale, plugins, true);
  // fill between max (3) and min (2)
  if (band) o.bands = [{ series: [3, 2], fill: `rgba(${look.rgb},0.16)` }];
  return o;
}

/** Each builder takes extra uPlot `plugins` (e.g. the alert bands of `alert-bands.ts`). */
export function utilHistoryOptions(band: boolean, plugins: uPlot.Plugin[] = []): ChartOptions {
  return options({ label: 'utilization', rgb: '95,179,255', unit: ' %' }, band, UTIL_AXIS, UTIL_SCALE, plugins);
}

/** The y range always includes `ratedW()` (the chip's rated power or limit), as live. */
export function powerHistoryOptions(band: boolean, ratedW: () => number | null, plugins: uPlot.Plugin[] = []): ChartOptions {
  return options({ label: 'power', rgb: '255,180,84', unit: ' W' }, band, POWER_AXIS, powerScale(ratedW), plugins);
}

export function tempHistoryOptions(band: boolean, plugins: uPlot.Plugin[] = []): ChartOptions {
  return options({ label: 'temperature', rgb: '255,107,107', unit: ' °C' }, band, TEMP_AXIS, TEMP_SCALE, plugins);
}

/** Memory used in GiB, from 0 to the chip's memory (`totalGiB()`) when known. */
export function memHistoryOptions(band: boolean, totalGiB: () => number | null, plugins: uPlot.Plugin[] = []): ChartOptions {
  return options({ label: 'memory used', rgb: '124,214,160', unit: ' GiB', digits: 1 }, band, { values: (_u, ticks) => ticks.map((t) => `${t} G`) }, {
    range: (_u, _min, max) => {
      const top = Math.max(max ?? 0, totalGiB() ?? 0, 1);
      return [0, Math.ceil(top / 8) * 8];
    },
  }, plugins);
}
