/**
 * The efficiency view's state in the URL hash (`#/efficiency?groupBy=model&range=6h&unit=tokens&sort=-jPerUnit`):
 * how rows are grouped (job, model — the chip generation — or vendor), the range, the unit of work
 * shown ('' : the one most chips report) and the table's sort (`-` first: descending). Pure:
 * `parseEfficiencyQuery` and `formatEfficiencyQuery` are inverses for every state they produce
 * (defaults are left out of the URL).
 */

export const EFFICIENCY_GROUPS = ['job', 'model', 'vendor'] as const;
export type EfficiencyGroup = (typeof EFFICIENCY_GROUPS)[number];
export const EFFICIENCY_RANGES = ['1h', '6h', '24h', '7d'] as const;
export type EfficiencyRange = (typeof EFFICIENCY_RANGES)[number];
/** The table's sortable columns. */
export const EFFICIENCY_SORTS = ['label', 'chips', 'units', 'jPerUnit', 'costPerMillionUnits', 'unitsPerChipHour', 'avgPowerW', 'avgUtilPct'] as const;
export type EfficiencySortKey = (typeof EFFICIENCY_SORTS)[number];

export interface EfficiencySort {
  key: EfficiencySortKey;
  desc: boolean;
}

export interface EfficiencyState {
  groupBy: EfficiencyGroup;
  range: EfficiencyRange;
  /** The unit of work shown; '' : the unit most chips report. */
  unit: string;
  sort: EfficiencySort;
}

export const DEFAULT_EFFICIENCY: Readonly<EfficiencyState> = Object.freeze({
  groupBy: 'model',
  range: '24h',
  unit: '',
  sort: Object.freeze({ key: 'jPerUnit', desc: false }) as EfficiencySort,
});

/** A unit name as schema/work.ts allows it (letter, then letters, digits, _; at most 64). */
const UNIT_RE = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

function oneOf<T extends string>(allowed: readonly T[], v: string | null, dflt: T): T {
  return v != null && (allowed as readonly string[]).includes(v) ? (v as T) : dflt;
}

/** `jPerUnit`, `-jPerUnit` (descending); anything else: the default. */
export function parseSort(v: string | null): EfficiencySort {
  if (!v) return { ...DEFAULT_EFFICIENCY.sort };
  const desc = v.startsWith('-');
  const key = desc ? v.slice(1) : v;
  return (EFFICIENCY_SORTS as readonly string[]).includes(key) ? { key: key as EfficiencySortKey, desc } : { ...DEFAULT_EFFICIENCY.sort };
}

export function formatSort(s: EfficiencySort): string {
  return `${s.desc ? '-' : ''}${s.key}`;
}

/** The state of a query string; unknown or bad values fall back to the defaults. */
export function parseEfficiencyQuery(query: string): EfficiencyState {
  const p = new URLSearchParams(query);
  const unit = (p.get('unit') ?? '').trim();
  return {
    groupBy: oneOf(EFFICIENCY_GROUPS, p.get('groupBy'), DEFAULT_EFFICIENCY.groupBy),
    range: oneOf(EFFICIENCY_RANGES, p.get('range'), DEFAULT_EFFICIENCY.range),
    unit: UNIT_RE.test(unit) ? unit : '',
    sort: parseSort(p.get('sort')),
  };
}

/** The query string of a state, defaults left out, keys in a fixed order ('' for the defaults). */
export function formatEfficiencyQuery(s: EfficiencyState): string {
  const p = new URLSearchParams();
  if (s.groupBy !== DEFAULT_EFFICIENCY.groupBy) p.set('groupBy', s.groupBy);
  if (s.range !== DEFAULT_EFFICIENCY.range) p.set('range', s.range);
  if (s.unit && UNIT_RE.test(s.unit)) p.set('unit', s.unit);
  const sort = formatSort(s.sort);
  if (sort !== formatSort(DEFAULT_EFFICIENCY.sort)) p.set('sort', sort);
  return p.toString();
}

/** `#/efficiency`, with the state's query when it differs from the defaults. */
export function efficiencyHash(s: EfficiencyState): string {
  const q = formatEfficiencyQuery(s);
  return q ? `#/efficiency?${q}` : '#/efficiency';
}
