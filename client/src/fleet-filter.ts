/**
 * Which chips a fleet view shows and in what groups and order. Pure.
 */
import type { ChipView } from '../../schema/protocol.ts';
import { metricValue, type EnergyByChip, type MetricId } from './heat-metrics.ts';
import { naturalCompare } from './natural-sort.ts';
import type { FleetViewState, Grouping, SortKey } from './view-state.ts';

/** A labelled run of chips (a host, a model, or the whole selection). */
export interface ChipGroup {
  /** The host or model name ('' for the whole selection). */
  label: string;
  /** Instance type (host groups), or vendor (model groups). */
  sub: string | null;
  chips: ChipView[];
}

/** The filters of a view (everything but metric, grouping, density, sort and range). */
export type ChipFilter = Pick<FleetViewState, 'vendor' | 'model' | 'type' | 'status' | 'q' | 'alerting'>;

/**
 * The chips of `chips` (order kept) that pass every filter: vendor, model and instance type are
 * each "any of" (empty: all), `q` a case-insensitive substring of the host, `alerting` keeps the
 * chips in `alerting` (those with a firing alert).
 */
export function filterChips(chips: readonly ChipView[], f: ChipFilter, alerting?: ReadonlyMap<string, unknown>): ChipView[] {
  const q = f.q.trim().toLowerCase();
  const vendor = new Set(f.vendor);
  const model = new Set(f.model);
  const type = new Set(f.type);
  const status = new Set<string>(f.status);
  return chips.filter(
    (c) =>
      (vendor.size === 0 || vendor.has(c.vendor)) &&
      (model.size === 0 || model.has(c.model)) &&
      (type.size === 0 || type.has(c.instanceType ?? '')) &&
      (status.size === 0 || status.has(c.status)) &&
      (!q || c.host.toLowerCase().includes(q)) &&
      (!f.alerting || (alerting?.has(c.chipId) ?? false)),
  );
}

/** Whether a filter shows every chip. */
export function isUnfiltered(f: ChipFilter): boolean {
  return !f.vendor.length && !f.model.length && !f.type.length && !f.status.length && !f.q.trim() && !f.alerting;
}

/** Distinct values of a chip field, in natural order (for the filter menus). */
export function distinct(chips: readonly ChipView[], key: 'vendor' | 'model' | 'instanceType'): string[] {
  const s = new Set<string>();
  for (const c of chips) {
    const v = c[key];
    if (v) s.add(v);
  }
  return [...s].sort(naturalCompare);
}

/** Descending by value, chips without a value last (their order kept). */
function byValueDesc(a: number | null, b: number | null): number {
  if (a == null) return b == null ? 0 : 1;
  if (b == null) return -1;
  return b - a;
}

/**
 * Groups `chips` (already in host-then-index order) by host or model, or into one group. Groups
 * come in natural order of their label, or — sorting by a metric — by the mean of their chips'
 * values, highest first (groups without values last). Without grouping, a metric sort orders the
 * chips themselves, highest first. Within a host or model group chips keep their order, so a
 * chip does not move as its values change.
 */
export function groupChips(chips: readonly ChipView[], grouping: Grouping, sort: SortKey = 'name', energy?: EnergyByChip): ChipGroup[] {
  if (grouping === 'none') {
    const all = [...chips];
    if (sort !== 'name') {
      const v = new Map(all.map((c) => [c.chipId, metricValue(c, sort, energy)]));
      all.sort((a, b) => byValueDesc(v.get(a.chipId)!, v.get(b.chipId)!));
    }
    return all.length ? [{ label: '', sub: null, chips: all }] : [];
  }
  const map = new Map<string, ChipGroup>();
  for (const c of chips) {
    const label = grouping === 'host' ? c.host : c.model;
    let g = map.get(label);
    if (!g) map.set(label, (g = { label, sub: grouping === 'host' ? c.instanceType : c.vendor, chips: [] }));
    g.chips.push(c);
  }
  const groups = [...map.values()];
  if (sort === 'name') {
    // Chips usually come host-sorted already (one pass checks it instead of a sort).
    for (let i = 1; i < groups.length; i++) if (naturalCompare(groups[i - 1].label, groups[i].label) > 0) return groups.sort((a, b) => naturalCompare(a.label, b.label));
    return groups;
  }
  const mean = new Map(groups.map((g) => [g, groupMean(g.chips, sort, energy)]));
  return groups.sort((a, b) => byValueDesc(mean.get(a)!, mean.get(b)!) || naturalCompare(a.label, b.label));
}

/** Mean of the chips' values of `metric` (null when none has one). */
export function groupMean(chips: readonly ChipView[], metric: MetricId, energy?: EnergyByChip): number | null {
  let sum = 0;
  let n = 0;
  for (const c of chips) {
    const v = metricValue(c, metric, energy);
    if (v != null) {
      sum += v;
      n++;
    }
  }
  return n ? sum / n : null;
}
