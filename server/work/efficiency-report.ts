/**
 * The /efficiency report, pure: work rows (raw increments or 1m/1h buckets) cut to a range and
 * split across the chips they name, then joined with each (job, chip)'s energy while it worked and
 * grouped by job, model, vendor, host or chip. No I/O.
 *
 * - units: a row's units × the part of its time span inside [from, to) (even within the span),
 *   split evenly over its chips.
 * - span of (job, chip): from the earliest to the latest time its rows cover inside the range; the
 *   chip's energy, chip-hours, power and utilization count over that span (efficiency-query.ts).
 * - jPerUnit = energy / units; unitsPerChipHour = units / chip-hours;
 *   cost = kWh × price per kWh + chip-hours × the model's chip-hour price (null when a price or
 *   the energy is missing); costPerMillionUnits = cost / units × 10⁶.
 */
import type { EfficiencyRow } from '../../schema/api-answers.ts';
import { addFigures, J_PER_KWH, type ChipFigures } from '../history/energy-report.ts';
import { tagsOf, type ChipRef } from '../history/chip-selection.ts';
import { chipHourPrice, type Prices } from '../history/prices.ts';
import type { WorkBucketRow, WorkIncrementRow } from './work-rows.ts';

const MS_PER_HOUR = 3_600_000;

export type EfficiencyGroupBy = 'job' | 'model' | 'vendor' | 'host' | 'chip';

/** One job's work in one unit on one chip within the range. */
export interface JobChipWork {
  job: string;
  unit: string;
  chipId: string;
  units: number;
  spanFrom: number;
  spanTo: number;
}

/** A chip's figures over one job's span on it (range-summary.ts figures). */
export type SpanFigures = ChipFigures;

export const jobChipKey = (job: string, chipId: string): string => `${job}\u0000${chipId}`;

/** Accumulates work rows into (job, unit, chip) tallies within [from, to). */
export class WorkTally {
  /** By job, unit and chips key: rows of one series add up here, split over the chips once, at the end. */
  private readonly bySeries = new Map<string, { job: string; unit: string; chipsKey: string; units: number; spanFrom: number; spanTo: number }>();

  constructor(
    private readonly from: number,
    private readonly to: number,
  ) {}

  /** A row covering [a, b] (an instant when a = b) with `units` over the chips of `chipsKey`. */
  add(job: string, unit: string, chipsKey: string, a: number, b: number, units: number): void {
    const { from, to } = this;
    let share: number;
    let lo: number;
    let hi: number;
    if (b <= a) {
      if (b < from || b >= to) return;
      share = units;
      lo = hi = b;
    } else {
      lo = Math.max(a, from);
      hi = Math.min(b, to);
      if (hi <= lo) return;
      share = (units * (hi - lo)) / (b - a);
    }
    const key = `${job}\u0000${unit}\u0000${chipsKey}`;
    const t = this.bySeries.get(key);
    if (t) {
      t.units += share;
      t.spanFrom = Math.min(t.spanFrom, lo);
      t.spanTo = Math.max(t.spanTo, hi);
    } else this.bySeries.set(key, { job, unit, chipsKey, units: share, spanFrom: lo, spanTo: hi });
  }

  addIncrements(rows: readonly WorkIncrementRow[]): this {
    for (const r of rows) this.add(r.job, r.unit, r.chips, r.fromTs, r.toTs, r.units);
    return this;
  }

  /** Bucket rows: their units spread evenly over the part of the bucket they covered. */
  addBuckets(rows: readonly WorkBucketRow[]): this {
    for (const r of rows) this.add(r.job, r.unit, r.chips, r.firstTs, r.lastTs, r.units);
    return this;
  }

  /** Per (job, unit, chip): each series' units split evenly over its chips. */
  rows(): JobChipWork[] {
    const byKey = new Map<string, JobChipWork>();
    for (const t of this.bySeries.values()) {
      const chips = t.chipsKey.split(',');
      const each = t.units / chips.length;
      for (const chipId of chips) {
        const key = `${t.job}\u0000${t.unit}\u0000${chipId}`;
        const w = byKey.get(key);
        if (w) {
          w.units += each;
          w.spanFrom = Math.min(w.spanFrom, t.spanFrom);
          w.spanTo = Math.max(w.spanTo, t.spanTo);
        } else byKey.set(key, { job: t.job, unit: t.unit, chipId, units: each, spanFrom: t.spanFrom, spanTo: t.spanTo });
      }
    }
    return [...byKey.values()];
  }
}

