/**
 * Late data on the time axis: which stretches of a chip's samples arrived backfilled
 * (`flags.backfill`: spooled by the agent during a hub outage and delivered later),
 * and a uPlot plugin that shades time stretches behind the series (those, and the alert
 * bands of alert-bands.ts, each painted its own way).
 */
import type uPlot from 'uplot';
import type { Sample } from '../../schema/sample.ts';

/** A closed x range in seconds since epoch (uPlot's time unit). */
export interface TimeBand {
  from: number;
  to: number;
}

export interface BackfillSummary {
  /** Backfilled samples among those summarized. */
  count: number;
  /** One band per run of consecutive backfilled samples: first ts to last ts of the run. */
  bands: TimeBand[];
}

export const NO_BACKFILL: BackfillSummary = Object.freeze({ count: 0, bands: [] }) as BackfillSummary;

/** Counts the backfilled samples of `samples` (ascending by ts) and groups them into contiguous runs. */
export function summarizeBackfill(samples: readonly Sample[]): BackfillSummary {
  let count = 0;
  const bands: TimeBand[] = [];
  let run: TimeBand | null = null;
  for (const s of samples) {
    if (s.flags?.backfill === true) {
      count++;
      const t = s.ts / 1000;
      if (run) run.to = t;
      else bands.push((run = { from: t, to: t }));
    } else {
      run = null;
    }
  }
  return count ? { count, bands } : NO_BACKFILL;
}

/** Fill and edge colour of the shading (also used by the notice's swatch). */
export const BACKFILL_FILL = 'rgba(180, 140, 255, 0.16)';
export const BACKFILL_EDGE = 'rgba(180, 140, 255, 0.75)';
/** A band is drawn at least this wide (CSS px), so a single late sample still shows. */
const MIN_BAND_PX = 3;
/** Height of the solid strip along the band's top edge (CSS px). */
const EDGE_PX = 3;
/** Width of a band's side markers (CSS px). */
const SIDE_PX = 1.5;

/** How one band is painted: a fill across the plot, and optionally a strip on top and lines at its sides. */
export interface BandLook {
  fill: string;
  /** Solid strip along the band's top edge. */
  top?: string;
  /** Vertical line at the band's start. */
  start?: string;
  /** Vertical line at the band's end (left out for a band still open). */
  end?: string;
}

/** The backfill shading: a translucent fill with a solid strip on top. */
export const BACKFILL_LOOK: BandLook = Object.freeze({ fill: BACKFILL_FILL, top: BACKFILL_EDGE });

/**
 * A uPlot plugin that, on every redraw (`drawClear`, i.e. before grid and series),
 * fills a translucent band over each of `bands()` across the plotting area, painted as
 * `look(band)` says (by default the backfill shading: a solid strip on top). `bands` is read
 * at draw time, so whoever calls `setData` (or `redraw`) only has to keep it current; nothing
 * else is redrawn or recreated. Several of these plugins may share a chart (backfill, alerts).
 */
export function timeBandsPlugin<B extends TimeBand>(bands: () => readonly B[], look: (band: B) => BandLook = () => BACKFILL_LOOK): uPlot.Plugin {
  return {
    hooks: {
      drawClear: (u: uPlot) => {
        const list = bands();
        if (list.length === 0) return;
        const { ctx, bbox } = u;
        const ratio = globalThis.devicePixelRatio || 1;
        const minW = MIN_BAND_PX * ratio;
        const edge = EDGE_PX * ratio;
        const side = Math.max(1, Math.round(SIDE_PX * ratio));
        ctx.save();
        ctx.beginPath();
        ctx.rect(bbox.left, bbox.top, bbox.width, bbox.height);
        ctx.clip();
        for (const b of list) {
          const x0 = u.valToPos(b.from, 'x', true);
          const x1 = u.valToPos(b.to, 'x', true);
          if (!Number.isFinite(x0) || !Number.isFinite(x1)) continue;
          let l = x0;
          let r = x1;
          if (r - l < minW) {
            const mid = (l + r) / 2;
            l = mid - minW / 2;
            r = mid + minW / 2;
          }
          if (r < bbox.left || l > bbox.left + bbox.width) continue;
          const paint = look(b);
          ctx.fillStyle = paint.fill;
          ctx.fillRect(l, bbox.top, r - l, bbox.height);
          if (paint.top) {
            ctx.fillStyle = paint.top;
            ctx.fillRect(l, bbox.top, r - l, edge);
          }
          if (paint.start) {
            ctx.fillStyle = paint.start;
            ctx.fillRect(Math.round(x0 - side / 2), bbox.top, side, bbox.height);
          }
          if (paint.end) {
            ctx.fillStyle = paint.end;
            ctx.fillRect(Math.round(x1 - side / 2), bbox.top, side, bbox.height);
          }
        }
        ctx.restore();
      },
    },
  };
}
