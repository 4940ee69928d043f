/**
 * The dashboard's view state in the URL hash, so a link reproduces the view and Back works:
 * `#/?metric=power&group=model&vendor=nvidia&status=stale&q=p5&alerting=1` for the fleet,
 * `#/chip/<chipId>?range=6h&from=<ms>&to=<ms>` (a chip's past range and a zoomed span, ms since the
 * epoch), `#/host/<host>?range=6h`, `#/alerts?section=silences&q=p5-&open=<ruleId>,…` (the alerts
 * view reads its own query: `alertsStateOf`), `#/efficiency?groupBy=job&range=6h&unit=tokens`
 * (efficiency-state.ts). Pure: `parseRoute(hash)` and `formatRoute(route)` are inverses for every
 * state they produce (defaults are left out of the URL).
 */
import type { FleetFilter } from '../../schema/protocol.ts';
import type { ChipStatus } from '../../schema/sample.ts';
import { METRICS, type MetricId } from './heat-metrics.ts';
import { isRangeKey, type RangeKey as ChipRange } from './history-range.ts';
import { formatEfficiencyQuery, parseEfficiencyQuery, type EfficiencyState } from './efficiency-state.ts';

export const GROUPINGS = ['host', 'model', 'none'] as const;
export type Grouping = (typeof GROUPINGS)[number];
/** `auto`: tiles for a small fleet (at most TILES_MAX_CHIPS shown), the heatmap beyond. */
export const DENSITIES = ['auto', 'heatmap', 'tiles'] as const;
export type Density = (typeof DENSITIES)[number];
export const SORTS = ['name', ...METRICS] as const;
export type SortKey = (typeof SORTS)[number];
export const STATUSES = ['live', 'stale', 'offline'] as const;
/** Ranges of the energy figure (and of the fleet energy line). */
export const RANGES = ['1h', '6h', '24h', '7d', '30d'] as const;
export type RangeKey = (typeof RANGES)[number];
/** Largest number of chips `auto` density shows as tiles. */
export const TILES_MAX_CHIPS = 64;

export interface FleetViewState {
  metric: MetricId;
  group: Grouping;
  density: Density;
  sort: SortKey;
  vendor: string[];
  model: string[];
  /** Instance types. */
  type: string[];
  status: ChipStatus[];
  /** Host search: a case-insensitive substring of the host name. */
  q: string;
  /** Only chips with a firing alert. */
  alerting: boolean;
  range: RangeKey;
}

export const DEFAULT_VIEW: Readonly<FleetViewState> = Object.freeze({
  metric: 'util',
  group: 'host',
  density: 'auto',
  sort: 'name',
  vendor: [],
  model: [],
  type: [],
  status: [],
  q: '',
  alerting: false,
  range: '24h',
});

/** Ranges of the host view's charts. */
export const HOST_RANGES = ['15m', '1h', '6h', '24h'] as const;
export type HostRange = (typeof HOST_RANGES)[number];
/** The host view's range when the URL names none (its charts start at the host's first sample when that is later). */
export const DEFAULT_HOST_RANGE: HostRange = '1h';

/** A span of a chip's past range zoomed into, ms since the epoch (`from` < `to`). */
export interface ZoomSpan {
  from: number;
  to: number;
}

/**
 * A chip's view: `range` (absent: `live`) and, within a past range, the span zoomed into
 * (absent: the whole range).
 */
export interface ChipRoute {
  view: 'chip';
  chipId: string;
  range?: ChipRange;
  zoom?: ZoomSpan;
}

export type Route =
  | { view: 'fleet'; state: FleetViewState }
  | ChipRoute
  | { view: 'host'; host: string; range: HostRange }
  | { view: 'alerts' }
  | { view: 'efficiency'; state: EfficiencyState };

function oneOf<T extends string>(allowed: readonly T[], v: string | null, dflt: T): T {
  return v != null && (allowed as readonly string[]).includes(v) ? (v as T) : dflt;
}

/** A comma list, trimmed, empty items and repeats left out, sorted (one spelling per set). */
function list(v: string | null): string[] {
  if (!v) return [];
  return [...new Set(v.split(',').map((s) => s.trim()).filter(Boolean))].sort();
}

