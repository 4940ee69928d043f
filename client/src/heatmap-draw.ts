/**
 * Drawing the heatmap's cells on a 2D canvas (no DOM per chip). What each cell shows:
 *
 * - a live chip with a reading: its colour on the sequential scale;
 * - a live chip without that reading (the source does not report it): plain grey, "no reading";
 * - a stale chip: diagonal hatching — never a value colour, so a stale chip never reads as 0;
 * - an offline chip: a dark cell crossed out;
 * - idle but powered (live, utilization under 5 %, drawing power): an orange dot, whatever the metric;
 * - firing alerts: an outline in the worst severity's colour; the focused cell: a white outline;
 * - energy over the range (history, not a live reading): every chip with a figure shows its
 *   colour, a stale chip with one stroke over it, an offline chip crossed out over it.
 *
 * It records what it drew per cell (`CellKind`) and the chip's figure (a live reading, or the
 * energy over the range whatever the status) for tests.
 */
import type { ChipView } from '../../schema/protocol.ts';
import type { ChipAlerts } from './alerts-controller.ts';
import { severityColor } from './alert-look.ts';
import { PALETTE, paletteIndex } from './heat-scale.ts';
import { isIdlePowered, metricValue, type EnergyByChip, type MetricId } from './heat-metrics.ts';
import type { HeatLayout } from './heatmap-layout.ts';

export type CellKind = 'value' | 'no-reading' | 'stale' | 'offline';
export const CELL_KINDS: readonly CellKind[] = ['value', 'no-reading', 'stale', 'offline'];

export interface HeatTheme {
  background: string;
  text: string;
  noReading: string;
  staleBase: string;
  staleStripe: string;
  offline: string;
  offlineMark: string;
  idle: string;
  focus: string;
}

export const DARK_THEME: HeatTheme = {
  background: '#0b0e13',
  text: '#c9d1dc',
  noReading: '#3a414d',
  staleBase: '#2a2f38',
  staleStripe: '#8a8f99',
  offline: '#15181e',
  offlineMark: '#5d6573',
  idle: '#ff8a1f',
  focus: '#ffffff',
};

export const LIGHT_THEME: HeatTheme = {
  background: '#f6f7f9',
  text: '#27303b',
  noReading: '#c9ced6',
  staleBase: '#e3e5e9',
  staleStripe: '#7b818b',
  offline: '#d4d7dc',
  offlineMark: '#6b7380',
  idle: '#e0600a',
  focus: '#111111',
};

/** What was drawn in each cell (index as in `layout.chipIds`). */
export interface DrawnCells {
  kinds: Uint8Array;
  values: Float64Array;
  idle: Uint8Array;
}

export interface DrawInput {
  layout: HeatLayout;
  /** The chips in layout order (`chips[i]` is `layout.chipIds[i]`). */
  chips: readonly ChipView[];
  metric: MetricId;
  domain: [number, number];
  energy?: EnergyByChip;
  alerts: ReadonlyMap<string, ChipAlerts>;
  focus: number;
  theme: HeatTheme;
}

const patterns = new WeakMap<CanvasRenderingContext2D, Map<string, CanvasPattern>>();

/** A hatch pattern in the theme's stale colours (cached per context and colours). */
function stalePattern(ctx: CanvasRenderingContext2D, t: HeatTheme, scale: number): CanvasPattern | string {
  let byKey = patterns.get(ctx);
  if (!byKey) patterns.set(ctx, (byKey = new Map()));
  const key = `${t.staleBase}${t.staleStripe}${scale}`;
  let p = byKey.get(key);
  if (!p) {
    const size = Math.max(4, Math.round(4 * scale));
    const tile = document.createElement('canvas');
    tile.width = tile.height = size;
    const c = tile.getContext('2d');
    if (!c) return t.staleBase;
    c.fillStyle = t.staleBase;
    c.fillRect(0, 0, size, size);
    c.strokeStyle = t.staleStripe;
    c.lineWidth = Math.max(1, scale);
    c.beginPath();
    c.moveTo(0, size);
    c.lineTo(size, 0);
    c.moveTo(-size / 2, size / 2);
    c.lineTo(size / 2, -size / 2);
    c.moveTo(size / 2, size * 1.5);
    c.lineTo(size * 1.5, size / 2);
    c.stroke();
    p = ctx.createPattern(tile, 'repeat') ?? undefined;
    if (!p) return t.staleBase;
    byKey.set(key, p);
  }
  return p;
}