/** Each job's span over all its chips and units: what one energy read per job covers. */
export function jobSpans(work: readonly JobChipWork[]): Map<string, { from: number; to: number; chipIds: Set<string> }> {
  const out = new Map<string, { from: number; to: number; chipIds: Set<string> }>();
  for (const w of work) {
    const s = out.get(w.job);
    if (s) {
      s.from = Math.min(s.from, w.spanFrom);
      s.to = Math.max(s.to, w.spanTo);
      s.chipIds.add(w.chipId);
    } else out.set(w.job, { from: w.spanFrom, to: w.spanTo, chipIds: new Set([w.chipId]) });
  }
  return out;
}

interface Tally extends SpanFigures {
  units: number;
  chips: Set<string>;
  jobs: Set<string>;
  estimated: boolean;
  /** null: a chip with chip-hours has no price. */
  chipHourCost: number | null;
  tags: Record<string, string>;
}

function groupOf(w: JobChipWork, chip: ChipRef, groupBy: EfficiencyGroupBy): { label: string; tags: Record<string, string> } {
  if (groupBy === 'job') return { label: w.job, tags: { job: w.job } };
  const { label, tags } = tagsOf(chip, groupBy);
  return { label, tags: tags as Record<string, string> };
}

export interface EfficiencyInput {
  work: readonly JobChipWork[];
  /** Each (job, chip)'s figures over its job's span (jobChipKey); absent: no data. */
  spans: ReadonlyMap<string, SpanFigures>;
  chips: ReadonlyMap<string, ChipRef>;
  groupBy: EfficiencyGroupBy;
  prices: Prices;
  /** Whether a chip's power is estimated (Neuron). */
  powerEstimated: (chip: ChipRef) => boolean;
}

export function efficiencyRows(input: EfficiencyInput): EfficiencyRow[] {
  const groups = new Map<string, Tally>();
  // A (job, chip)'s span figures count once per group and unit, however many rows name it.
  const counted = new Set<string>();
  for (const w of input.work) {
    const chip = input.chips.get(w.chipId);
    if (!chip) continue;
    const { label, tags } = groupOf(w, chip, input.groupBy);
    const key = `${label}\u0000${w.unit}`;
    let t = groups.get(key);
    if (!t) {
      t = { units: 0, chips: new Set(), jobs: new Set(), estimated: false, chipHourCost: 0, tags: { ...tags, label, unit: w.unit }, energyJ: 0, energyPairs: 0, chipMs: 0, powerSum: 0, powerCnt: 0, utilSum: 0, utilCnt: 0 };
      groups.set(key, t);
    }
    t.units += w.units;
    t.chips.add(w.chipId);
    t.jobs.add(w.job);
    if (input.powerEstimated(chip)) t.estimated = true;
    const spanKey = jobChipKey(w.job, w.chipId);
    const once = `${key}\u0000${spanKey}`;
    const s = input.spans.get(spanKey);
    if (s && !counted.has(once)) {
      counted.add(once);
      addFigures(t, s);
      const price = chipHourPrice(input.prices, chip.model);
      const cost = s.chipMs === 0 ? 0 : price === null ? null : (s.chipMs / MS_PER_HOUR) * price;
      t.chipHourCost = t.chipHourCost === null || cost === null ? null : t.chipHourCost + cost;
    }
  }
  const rows: EfficiencyRow[] = [];
  for (const t of groups.values()) {
    const energyJ = t.energyPairs > 0 ? t.energyJ : null;
    const chipHours = t.chipMs / MS_PER_HOUR;
    const energyCost = energyJ === null || input.prices.kwh === null ? null : (energyJ / J_PER_KWH) * input.prices.kwh;
    const cost = energyCost === null || t.chipHourCost === null ? null : energyCost + t.chipHourCost;
    const { label, unit, ...tags } = t.tags;
    rows.push({
      label,
      ...tags,
      unit,
      units: t.units,
      chips: t.chips.size,
      jobs: t.jobs.size,
      energyJ,
      jPerUnit: energyJ === null || t.units <= 0 ? null : energyJ / t.units,
      chipHours,
      unitsPerChipHour: chipHours > 0 ? t.units / chipHours : null,
      avgPowerW: t.powerCnt > 0 ? t.powerSum / t.powerCnt : null,
      avgUtilPct: t.utilCnt > 0 ? t.utilSum / t.utilCnt : null,
      powerEstimated: t.estimated,
      cost,
      costPerMillionUnits: cost === null || t.units <= 0 ? null : (cost / t.units) * 1e6,
    });
  }
  return rows.sort((a, b) => a.unit.localeCompare(b.unit) || a.label.localeCompare(b.label, undefined, { numeric: true }));
}