/** The fleet view state of a query string (`metric=power&…`); unknown or bad values fall back to the defaults. */
export function parseViewState(query: string): FleetViewState {
  const p = new URLSearchParams(query);
  return {
    metric: oneOf(METRICS, p.get('metric'), DEFAULT_VIEW.metric),
    group: oneOf(GROUPINGS, p.get('group'), DEFAULT_VIEW.group),
    density: oneOf(DENSITIES, p.get('density'), DEFAULT_VIEW.density),
    sort: oneOf(SORTS, p.get('sort'), DEFAULT_VIEW.sort),
    vendor: list(p.get('vendor')),
    model: list(p.get('model')),
    type: list(p.get('type')),
    status: list(p.get('status')).filter((s): s is ChipStatus => (STATUSES as readonly string[]).includes(s)),
    q: (p.get('q') ?? '').trim(),
    alerting: p.get('alerting') === '1',
    range: oneOf(RANGES, p.get('range'), DEFAULT_VIEW.range),
  };
}

/** The query string of a state, defaults left out, keys in a fixed order ('' for the defaults). */
export function formatViewState(s: FleetViewState): string {
  const p = new URLSearchParams();
  if (s.metric !== DEFAULT_VIEW.metric) p.set('metric', s.metric);
  if (s.group !== DEFAULT_VIEW.group) p.set('group', s.group);
  if (s.density !== DEFAULT_VIEW.density) p.set('density', s.density);
  if (s.sort !== DEFAULT_VIEW.sort) p.set('sort', s.sort);
  for (const k of ['vendor', 'model', 'type', 'status'] as const) {
    const v = [...new Set(s[k])].sort();
    if (v.length) p.set(k, v.join(','));
  }
  if (s.q.trim()) p.set('q', s.q.trim());
  if (s.alerting) p.set('alerting', '1');
  if (s.range !== DEFAULT_VIEW.range) p.set('range', s.range);
  return p.toString().replace(/%2C/g, ',');
}

/** A whole number of ms since the epoch, or null. */
function epochMs(v: string | null): number | null {
  if (v == null || !/^\d{1,15}$/.test(v)) return null;
  const n = Number(v);
  return n > 0 ? n : null;
}

/**
 * A chip view's range and zoom of its query (`range=6h&from=…&to=…`); `live`, a bad range, and a
 * zoom that is bad, reversed or in the live view are left out.
 */
export function parseChipQuery(query: string): Pick<ChipRoute, 'range' | 'zoom'> {
  const p = new URLSearchParams(query);
  const range = p.get('range');
  if (!isRangeKey(range) || range === 'live') return {};
  const from = epochMs(p.get('from'));
  const to = epochMs(p.get('to'));
  return from != null && to != null && from < to ? { range, zoom: { from, to } } : { range };
}

/** The query of a chip view (`range=6h&from=…&to=…`, '' for live); rounds the zoom to whole ms. */
export function formatChipQuery(r: Pick<ChipRoute, 'range' | 'zoom'>): string {
  if (!r.range || r.range === 'live') return '';
  const p = new URLSearchParams({ range: r.range });
  const from = r.zoom ? Math.round(r.zoom.from) : 0;
  const to = r.zoom ? Math.round(r.zoom.to) : 0;
  if (from > 0 && to > from) {
    p.set('from', String(from));
    p.set('to', String(to));
  }
  return p.toString();
}

