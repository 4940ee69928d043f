/**
 * The /energy report: per chip, host, model or vendor over a range, energy used (kWh), average
 * power and utilization, chip-hours and, with prices, costs; plus totals. Pure: no I/O.
 *
 * - energy: joules used in the range's buckets (pairs of energy readings; none: null).
 * - avgPowerW / avgUtilPct: sample-weighted means over the group's samples (per-chip figures).
 * - chipHours: for each chip, its reporting time in the range (range-summary.ts: samples × interval per bucket).
 * - energyCost = kWh × price per kWh; chipHourCost = Σ chip-hours × the chip model's price;
 *   cost = energyCost + chipHourCost; costPerUtilizedChipHour = cost / (chipHours × avgUtil/100).
 *   Each is null when a price or the energy it needs is missing (or, for the last, utilization is 0
 *   or unknown).
 */
import type { EnergyAnswer, EnergyFigures, EnergyRow } from '../../schema/api-answers.ts';
import { fieldIndex } from '../rollups/rollup-bucket.ts';
import type { ChipRef, GroupBy } from './chip-selection.ts';
import { groupChips } from './chip-selection.ts';
import { chipHourPrice, type Prices } from './prices.ts';
import type { RangeSummary } from './range-summary.ts';

export const J_PER_KWH = 3_600_000;
const MS_PER_HOUR = 3_600_000;
const POWER = fieldIndex('powerW');
const UTIL = fieldIndex('utilPct');

/** A row of the report (its shape: schema/api-answers.ts). */
export type { EnergyRow };

export interface EnergyInput {
  chips: readonly ChipRef[];
  /** Each chip's figures over the covered range (range-summary.ts); a chip without data is absent. */
  summaries: ReadonlyMap<string, RangeSummary>;
  groupBy: Exclude<GroupBy, 'none' | 'fleet'>;
  prices: Prices;
}

/** Sums of a chip's (or a group's) figures over a range, as range summaries give them. */
export interface ChipFigures {
  energyJ: number;
  energyPairs: number;
  powerSum: number;
  powerCnt: number;
  utilSum: number;
  utilCnt: number;
  /** Chip time with data, ms (summed exactly, turned into hours at the end). */
  chipMs: number;
}

/** Add `f`'s sums into `into`. */
export function addFigures(into: ChipFigures, f: ChipFigures): void {
  into.energyJ += f.energyJ;
  into.energyPairs += f.energyPairs;
  into.powerSum += f.powerSum;
  into.powerCnt += f.powerCnt;
  into.utilSum += f.utilSum;
  into.utilCnt += f.utilCnt;
  into.chipMs += f.chipMs;
}

interface Tally extends ChipFigures {
  chips: number;
  /** null: a chip with chip-hours has no price. */
  chipHourCost: number | null;
}

const emptyTally = (): Tally => ({ chips: 0, energyJ: 0, energyPairs: 0, powerSum: 0, powerCnt: 0, utilSum: 0, utilCnt: 0, chipMs: 0, chipHourCost: 0 });

function chipTally(chip: ChipRef, input: EnergyInput): Tally {
  const t = emptyTally();
  t.chips = 1;
  const s = input.summaries.get(chip.chipId);
  if (s) {
    const b = s.merged;
    t.energyJ = b.energyJ;
    t.energyPairs = b.energyPairs;
    const p = b.f[POWER];
    if (p) (t.powerSum = p.sum), (t.powerCnt = p.cnt);
    const u = b.f[UTIL];
    if (u) (t.utilSum = u.sum), (t.utilCnt = u.cnt);
    t.chipMs = s.chipMs;
  }
  const price = chipHourPrice(input.prices, chip.model);
  t.chipHourCost = t.chipMs === 0 ? 0 : price === null ? null : (t.chipMs / MS_PER_HOUR) * price;
  return t;
}

function add(into: Tally, t: Tally): void {
  into.chips += t.chips;
  addFigures(into, t);
  into.chipHourCost = into.chipHourCost === null || t.chipHourCost === null ? null : into.chipHourCost + t.chipHourCost;
}

function figures(t: Tally, prices: Prices): EnergyFigures {
  const energyKWh = t.energyPairs > 0 ? t.energyJ / J_PER_KWH : null;
  const avgUtilPct = t.utilCnt > 0 ? t.utilSum / t.utilCnt : null;
  const energyCost = prices.kwh === null || energyKWh === null ? null : energyKWh * prices.kwh;
  const cost = energyCost === null || t.chipHourCost === null ? null : energyCost + t.chipHourCost;
  const chipHours = t.chipMs / MS_PER_HOUR;
  const utilizedHours = avgUtilPct === null ? 0 : (chipHours * avgUtilPct) / 100;
  return {
    chips: t.chips,
    energyKWh,
    avgPowerW: t.powerCnt > 0 ? t.powerSum / t.powerCnt : null,
    avgUtilPct,
    chipHours,
    energyCost,
    chipHourCost: t.chipHourCost,
    cost,
    costPerUtilizedChipHour: cost === null || utilizedHours === 0 ? null : cost / utilizedHours,
  };
}

export type EnergyReport = Pick<EnergyAnswer, 'rows' | 'totals'>;

export function energyReport(input: EnergyInput): EnergyReport {
  const tallies = new Map(input.chips.map((c) => [c.chipId, chipTally(c, input)]));
  const total = emptyTally();
  const rows = groupChips(input.chips, input.groupBy).map((g) => {
    const t = emptyTally();
    for (const id of g.keys) add(t, tallies.get(id)!);
    add(total, t);
    return { label: g.label, ...g.tags, ...figures(t, input.prices) };
  });
  return { rows, totals: figures(total, input.prices) };
}
