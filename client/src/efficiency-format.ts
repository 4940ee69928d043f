/**
 * Pure helpers of the efficiency view: number formats (3 significant digits, J per unit, costs),
 * which unit to show, sorting the rows and the widths of the side-by-side bars. No DOM.
 */
import type { EfficiencyRow } from '../../schema/api-answers.ts';
import type { EfficiencySort, EfficiencySortKey } from './efficiency-state.ts';

export const DASH = '—';

const SI: [number, string][] = [
  [1e15, 'P'],
  [1e12, 'T'],
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k'],
];

/** `n` to 3 significant digits in plain notation (no exponent): 0.0500, 1.20, 12.3, 500. */
function sig3Plain(n: number): string {
  // rounded first: 9.996 is 10.0, not 10.00
  const r = Number(n.toPrecision(3));
  if (r === 0) return '0';
  // toFixed, not toPrecision: no exponent notation for tiny figures
  return r.toFixed(Math.min(20, Math.max(0, 2 - Math.floor(Math.log10(Math.abs(r))))));
}

/**
 * A figure to 3 significant digits: 0.0500, 1.20, 12.3, 500; from 1,000 on with an SI prefix
 * (1.23k, 45.6M, 789G). Null, NaN and infinities are "—".
 */
export function fmtSig(v: number | null | undefined): string {
  if (v == null || !Number.isFinite(v)) return DASH;
  const a = Math.abs(v);
  if (a >= 999.5) {
    for (const [k, p] of SI) {
      // 999,999 is 1.00M, not 1000k
      if (a >= k * 0.9995) return `${sig3Plain(v / k)}${p}`;
    }
  }
  return sig3Plain(v);
}

/** A unit's singular for "J/token": tokens → token, queries → query, steps → step; other names as given. */
export function singularUnit(unit: string): string {
  if (/[^aeiou]ies$/i.test(unit)) return `${unit.slice(0, -3)}y`;
  if (/(ss|us)$/i.test(unit)) return unit;
  if (/[^s]s$/i.test(unit)) return unit.slice(0, -1);
  return unit;
}

/** "0.0500 J/token", "512 J/step"; "—" when unknown. */
export function fmtJPerUnit(v: number | null | undefined, unit: string): string {
  const s = fmtSig(v);
  return s === DASH ? DASH : `${s} J/${singularUnit(unit)}`;
}

/** Units done: "12.3M", "950"; whole numbers below 1,000 stay whole. */
export function fmtUnits(v: number | null | undefined): string {
  if (v == null || !Number.isFinite(v)) return DASH;
  if (Math.abs(v) < 999.5 && Number.isInteger(v)) return String(v);
  return fmtSig(v);
}

/** A cost (prices carry no currency): 3 significant digits, "—" without prices. */
export function fmtCost(v: number | null | undefined): string {
  return fmtSig(v);
}

/** Throughput per chip: units per chip-hour as units per second ("1.23k/s"). */
export function perSecond(unitsPerChipHour: number | null | undefined): number | null {
  return unitsPerChipHour == null || !Number.isFinite(unitsPerChipHour) ? null : unitsPerChipHour / 3600;
}

export function fmtWatts(v: number | null | undefined): string {
  return v == null || !Number.isFinite(v) ? DASH : `${fmtSig(v)} W`;
}

export function fmtPct(v: number | null | undefined): string {
  return v == null || !Number.isFinite(v) ? DASH : `${Math.round(v)}%`;
}

/** Why a row's power is marked estimated (tooltip of the marker). */
export const ESTIMATED_TITLE =
  'Estimated: Neuron (Trainium/Inferentia) reports power as a percentage of an assumed maximum, so the energy, J per unit and energy cost of these chips are estimates too.';

/**
 * The units in the rows, the one reported by most chips first (then by name); `tokens` wins a tie.
 * The view shows one unit at a time: joules per token and per step do not compare.
 */
export function unitsByUse(rows: readonly EfficiencyRow[]): string[] {
  const chips = new Map<string, number>();
  for (const r of rows) chips.set(r.unit, (chips.get(r.unit) ?? 0) + r.chips);
  return [...chips.keys()].sort((a, b) => chips.get(b)! - chips.get(a)! || (a === 'tokens' ? -1 : b === 'tokens' ? 1 : a < b ? -1 : a > b ? 1 : 0));
}

/** The unit to show: the one asked for when the rows have it (or none are in yet), else the most used. */
export function pickUnit(rows: readonly EfficiencyRow[], wanted: string): string {
  const units = unitsByUse(rows);
  if (wanted && (units.includes(wanted) || units.length === 0)) return wanted;
  return units[0] ?? '';
}

function sortValue(r: EfficiencyRow, key: EfficiencySortKey): number | string | null {
  const v = r[key];
  return typeof v === 'number' && !Number.isFinite(v) ? null : v;
}

/**
 * The rows sorted by a column; rows without the figure (null) always last, ties by label
 * (natural: `job-2` before `job-10`), so the order is stable across refreshes.
 */
export function sortRows(rows: readonly EfficiencyRow[], sort: EfficiencySort): EfficiencyRow[] {
  const dir = sort.desc ? -1 : 1;
  const byLabel = (a: EfficiencyRow, b: EfficiencyRow) => a.label.localeCompare(b.label, undefined, { numeric: true, sensitivity: 'base' });
  return [...rows].sort((a, b) => {
    const va = sortValue(a, sort.key);
    const vb = sortValue(b, sort.key);
    if (va == null || vb == null) return va == null && vb == null ? byLabel(a, b) : va == null ? 1 : -1;
    const c = typeof va === 'string' || typeof vb === 'string' ? String(va).localeCompare(String(vb), undefined, { numeric: true, sensitivity: 'base' }) : va - vb;
    return c !== 0 ? c * dir : byLabel(a, b);
  });
}

/** The sort after clicking a column's header: the same column flips, another starts ascending (counts and throughput: descending). */
export function nextSort(current: EfficiencySort, key: EfficiencySortKey): EfficiencySort {
  if (current.key === key) return { key, desc: !current.desc };
  return { key, desc: key === 'chips' || key === 'units' || key === 'unitsPerChipHour' };
}

/** Each row's bar as a fraction (0..1) of the largest figure; null for a row without it. */
export function barFractions(rows: readonly EfficiencyRow[], field: 'jPerUnit' | 'costPerMillionUnits'): (number | null)[] {
  const vals = rows.map((r) => {
    const v = r[field];
    return v != null && Number.isFinite(v) && v >= 0 ? v : null;
  });
  const max = Math.max(0, ...vals.map((v) => v ?? 0));
  return vals.map((v) => (v == null ? null : max > 0 ? v / max : 0));
}

/** A row's label as shown: the label, or what the group is when the hub sends none. */
export function rowLabel(r: EfficiencyRow): string {
  return r.label || r.job || r.model || r.vendor || r.host || r.chipId || DASH;
}
