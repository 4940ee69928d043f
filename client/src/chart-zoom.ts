/**
 * Drag-to-zoom and a shared cursor for a set of uPlot charts: `zoomable(options, …)` returns
 * options whose cursor selects along x (without rescaling the chart itself: the caller reloads
 * the span at a finer step) and is synced with every chart under the same key. Pure: no DOM.
 */
import type uPlot from 'uplot';
import type { ChartOptions } from './uplot-chart.ts';

/** Selections narrower than this (px) are clicks, not zooms. */
export const MIN_DRAG_PX = 5;

/** The time span (ms since epoch) a selection covers, or null for a click. */
export function selectedSpan(u: Pick<uPlot, 'select' | 'posToVal'>): { from: number; to: number } | null {
  const { left, width } = u.select;
  if (!(width >= MIN_DRAG_PX)) return null;
  const from = Math.round(u.posToVal(left, 'x') * 1000);
  const to = Math.round(u.posToVal(left + width, 'x') * 1000);
  return to > from ? { from, to } : null;
}

/** `options` with x drag-selection reported to `onZoom` (the selection then cleared) and the cursor synced under `syncKey`. */
export function zoomable(options: ChartOptions, syncKey: string, onZoom: (span: { from: number; to: number }) => void): ChartOptions {
  const setSelect = (u: uPlot) => {
    const span = selectedSpan(u);
    if (!span) return;
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    onZoom(span);
  };
  return {
    ...options,
    cursor: { ...options.cursor, drag: { x: true, y: false, setScale: false }, sync: { key: syncKey } },
    hooks: { ...options.hooks, setSelect: [...(options.hooks?.setSelect ?? []), setSelect] },
  };
}
