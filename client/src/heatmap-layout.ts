/**
 * Where each chip's cell goes on the heatmap's canvas. Pure: groups and a box in, positions out.
 *
 * Host groups are short rows (a host's chips side by side, up to HOST_LINE cells, wrapping
 * beyond), laid out like newspaper columns: as many host rows across as fit, left to right then
 * down, with the host's name before its cells when the cells are large enough to read it.
 * Model groups (and the ungrouped view) are sections: a heading line, then the chips wrapping
 * across the full width. The cell size is the largest that fits every chip in `maxHeight`
 * (down to MIN_CELL; below that the canvas grows taller and the page scrolls).
 */
import type { ChipGroup } from './fleet-filter.ts';
import type { Grouping } from './view-state.ts';

export const MAX_CELL = 40;
export const MIN_CELL = 4;
/** Cells per line of a host row. */
export const HOST_LINE = 16;
/** Width of a host label (px) when labels are shown; they are shown while cells can be LABEL_MIN_CELL px or more. */
export const HOST_LABEL_W = 112;
export const LABEL_MIN_CELL = 16;
/** Height of a model section's heading (px). */
export const SECTION_HEAD = 20;
const COL_GAP = 10;
const ROW_GAP = 3;

export interface GroupBox {
  group: ChipGroup;
  /** Where the group's label is drawn (left, middle of its first line), or null for none. */
  labelX: number;
  labelY: number;
  /** The group's box (label included). */
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface HeatLayout {
  grouping: Grouping;
  cell: number;
  /** Distance between cell origins (cell + gap). */
  pitch: number;
  width: number;
  height: number;
  /** Whether host names are drawn (host grouping with cells large enough). */
  labels: boolean;
  /** Label width (px) in front of each host row; 0 without labels. */
  labelW: number;
  /** Every chip in drawing order: `chipIds[i]` is at (`xs[i]`, `ys[i]`), group `groupOf[i]`. */
  chipIds: string[];
  xs: Float32Array;
  ys: Float32Array;
  groupOf: Uint32Array;
  groups: GroupBox[];
}

function gapFor(cell: number): number {
  return cell >= 14 ? 2 : 1;
}

function emptyLayout(width: number): HeatLayout {
  return { grouping: 'host', cell: MAX_CELL, pitch: MAX_CELL + 2, width, height: 0, labels: false, labelW: 0, chipIds: [], xs: new Float32Array(0), ys: new Float32Array(0), groupOf: new Uint32Array(0), groups: [] };
}

/** The height the groups take at a cell size (no positions), or Infinity when they cannot be laid out. */
export function layoutHeight(groups: readonly ChipGroup[], grouping: Grouping, width: number, cell: number, labels: boolean, line = hostLines(groups)[0]): number {
  const pitch = cell + gapFor(cell);
  if (grouping === 'host') {
    const blockW = (labels ? HOST_LABEL_W : 0) + line * pitch;
    const cols = Math.max(1, Math.floor((width + COL_GAP) / (blockW + COL_GAP)));
    if (blockW > width && cols === 1 && line * pitch > width) return Infinity;
    let h = 0;
    for (let i = 0; i < groups.length; i += cols) {
      let lines = 1;
      for (let k = i; k < Math.min(groups.length, i + cols); k++) lines = Math.max(lines, Math.ceil(groups[k].chips.length / line));
      h += lines * pitch + ROW_GAP;
    }
    return h;
  }
  const perLine = Math.floor((width + gapFor(cell)) / pitch);
  if (perLine < 1) return Infinity;
  let h = 0;
  for (const g of groups) h += (g.label ? SECTION_HEAD : 0) + Math.ceil(g.chips.length / perLine) * pitch + ROW_GAP * 2;
  return h;
}

/**
 * Cells per line of a host row to try: the largest host's chip count (up to HOST_LINE), and the
 * most common one when smaller (8-GPU hosts beside 16-chip Trainium hosts: those then take two lines).
 */
export function hostLines(groups: readonly ChipGroup[]): number[] {
  const counts = new Map<number, number>();
  let max = 1;
  for (const g of groups) {
    const n = Math.min(HOST_LINE, g.chips.length);
    max = Math.max(max, n);
    counts.set(n, (counts.get(n) ?? 0) + 1);
  }
  let mode = max;
  let best = 0;
  for (const [n, k] of counts) if (k > best || (k === best && n > mode)) [mode, best] = [n, k];
  return mode < max && mode >= 4 ? [max, mode] : [max];
}

/** The largest cell size (with the host line length, and whether host labels fit) for which the groups fit `maxHeight`. */
export function chooseCell(groups: readonly ChipGroup[], grouping: Grouping, width: number, maxHeight: number): { cell: number; labels: boolean; line: number } {
  const lines = grouping === 'host' ? hostLines(groups) : [1];
  // Named hosts first, while their cells stay LABEL_MIN_CELL or larger; then the largest cells.
  if (grouping === 'host') {
    for (let cell = MAX_CELL; cell >= LABEL_MIN_CELL; cell--) {
      for (const line of lines) if (layoutHeight(groups, grouping, width, cell, true, line) <= maxHeight) return { cell, labels: true, line };
    }
  }
  for (let cell = MAX_CELL; cell >= MIN_CELL; cell--) {
    for (const line of lines) if (layoutHeight(groups, grouping, width, cell, false, line) <= maxHeight) return { cell, labels: false, line };
  }
  return { cell: MIN_CELL, labels: false, line: lines[lines.length - 1] };
}

/** Lays out `groups` in a box `width` wide, fitting `maxHeight` when it can. */
export function layoutHeatmap(groups: readonly ChipGroup[], grouping: Grouping, width: number, maxHeight: number): HeatLayout {
  const n = groups.reduce((s, g) => s + g.chips.length, 0);
  if (n === 0 || width <= 0) return emptyLayout(width);
  const { cell, labels, line } = chooseCell(groups, grouping, width, maxHeight);
  const pitch = cell + gapFor(cell);
  const out: HeatLayout = { grouping, cell, pitch, width, height: 0, labels, labelW: labels ? HOST_LABEL_W : 0, chipIds: new Array<string>(n), xs: new Float32Array(n), ys: new Float32Array(n), groupOf: new Uint32Array(n), groups: [] };
  let i = 0;
  const place = (g: number, x: number, y: number, id: string) => {
    out.chipIds[i] = id;
    out.xs[i] = x;
    out.ys[i] = y;
    out.groupOf[i] = g;
    i++;
  };
  if (grouping === 'host') {
    const blockW = out.labelW + line * pitch;
    const cols = Math.max(1, Math.floor((width + COL_GAP) / (blockW + COL_GAP)));
    let y = 0;
    for (let r = 0; r < groups.length; r += cols) {
      let lines = 1;
      for (let k = r; k < Math.min(groups.length, r + cols); k++) {
        const g = groups[k];
        const x0 = (k - r) * (blockW + COL_GAP);
        const gl = Math.ceil(g.chips.length / line);
        lines = Math.max(lines, gl);
        out.groups.push({ group: g, labelX: x0, labelY: y + pitch / 2, x: x0, y, w: blockW, h: gl * pitch });
        g.chips.forEach((c, j) => place(k, x0 + out.labelW + (j % line) * pitch, y + Math.floor(j / line) * pitch, c.chipId));
      }
      y += lines * pitch + ROW_GAP;
    }
    out.height = Math.ceil(y);
    return out;
  }
  const perLine = Math.max(1, Math.floor((width + gapFor(cell)) / pitch));
  let y = 0;
  groups.forEach((g, k) => {
    const head = g.label ? SECTION_HEAD : 0;
    const lines = Math.ceil(g.chips.length / perLine);
    out.groups.push({ group: g, labelX: 0, labelY: y + head / 2, x: 0, y, w: width, h: head + lines * pitch });
    g.chips.forEach((c, j) => place(k, (j % perLine) * pitch, y + head + Math.floor(j / perLine) * pitch, c.chipId));
    y += head + lines * pitch + ROW_GAP * 2;
  });
  out.height = Math.ceil(y);
  return out;
}

/** The index (in `layout.chipIds`) of the cell under (x, y), or -1. */
export function hitTest(layout: HeatLayout, x: number, y: number): number {
  const c = layout.cell;
  for (let i = 0; i < layout.chipIds.length; i++) {
    const dx = x - layout.xs[i];
    const dy = y - layout.ys[i];
    if (dx >= 0 && dy >= 0 && dx < c && dy < c) return i;
  }
  return -1;
}

/**
 * The cell next to `from` in a direction, by position: the nearest cell whose centre lies that
 * way (within half a cell of the same line or column first). -1 when none.
 */
export function neighbour(layout: HeatLayout, from: number, dir: 'left' | 'right' | 'up' | 'down'): number {
  const n = layout.chipIds.length;
  if (n === 0) return -1;
  if (from < 0 || from >= n) return 0;
  const x0 = layout.xs[from];
  const y0 = layout.ys[from];
  let best = -1;
  let bestScore = Infinity;
  for (let i = 0; i < n; i++) {
    if (i === from) continue;
    const dx = layout.xs[i] - x0;
    const dy = layout.ys[i] - y0;
    const along = dir === 'left' ? -dx : dir === 'right' ? dx : dir === 'up' ? -dy : dy;
    const across = dir === 'left' || dir === 'right' ? Math.abs(dy) : Math.abs(dx);
    if (along <= 0) continue;
    const score = across < layout.cell / 2 ? along : along + across * 4 + 1e6;
    if (score < bestScore) {
      bestScore = score;
      best = i;
    }
  }
  return best;
}

/** The group whose label (host name, left of its cells) is under (x, y), or -1. Only with host labels. */
export function hitLabel(layout: HeatLayout, x: number, y: number): number {
  if (layout.labelW === 0) return -1;
  return layout.groups.findIndex((g) => x >= g.x && x < g.x + layout.labelW && y >= g.y && y < g.y + g.h);
}
