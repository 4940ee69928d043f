/** Display helpers shared by the dashboard elements. A missing value shows as "—", never 0. */
import { rampRgb } from './heat-scale.ts';

export const DASH = '—';
const GiB = 1024 ** 3;

export function fmtPct(v: number | null | undefined): string {
  return v == null ? DASH : `${Math.round(v)}%`;
}

export function fmtWatts(v: number | null | undefined): string {
  return v == null ? DASH : `${Math.round(v)} W`;
}

export function fmtKw(w: number): string {
  return `${(w / 1000).toFixed(w >= 100_000 ? 0 : 1)} kW`;
}

export function fmtTemp(v: number | null | undefined): string {
  return v == null ? DASH : `${Math.round(v)} °C`;
}

export function fmtGiB(bytes: number | null | undefined, digits = 1): string {
  return bytes == null ? DASH : (bytes / GiB).toFixed(digits);
}

/** "71.2 / 80 GiB"; either side may be "—". */
export function fmtMem(used: number | null | undefined, total: number | null | undefined): string {
  if (used == null && total == null) return `${DASH} GiB`;
  return `${fmtGiB(used)} / ${fmtGiB(total, 0)} GiB`;
}

/** "12s ago", "3m ago", "2h ago". */
export function fmtAgo(ts: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ts) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86_400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86_400)}d ago`;
}

/**
 * A tile's background for its utilization: the heatmap's sequential scale (heat-scale.ts,
 * violet → green → yellow), darkened so white figures stay readable; busy is bright, not red.
 */
export function utilColor(pct: number | null | undefined): string {
  if (pct == null || Number.isNaN(pct)) return 'rgb(44, 50, 62)';
  const [r, g, b] = rampRgb(Math.min(1, Math.max(0, pct / 100)));
  const k = 0.62;
  return `rgb(${Math.round(r * k)}, ${Math.round(g * k)}, ${Math.round(b * k)})`;
}

/** The `#/chip/<id>` route of a chip. */
export function chipHref(chipId: string): string {
  return `#/chip/${encodeURIComponent(chipId)}`;
}
