/**
 * Agent reconnects on a chip's time axis: the connection events of the agent that owns the chip
 * (`GET /api/v1/chips/:chipId/events`: `connected` when the hub accepted its hello, `disconnected`
 * when its connection ended), drawn on every chart as thin vertical lines — solid with a filled ▲
 * on the time axis where the agent connected, dashed with a hollow ▽ where its connection ended —
 * in a teal of their own (gaps are grey bands, late samples violet, alerts their severity's colour);
 * and the legend keys for them. Pure but for the fetch and the plugin.
 *
 * Test hooks: `data-testid="legend-reconnect"` and `legend-disconnect`, each with `data-count`
 * (events in view); the charts' host elements carry nothing: the marks are painted on the canvas.
 */
import { css, html } from 'lit';
import type uPlot from 'uplot';
import type { ChipEventsAnswer } from '../../schema/api-answers.ts';
import { fetchHubJson } from './hub-fetch.ts';

/** One event on the time axis (t in seconds since epoch, as the charts plot). */
export interface ReconnectMark {
  t: number;
  kind: 'connected' | 'disconnected';
  /** Why a connection ended (`replaced`, `hub-stopped`), when known. */
  detail?: string;
}

/** The marks' colour (readable on the light and the dark theme). */
export const RECONNECT_RGB = '32, 178, 140';
export const RECONNECT_COLOR = `rgb(${RECONNECT_RGB})`;
const LINE_PX = 1.5;
const GLYPH_PX = 5;

/** GET /api/v1/chips/:chipId/events for [from, to] (ms). */
export function loadChipEvents(chipId: string, from: number, to: number, signal: AbortSignal): Promise<ChipEventsAnswer> {
  return fetchHubJson<ChipEventsAnswer>(`/api/v1/chips/${encodeURIComponent(chipId)}/events?from=${Math.floor(from)}&to=${Math.ceil(to)}`, signal);
}

/** The marks of an answer (none without one). */
export function reconnectMarks(answer: ChipEventsAnswer | null | undefined): ReconnectMark[] {
  if (!answer || !Array.isArray(answer.events)) return [];
  return answer.events.map((e) => ({ t: e.ts / 1000, kind: e.kind, ...(e.detail ? { detail: e.detail } : {}) }));
}

/** How many marks of each kind fall in [fromS, toS] (seconds). */
export function marksInView(marks: readonly ReconnectMark[], fromS: number, toS: number): { connected: number; disconnected: number } {
  let connected = 0;
  let disconnected = 0;
  for (const m of marks) {
    if (m.t < fromS || m.t > toS) continue;
    if (m.kind === 'connected') connected++;
    else disconnected++;
  }
  return { connected, disconnected };
}

/**
 * A uPlot plugin that paints `marks()` (read at draw time) over the series on every redraw: a
 * vertical line across the plot and a glyph on its bottom edge (the time axis) per event.
 */
export function reconnectMarksPlugin(marks: () => readonly ReconnectMark[]): uPlot.Plugin {
  return {
    hooks: {
      draw: (u: uPlot) => {
        const list = marks();
        if (list.length === 0) return;
        const { ctx, bbox } = u;
        const ratio = globalThis.devicePixelRatio || 1;
        const w = Math.max(1, LINE_PX * ratio);
        const g = GLYPH_PX * ratio;
        const bottom = bbox.top + bbox.height;
        ctx.save();
        ctx.beginPath();
        ctx.rect(bbox.left - g, bbox.top, bbox.width + 2 * g, bbox.height);
        ctx.clip();
        for (const m of list) {
          const x = u.valToPos(m.t, 'x', true);
          if (!Number.isFinite(x) || x < bbox.left - 0.5 || x > bbox.left + bbox.width + 0.5) continue;
          const connected = m.kind === 'connected';
          ctx.strokeStyle = connected ? RECONNECT_COLOR : `rgba(${RECONNECT_RGB}, 0.85)`;
          ctx.lineWidth = connected ? w : Math.max(1, w * 0.8);
          ctx.setLineDash(connected ? [] : [4 * ratio, 3 * ratio]);
          ctx.beginPath();
          ctx.moveTo(Math.round(x) + 0.5, bbox.top);
          ctx.lineTo(Math.round(x) + 0.5, bottom);
          ctx.stroke();
          // the glyph, on the time axis: ▲ filled (connected), ▽ hollow (disconnected)
          ctx.setLineDash([]);
          ctx.beginPath();
          if (connected) {
            ctx.moveTo(x, bottom - 2 * g);
            ctx.lineTo(x - g, bottom);
            ctx.lineTo(x + g, bottom);
          } else {
            ctx.moveTo(x - g, bottom - 2 * g);
            ctx.lineTo(x + g, bottom - 2 * g);
            ctx.lineTo(x, bottom);
          }
          ctx.closePath();
          if (connected) {
            ctx.fillStyle = RECONNECT_COLOR;
            ctx.fill();
          } else {
            ctx.lineWidth = Math.max(1, ratio);
            ctx.stroke();
          }
        }
        ctx.restore();
      },
    },
  };
}

/** Lays the band legend (band-legend.ts) and these keys out on one line. */
export const reconnectLegendStyles = css`
  .mark-legends {
    display: flex;
    flex-wrap: wrap;
    align-items: baseline;
    gap: 0 16px;
  }
  .reconnect-legend {
    display: flex;
    flex-wrap: wrap;
    gap: 4px 16px;
    margin: 0 0 8px;
    font-size: 12px;
    color: var(--fs-faint);
  }
  .reconnect-legend span {
    display: inline-flex;
    align-items: center;
    gap: 5px;
  }
  .reconnect-legend i {
    width: 14px;
    height: 10px;
    box-sizing: border-box;
  }
`;

/** The legend keys of the reconnect marks, with how many are in view. */
export function reconnectLegend(n: { connected: number; disconnected: number }) {
  const key = (id: string, count: number, swatch: string, label: string, title: string) =>
    html`<span data-testid=${`legend-${id}`} data-count=${count} title=${title}><i style=${swatch}></i>${label}${count ? ` (${count})` : ''}</span>`;
  const line = (style: string) => `background: linear-gradient(90deg, transparent 6px, ${style} 6px, ${style} 7.5px, transparent 7.5px)`;
  return html`<div class="reconnect-legend" data-testid="reconnect-legend">
    ${key('reconnect', n.connected, line(RECONNECT_COLOR), 'agent (re)connected', "The chip's agent connected to the hub here (its hello accepted): a solid line, ▲ on the time axis")}
    ${key(
      'disconnect',
      n.disconnected,
      `border-left: 1.5px dashed ${RECONNECT_COLOR}; margin-left: 6px; width: 8px`,
      'agent disconnected',
      "The chip's agent's connection ended here (closed, replaced by a newer connection, or the hub stopped): a dashed line, ▽ on the time axis",
    )}
  </div>`;
}
