/**
 * Late data on the time axis: which stretches of a chip's samples arrived backfilled
 * (`flags.backfill`: spooled by the agent during a hub outage and delivered later),
 * and a uPlot plugin that shades those stretches behind the series.
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

/**
 * A uPlot plugin that, on every redraw (`drawClear`, i.e. before grid and series),
 * fills a translucent band over each of `bands()` across the plotting area, with a
 * solid strip on top. `bands` is read at draw time, so whoever calls `setData` only
 * has to keep it current; nothing else is redrawn or recreated.
 */
export function timeBandsPlugin(bands: () => readonly TimeBand[]): uPlot.Plugin {
  return {
    hooks: {
      drawClear: (u: uPlot) => {
        const list = bands();
        if (list.length === 0) return;
        const { ctx, bbox } = u;
        const ratio = globalThis.devicePixelRatio || 1;
        const minW = MIN_BAND_PX * ratio;
        const edge = EDGE_PX * ratio;
        ctx.save();
        ctx.beginPath();
        ctx.rect(bbox.left, bbox.top, bbox.width, bbox.height);
        ctx.clip();
        for (const b of list) {
          let x0 = u.valToPos(b.from, 'x', true);
          let x1 = u.valToPos(b.to, 'x', true);
          if (!Number.isFinite(x0) || !Number.isFinite(x1)) continue;
          if (x1 - x0 < minW) {
            const mid = (x0 + x1) / 2;
            x0 = mid - minW / 2;
            x1 = mid + minW / 2;
          }
          if (x1 < bbox.left || x0 > bbox.left + bbox.width) continue;
          ctx.fillStyle = BACKFILL_FILL;
          ctx.fillRect(x0, bbox.top, x1 - x0, bbox.height);
          ctx.fillStyle = BACKFILL_EDGE;
          ctx.fillRect(x0, bbox.top, x1 - x0, edge);
        }
        ctx.restore();
      },
    },
  };
}
