/**
 * Gaps on a chip's time axis: the hub keeps no history of agent reconnects (`/api/v1/agents` says
 * only whether an agent is connected now), so a stretch without samples longer than GAP_INTERVALS
 * sampling intervals is marked as a gap (the agent or its host was away, or the hub was). The
 * interval is the median spacing of the samples themselves. Pure but for the plugin.
 */
import type uPlot from 'uplot';
import { timeBandsPlugin, type BandLook, type TimeBand } from './backfill-bands.ts';

/** A gap is longer than this many sampling intervals (as the hub's "stale"). */
export const GAP_INTERVALS = 3;

/** The median spacing of ascending times `ts` (any unit); null with fewer than two distinct times. */
export function medianSpacing(ts: readonly number[]): number | null {
  const d: number[] = [];
  for (let i = 1; i < ts.length; i++) if (ts[i] > ts[i - 1]) d.push(ts[i] - ts[i - 1]);
  if (d.length === 0) return null;
  d.sort((a, b) => a - b);
  return d[Math.floor((d.length - 1) / 2)];
}

/**
 * The gaps of ascending sample times `ts` (seconds since epoch, as the charts plot): one band from
 * the sample before each gap to the sample after it, where they are more than `GAP_INTERVALS` ×
 * `interval` apart (`interval`: the median spacing unless given).
 */
export function gapBands(ts: readonly number[], interval: number | null = medianSpacing(ts)): TimeBand[] {
  if (!interval || !(interval > 0)) return [];
  const out: TimeBand[] = [];
  for (let i = 1; i < ts.length; i++) if (ts[i] - ts[i - 1] > GAP_INTERVALS * interval) out.push({ from: ts[i - 1], to: ts[i] });
  return out;
}

/** The times of `xs` whose value in `ys` is not null (the buckets that hold data). */
export function filledTimes(xs: readonly number[], ys: readonly (number | null | undefined)[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < xs.length; i++) if (ys[i] != null) out.push(xs[i]);
  return out;
}

/** How a gap is painted: a grey fill between grey lines (readable on the light and the dark theme). */
export const GAP_FILL = 'rgba(128, 138, 152, 0.2)';
export const GAP_EDGE = 'rgba(128, 138, 152, 0.85)';
export const GAP_LOOK: BandLook = Object.freeze({ fill: GAP_FILL, start: GAP_EDGE, end: GAP_EDGE });

/** Paints `bands()` (read at draw time) as gaps. */
export function gapBandsPlugin(bands: () => readonly TimeBand[]): uPlot.Plugin {
  return timeBandsPlugin(bands, () => GAP_LOOK);
}