/** Draws every cell (and host or model labels) in CSS pixels; returns what each cell shows. */
export function drawHeatmap(ctx: CanvasRenderingContext2D, d: DrawInput, scale: number): DrawnCells {
  const { layout: L, chips, theme: t } = d;
  const n = L.chipIds.length;
  const out: DrawnCells = { kinds: new Uint8Array(n), values: new Float64Array(n).fill(NaN), idle: new Uint8Array(n) };
  ctx.clearRect(0, 0, L.width, L.height);
  const s = L.cell;
  const [lo, hi] = d.domain;
  // Value cells are batched by colour (one path and one fill per palette entry, not one per cell);
  // the other cells, glyphs and outlines are drawn after them.
  const byColour: number[][] = PALETTE.map(() => []);
  const idle: number[] = [];
  const rest: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = chips[i];
    const v = metricValue(c, d.metric, d.energy);
    if (v != null) out.values[i] = v;
    // Energy over the range is history: every chip with a figure shows it, its status marked over it.
    if (v != null && (c.status === 'live' || d.metric === 'energy')) {
      out.kinds[i] = 0;
      byColour[paletteIndex(v, lo, hi)].push(i);
      if (isIdlePowered(c)) idle.push(i);
      if (c.status !== 'live' || d.alerts.has(c.chipId)) rest.push(i);
    } else {
      out.kinds[i] = c.status === 'offline' ? 3 : c.status === 'stale' ? 2 : 1;
      rest.push(i);
    }
  }
  byColour.forEach((cells, k) => {
    if (!cells.length) return;
    ctx.fillStyle = PALETTE[k];
    ctx.beginPath();
    for (const i of cells) ctx.rect(L.xs[i], L.ys[i], s, s);
    ctx.fill();
  });
  if (idle.length) {
    const r = Math.min(5, Math.max(1.5, s / 5));
    ctx.fillStyle = t.idle;
    ctx.beginPath();
    for (const i of idle) {
      out.idle[i] = 1;
      ctx.moveTo(L.xs[i] + s / 2 + r, L.ys[i] + s / 2);
      ctx.arc(L.xs[i] + s / 2, L.ys[i] + s / 2, r, 0, Math.PI * 2);
    }
    ctx.fill();
  }
  const hatch = rest.length ? stalePattern(ctx, t, scale) : t.staleBase;
  for (const i of rest) {
    const c = chips[i];
    const x = L.xs[i];
    const y = L.ys[i];
    const kind = out.kinds[i];
    if (kind === 3 || (kind === 0 && c.status === 'offline')) {
      if (kind === 3) {
        ctx.fillStyle = t.offline;
        ctx.fillRect(x, y, s, s);
      }
      if (s >= 6) cross(ctx, x, y, s, t.offlineMark, true);
    } else if (kind === 2) {
      ctx.fillStyle = hatch;
      ctx.fillRect(x, y, s, s);
    } else if (kind === 0 && c.status === 'stale') {
      if (s >= 6) cross(ctx, x, y, s, t.staleStripe, false);
    } else if (kind === 1) {
      ctx.fillStyle = t.noReading;
      ctx.fillRect(x, y, s, s);
    }
    const a = d.alerts.get(c.chipId);
    if (a) {
      const w = s >= 10 ? 2 : 1;
      ctx.strokeStyle = severityColor(a.severity);
      ctx.lineWidth = w;
      ctx.strokeRect(x + w / 2, y + w / 2, s - w, s - w);
    }
  }
  if (d.focus >= 0 && d.focus < n) {
    ctx.strokeStyle = t.focus;
    ctx.lineWidth = 2;
    ctx.strokeRect(L.xs[d.focus] - 1, L.ys[d.focus] - 1, s + 2, s + 2);
  }
  drawLabels(ctx, L, t);
  return out;
}

/** A diagonal stroke (both diagonals when `both`: crossed out) inside a cell. */
function cross(ctx: CanvasRenderingContext2D, x: number, y: number, s: number, colour: string, both: boolean): void {
  ctx.strokeStyle = colour;
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(x + 2, y + s - 2);
  ctx.lineTo(x + s - 2, y + 2);
  if (both) {
    ctx.moveTo(x + 2, y + 2);
    ctx.lineTo(x + s - 2, y + s - 2);
  }
  ctx.stroke();
}

function drawLabels(ctx: CanvasRenderingContext2D, L: HeatLayout, t: HeatTheme): void {
  const host = L.grouping === 'host';
  if (host ? L.labelW === 0 : !L.groups.some((g) => g.group.label)) return;
  ctx.fillStyle = t.text;
  ctx.textBaseline = 'middle';
  ctx.font = host ? `${Math.min(13, L.cell)}px system-ui, sans-serif` : '600 13px system-ui, sans-serif';
  for (const g of L.groups) {
    if (!g.group.label) continue;
    const text = host ? g.group.label : `${g.group.label} · ${g.group.chips.length} ${g.group.chips.length === 1 ? 'chip' : 'chips'}${g.group.sub ? ` · ${g.group.sub}` : ''}`;
    ctx.fillText(text, g.labelX, g.labelY, host ? L.labelW - 8 : L.width);
  }
}
