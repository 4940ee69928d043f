/**
 * Pure parts of the host view: a `/series` answer (one column per chip and field) turned into one
 * uPlot data set per field with a line per chip, and the chart options that overlay them with a
 * shared cursor (uPlot `cursor.sync`).
 */
import type uPlot from 'uplot';
import type { SeriesAnswer } from '../../schema/api-answers.ts';
import { POWER_AXIS, TEMP_AXIS, TEMP_SCALE, UTIL_AXIS, UTIL_SCALE, baseOptions, fmt, powerScale } from './chart-options.ts';
import { naturalCompare } from './natural-sort.ts';
import type { ChartOptions } from './uplot-chart.ts';

export const HOST_FIELDS = ['utilPct', 'powerW', 'tempC', 'memUsedBytes'] as const;
export type HostField = (typeof HOST_FIELDS)[number];

const GiB = 1024 ** 3;
/** Distinct line colours (Okabe–Ito and Tableau hues), cycled beyond sixteen chips. */
const LINE_COLOURS = ['#5fb3ff', '#ffb454', '#7cd6a0', '#ff6b6b', '#c792ea', '#f2d45c', '#4dd0e1', '#f78c6c', '#a5d6a7', '#b39ddb', '#ffcc80', '#80cbc4', '#ef9a9a', '#90caf9', '#e6ee9c', '#bcaaa4'];

export interface HostSeries {
  /** Chip ids in line order. */
  chipIds: string[];
  /** Per field: [x seconds, one column per chip]. */
  data: Record<HostField, uPlot.AlignedData>;
}

/**
 * Splits a `/series` answer (`fields` = HOST_FIELDS, groupBy none) into one data set per field,
 * chips in `order` (then any others by id); x in seconds, memory in GiB.
 */
export function hostSeries(a: SeriesAnswer, order: readonly string[] = []): HostSeries {
  const rank = new Map(order.map((id, i) => [id, i]));
  const chipIds = [...new Set(a.series.map((s) => s.chipId ?? s.label))].sort((x, y) => (rank.get(x) ?? 1e9) - (rank.get(y) ?? 1e9) || naturalCompare(x, y));
  const xs = a.data[0].map((t) => (t == null ? 0 : t / 1000));
  const data = {} as Record<HostField, uPlot.AlignedData>;
  for (const field of HOST_FIELDS) {
    const cols = chipIds.map((id) => {
      const k = a.series.findIndex((s) => (s.chipId ?? s.label) === id && s.field === field);
      const col = k < 0 ? xs.map(() => null) : a.data[k + 1];
      return field === 'memUsedBytes' ? col.map((v) => (v == null ? null : v / GiB)) : col;
    });
    data[field] = [xs, ...cols] as uPlot.AlignedData;
  }
  return { chipIds, data };
}

/** Options of one field's chart: a line per chip (named by `names`), the cursor shared under `syncKey`. */
export function hostChartOptions(field: HostField, names: readonly string[], syncKey: string, limitW: number | null): ChartOptions {
  const look: Record<HostField, { unit: string; digits: number; axis: Partial<uPlot.Axis>; scale: uPlot.Scale }> = {
    utilPct: { unit: ' %', digits: 0, axis: UTIL_AXIS, scale: UTIL_SCALE },
    powerW: { unit: ' W', digits: 0, axis: POWER_AXIS, scale: powerScale(() => limitW) },
    tempC: { unit: ' °C', digits: 0, axis: TEMP_AXIS, scale: TEMP_SCALE },
    memUsedBytes: { unit: ' GiB', digits: 1, axis: { values: (_u, ticks) => ticks.map((t) => `${t} G`) }, scale: { range: (_u, _min, max) => [0, Math.max(8, Math.ceil((max ?? 0) / 8) * 8)] } },
  };
  const l = look[field];
  const series: uPlot.Series[] = names.map((name, i) => ({ label: name, stroke: LINE_COLOURS[i % LINE_COLOURS.length], width: 1.25, value: fmt(l.unit, l.digits) }));
  const o = baseOptions(series, l.axis, l.scale, [], true);
  o.cursor = { ...o.cursor, sync: { key: syncKey, setSeries: true } };
  return o;
}