export function parseRoute(hash: string): Route {
  if (/^#\/alerts(?:[/?#]|$)/.test(hash)) return { view: 'alerts' };
  const e = /^#\/efficiency\/?(?:\?(.*))?$/.exec(hash);
  if (e) return { view: 'efficiency', state: parseEfficiencyQuery(e[1] ?? '') };
  const h = /^#\/host\/([^/?#]+)(?:\?(.*))?$/.exec(hash);
  if (h) {
    try {
      return { view: 'host', host: decodeURIComponent(h[1]), range: oneOf(HOST_RANGES, new URLSearchParams(h[2] ?? '').get('range'), '1h') };
    } catch {
      /* a bad escape: the fleet */
    }
  }
  const m = /^#\/chip\/([^/?#]+)(?:\?(.*))?/.exec(hash);
  if (m) {
    try {
      return { view: 'chip', chipId: decodeURIComponent(m[1]), ...parseChipQuery(m[2] ?? '') };
    } catch {
      /* a bad escape: the fleet */
    }
  }
  const q = /^#\/?\?(.*)$/.exec(hash);
  return { view: 'fleet', state: parseViewState(q ? q[1] : '') };
}

/** The link to a host's view (default range). */
export function hostHref(host: string): string {
  return formatRoute({ view: 'host', host, range: DEFAULT_HOST_RANGE });
}

export function formatRoute(r: Route): string {
  if (r.view === 'alerts') return '#/alerts';
  if (r.view === 'efficiency') {
    const q = formatEfficiencyQuery(r.state);
    return q ? `#/efficiency?${q}` : '#/efficiency';
  }
  if (r.view === 'chip') {
    const q = formatChipQuery(r);
    return `#/chip/${encodeURIComponent(r.chipId)}${q ? `?${q}` : ''}`;
  }
  if (r.view === 'host') return `#/host/${encodeURIComponent(r.host)}${r.range === '1h' ? '' : `?range=${r.range}`}`;
  const q = formatViewState(r.state);
  return q ? `#/?${q}` : '#/';
}

/** The alerts view's sections, in page order (the section nav at its top). */
export const ALERT_SECTIONS = ['firing', 'history', 'silences', 'dead-letters', 'rules'] as const;
export type AlertSection = (typeof ALERT_SECTIONS)[number];

/**
 * The alerts view's state in its query (`#/alerts?section=silences&q=p5-&open=gpu-power-limit`):
 * the section scrolled to (default `firing`: the top), the chip/host search, and the rules whose
 * chips are unfolded (sorted; a small list unfolds on its own).
 */
export interface AlertsViewState {
  section: AlertSection;
  q: string;
  open: string[];
}

export const DEFAULT_ALERTS_VIEW: Readonly<AlertsViewState> = Object.freeze({ section: 'firing', q: '', open: [] });

/** The alerts view's state of its query; unknown or bad values fall back to the defaults. */
export function parseAlertsQuery(query: string): AlertsViewState {
  const p = new URLSearchParams(query);
  return { section: oneOf(ALERT_SECTIONS, p.get('section'), DEFAULT_ALERTS_VIEW.section), q: (p.get('q') ?? '').trim(), open: list(p.get('open')) };
}

/** The query of an alerts view state, defaults left out ('' for the defaults). */
export function formatAlertsQuery(s: AlertsViewState): string {
  const p = new URLSearchParams();
  if (s.section !== DEFAULT_ALERTS_VIEW.section) p.set('section', s.section);
  if (s.q.trim()) p.set('q', s.q.trim());
  const open = [...new Set(s.open)].sort();
  if (open.length) p.set('open', open.join(','));
  return p.toString().replace(/%2C/g, ',');
}

/** `#/alerts` with the state's query (`parseRoute` takes it for the alerts view). */
export function alertsHash(s: AlertsViewState): string {
  const q = formatAlertsQuery(s);
  return q ? `#/alerts?${q}` : '#/alerts';
}

/** The alerts view's state of a whole hash (defaults when it is not the alerts view's). */
export function alertsStateOf(hash: string): AlertsViewState {
  const m = /^#\/alerts\/?\?(.*)$/.exec(hash);
  return parseAlertsQuery(m ? m[1]! : '');
}

/** Whether two states are the same view. */
export function sameView(a: FleetViewState, b: FleetViewState): boolean {
  return formatViewState(a) === formatViewState(b);
}

/**
 * The part of a view's filters the hub applies to the live `fleet` subscription (vendor, model,
 * instance type, host search); undefined when none is set. Status and "alerting only" change
 * from one second to the next and are applied in the page.
 */
export function liveFilter(s: FleetViewState): FleetFilter | undefined {
  const f: FleetFilter = {};
  if (s.vendor.length) f.vendor = [...s.vendor];
  if (s.model.length) f.model = [...s.model];
  if (s.type.length) f.instanceType = [...s.type];
  if (s.q.trim()) f.host = s.q.trim();
  return Object.keys(f).length ? f : undefined;
}
