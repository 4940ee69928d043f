/**
 * What the heatmap can colour chips by, and the fleet summary over a set of chips. Pure.
 *
 * A live reading exists only for a live chip that reports it: a stale or offline chip has none (it
 * is drawn as stale/offline, never as a number), and neither has a live chip whose source does not
 * report the field (Neuron temperature). Energy over the range is history and exists for any chip.
 */
import type { ChipView } from '../../schema/protocol.ts';
import { niceCeil } from './heat-scale.ts';

export const METRICS = ['util', 'power', 'powerPct', 'temp', 'mem', 'energy'] as const;
export type MetricId = (typeof METRICS)[number];

export interface MetricDef {
  id: MetricId;
  /** Name in the selector. */
  label: string;
  /** Unit in the legend. */
  unit: string;
}

export const METRIC_DEFS: Record<MetricId, MetricDef> = {
  util: { id: 'util', label: 'Utilization', unit: '%' },
  power: { id: 'power', label: 'Power', unit: 'W' },
  powerPct: { id: 'powerPct', label: 'Power % of limit', unit: '% of limit' },
  temp: { id: 'temp', label: 'Temperature', unit: '°C' },
  mem: { id: 'mem', label: 'Memory used', unit: '% used' },
  energy: { id: 'energy', label: 'Energy over the range', unit: 'kWh' },
};

/** Utilization under this (%) with a power reading counts as idle but powered. */
export const IDLE_UTIL_PCT = 5;

/** Energy used per chip over the selected range, kWh (chipId → kWh; null: no counter readings). */
export type EnergyByChip = ReadonlyMap<string, number | null>;

/** The chip's power limit: the sample's, else the rated power. */
export function powerLimitW(c: ChipView): number | null {
  return c.latest?.powerLimitW ?? (c.ratedPowerW != null && c.ratedPowerW > 0 ? c.ratedPowerW : null);
}

/** The chip's value of `metric`, or null (not live, not reported, or no energy figure). */
export function metricValue(c: ChipView, metric: MetricId, energy?: EnergyByChip): number | null {
  // Energy is a history figure: it exists whatever the chip's status now (the map draws status first).
  if (metric === 'energy') return energy?.get(c.chipId) ?? null;
  if (c.status !== 'live') return null;
  const s = c.latest;
  if (!s) return null;
  switch (metric) {
    case 'util':
      return s.utilPct;
    case 'power':
      return s.powerW;
    case 'powerPct': {
      const lim = powerLimitW(c);
      return s.powerW == null || lim == null ? null : (100 * s.powerW) / lim;
    }
    case 'temp':
      return s.tempC;
    case 'mem': {
      const total = s.memTotalBytes ?? c.memTotalBytes;
      return s.memUsedBytes == null || total == null || !(total > 0) ? null : (100 * s.memUsedBytes) / total;
    }
  }
}

/**
 * The colour domain of `metric` over `chips`: fixed for percentages (0–100) and temperature
 * (20–90 °C, widened if a chip is hotter), from 0 to the largest power limit (or reading) rounded
 * up to 100 W for power, and to a round number over the largest figure for energy.
 */
export function metricDomain(metric: MetricId, chips: readonly ChipView[], energy?: EnergyByChip): [number, number] {
  switch (metric) {
    case 'util':
    case 'powerPct':
    case 'mem':
      return [0, 100];
    case 'temp': {
      let hi = 90;
      for (const c of chips) {
        const t = metricValue(c, 'temp');
        if (t != null && t > hi) hi = t;
      }
      return [20, Math.ceil(hi / 5) * 5];
    }
    case 'power': {
      let hi = 0;
      for (const c of chips) hi = Math.max(hi, powerLimitW(c) ?? 0, metricValue(c, 'power') ?? 0);
      return [0, Math.ceil((hi || 100) / 100) * 100];
    }
    case 'energy': {
      let hi = 0;
      for (const c of chips) hi = Math.max(hi, energy?.get(c.chipId) ?? 0);
      return [0, niceCeil(hi || 0.001)];
    }
  }
}

/** A metric value for people: "87 %", "612 W", "64 °C", "1.23 kWh" ("—" for none). */
export function fmtMetric(metric: MetricId, v: number | null | undefined): string {
  if (v == null || Number.isNaN(v)) return '—';
  switch (metric) {
    case 'util':
    case 'powerPct':
    case 'mem':
      return `${Math.round(v)} %`;
    case 'power':
      return `${Math.round(v)} W`;
    case 'temp':
      return `${Math.round(v)} °C`;
    case 'energy':
      return v >= 100 ? `${Math.round(v)} kWh` : v >= 1 ? `${v.toFixed(2)} kWh` : `${(v * 1000).toFixed(v >= 0.01 ? 0 : 1)} Wh`;
  }
}

/** A live chip that does (almost) no work while drawing power: the waste the heatmap marks. */
export function isIdlePowered(c: ChipView): boolean {
  const s = c.latest;
  return c.status === 'live' && s != null && s.utilPct != null && s.utilPct < IDLE_UTIL_PCT && s.powerW != null && s.powerW > 0;
}

export interface FleetSummary {
  chips: number;
  live: number;
  stale: number;
  offline: number;
  /** Sum of the live chips' power, W. */
  powerW: number;
  /** Mean utilization of the live chips that report it, % (null when none does). */
  avgUtilPct: number | null;
  /** Live chips idle (utilization under IDLE_UTIL_PCT) while drawing power. */
  idlePowered: number;
  /** Power those idle chips draw, W. */
  idlePowerW: number;
}

export function summarize(chips: Iterable<ChipView>): FleetSummary {
  const s: FleetSummary = { chips: 0, live: 0, stale: 0, offline: 0, powerW: 0, avgUtilPct: null, idlePowered: 0, idlePowerW: 0 };
  let utilSum = 0;
  let utilN = 0;
  for (const c of chips) {
    s.chips++;
    s[c.status]++;
    if (c.status !== 'live' || !c.latest) continue;
    if (c.latest.powerW != null) s.powerW += c.latest.powerW;
    if (c.latest.utilPct != null) {
      utilSum += c.latest.utilPct;
      utilN++;
    }
    if (isIdlePowered(c)) {
      s.idlePowered++;
      s.idlePowerW += c.latest.powerW ?? 0;
    }
  }
  s.avgUtilPct = utilN ? utilSum / utilN : null;
  return s;
}
