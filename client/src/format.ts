/** Display helpers shared by the dashboard elements. A missing value shows as "—", never 0. */

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

/** Sequential utilization scale: dark blue (0 %) → teal → green → yellow → red (100 %). */
const STOPS: [number, [number, number, number]][] = [
  [0, [20, 36, 74]],
  [0.3, [18, 104, 112]],
  [0.55, [38, 140, 70]],
  [0.78, [196, 160, 30]],
  [1, [196, 48, 40]],
];

export function utilColor(pct: number | null | undefined): string {
  if (pct == null || Number.isNaN(pct)) return 'rgb(44, 50, 62)';
  const t = Math.min(1, Math.max(0, pct / 100));
  for (let i = 1; i < STOPS.length; i++) {
    const [t1, c1] = STOPS[i];
    if (t <= t1) {
      const [t0, c0] = STOPS[i - 1];
      const f = (t - t0) / (t1 - t0);
      const c = c0.map((v, k) => Math.round(v + (c1[k] - v) * f));
      return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
    }
  }
  const last = STOPS[STOPS.length - 1][1];
  return `rgb(${last[0]}, ${last[1]}, ${last[2]})`;
}

/** The `#/chip/<id>` route of a chip. */
export function chipHref(chipId: string): string {
  return `#/chip/${encodeURIComponent(chipId)}`;
}
