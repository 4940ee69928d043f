import { LitElement, html, type PropertyValues } from 'lit';
import type { ChipView } from '../../schema/protocol.ts';
import type { ChipAlerts } from './alerts-controller.ts';
import type { ChipGroup } from './fleet-filter.ts';
import { chipHref } from './format.ts';
import { metricDomain, type EnergyByChip, type MetricId } from './heat-metrics.ts';
import { CELL_KINDS, DARK_THEME, LIGHT_THEME, drawHeatmap, type DrawnCells } from './heatmap-draw.ts';
import { heatmapStyles } from './heatmap-styles.ts';
import { hitLabel, hitTest, layoutHeatmap, neighbour, type HeatLayout } from './heatmap-layout.ts';
import { renderHeatLegend, renderHeatTooltip } from './heatmap-parts.ts';
import { minUpdateIntervalMs } from './update-pace.ts';
import { formatRoute, type Grouping } from './view-state.ts';

const KEY_DIR: Record<string, 'left' | 'right' | 'up' | 'down'> = { ArrowLeft: 'left', ArrowRight: 'right', ArrowUp: 'up', ArrowDown: 'down' };

/**
 * `<fleet-heatmap>`: every chip of `groups` as one cell of a single canvas (no element per chip),
 * grouped by host or model, coloured by `metric` on a sequential scale with its legend. Stale
 * and offline chips are hatched and crossed out (never a value), chips with firing alerts
 * outlined, idle-but-powered chips dotted (see heatmap-draw.ts). The cell size is the largest
 * that fits the chips in the window's height. Hovering a cell shows the chip's values and the
 * age of its sample; a click or Enter opens the chip (`#/chip/<id>`), a click on a host's name,
 * Shift+click or H its host view (`#/host/<host>`); arrow keys move the focus.
 * Redraws at most once per animation frame.
 *
 * Test hooks: host `data-testid="fleet-heatmap"`, `data-metric`, `data-chips`, `data-cell` (px),
 * `data-draws` (redraw count); `cellInfo(chipId)` says where a chip's cell is and what it shows;
 * the tooltip is `data-testid="heat-tooltip"` with `data-chip-id`.
 *
 * @fires chip-focus - detail `{ chipId }` when the keyboard focus moves to a chip
 * @csspart canvas - the canvas
 * @csspart legend - the colour scale and the keys
 */
export class FleetHeatmap extends LitElement {
  static override properties = {
    groups: { attribute: false },
    grouping: {},
    metric: {},
    energy: { attribute: false },
    alertsByChip: { attribute: false },
    theme: { reflect: true },
    hoverIndex: { state: true },
  };

  declare groups: readonly ChipGroup[];
  declare grouping: Grouping;
  declare metric: MetricId;
  /** Energy over the range per chip (kWh), for the `energy` metric and the hover text. */
  declare energy: EnergyByChip | undefined;
  declare alertsByChip: ReadonlyMap<string, ChipAlerts>;
  declare hoverIndex: number;
  /** `dark` (default) or `light`: the canvas colours and the legend's (the app sets it from its theme). */
  declare theme: 'dark' | 'light';

  static override styles = heatmapStyles;

  private layout: HeatLayout | null = null;
  private chipsInOrder: ChipView[] = [];
  private drawn: DrawnCells | null = null;
  private focusIndex = -1;
  private size = { width: 0, maxHeight: 0 };
  private laidOutAs: Grouping = 'host';
  private frame = 0;
  private paceTimer: ReturnType<typeof setTimeout> | undefined;
  private lastDraw = 0;
  private draws = 0;
  private hoverPos = { x: 0, y: 0 };
  private readonly resize = new ResizeObserver(() => this.scheduleDraw());

  constructor() {
    super();
    this.groups = [];
    this.grouping = 'host';
    this.metric = 'util';
    this.alertsByChip = new Map();
    this.hoverIndex = -1;
    this.theme = 'dark';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.dataset.testid = 'fleet-heatmap';
    this.resize.observe(this);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resize.disconnect();
    if (this.frame) cancelAnimationFrame(this.frame);
    if (this.paceTimer) clearTimeout(this.paceTimer);
    this.frame = 0;
    this.paceTimer = undefined;
  }

  /** Where a chip's cell is (CSS px within the canvas, and in the viewport) and what it shows; null when not drawn. */
  cellInfo(chipId: string): { x: number; y: number; pageX: number; pageY: number; size: number; kind: string; value: number | null; idle: boolean } | null {
    const L = this.layout;
    const i = L ? L.chipIds.indexOf(chipId) : -1;
    if (!L || !this.drawn || i < 0) return null;
    const r = this.canvas?.getBoundingClientRect();
    const v = this.drawn.values[i];
    return { x: L.xs[i], y: L.ys[i], pageX: (r?.left ?? 0) + L.xs[i] + L.cell / 2, pageY: (r?.top ?? 0) + L.ys[i] + L.cell / 2, size: L.cell, kind: CELL_KINDS[this.drawn.kinds[i]], value: Number.isNaN(v) ? null : v, idle: this.drawn.idle[i] === 1 };
  }

  private get canvas(): HTMLCanvasElement | null {
    return this.renderRoot.querySelector('canvas');
  }

  private domain: [number, number] = [0, 100];

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('groups')) this.chipsInOrder = this.groups.flatMap((g) => g.chips);
    if (changed.has('groups') || changed.has('metric') || changed.has('energy')) this.domain = metricDomain(this.metric, this.chipsInOrder, this.energy);
  }

  protected override updated(changed: PropertyValues<this>): void {
    this.dataset.metric = this.metric;
    this.dataset.chips = String(this.chipsInOrder.length);
    if (changed.has('metric') || changed.has('grouping') || changed.has('theme')) this.scheduleDraw();
    else if (changed.has('groups') || changed.has('energy') || changed.has('alertsByChip')) this.scheduleDraw(true);
  }

  protected override render() {
    const domain = this.domain;
    const i = this.hoverIndex;
    const chip = i >= 0 ? this.chipsInOrder[i] : undefined;
    return html`${renderHeatLegend(this.metric, domain)}
      <div class="wrap">
        <canvas
          part="canvas"
          tabindex="0"
          role="grid"
          aria-label=${`Heatmap of ${this.chipsInOrder.length} chips; arrow keys move, Enter opens a chip`}
          @mousemove=${this.onMove}
          @mouseleave=${() => (this.hoverIndex = -1)}
          @click=${this.onClick}
          @keydown=${this.onKey}
        ></canvas>
        ${chip ? renderHeatTooltip(chip, this.hoverPos, this.energy, this.alertsByChip.get(chip.chipId), this.layout?.width ?? 0) : ''}
      </div>`;
  }

  /**
   * Redraws on the next animation frame; data changes (`paced`) no more often than
   * `minUpdateIntervalMs` for this many chips (alerts that flap many times a second do not make
   * 10,000 cells redraw each time); keyboard focus and size changes at once.
   */
  private scheduleDraw(paced = false): void {
    if (this.frame) return;
    const wait = paced ? this.lastDraw + minUpdateIntervalMs(this.chipsInOrder.length) - performance.now() : 0;
    if (wait > 0) {
      this.paceTimer ??= setTimeout(() => {
        this.paceTimer = undefined;
        this.scheduleDraw();
      }, wait);
      return;
    }
    if (this.paceTimer) clearTimeout(this.paceTimer);
    this.paceTimer = undefined;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private draw(): void {
    const canvas = this.canvas;
    if (!canvas) return;
    const width = Math.floor(this.clientWidth);
    const top = canvas.getBoundingClientRect().top + window.scrollY;
    const maxHeight = Math.max(240, window.innerHeight - top - 12);
    const L = this.layout;
    const order = this.chipsInOrder;
    if (!L || width !== this.size.width || maxHeight !== this.size.maxHeight || this.grouping !== this.laidOutAs || !sameOrder(L, order, this.groups)) {
      this.size = { width, maxHeight };
      this.laidOutAs = this.grouping;
      this.layout = layoutHeatmap(this.groups, this.grouping, width, maxHeight);
    }
    const lay = this.layout!;
    const scale = window.devicePixelRatio || 1;
    const h = Math.max(1, lay.height);
    if (canvas.width !== Math.round(width * scale) || canvas.height !== Math.round(h * scale)) {
      canvas.width = Math.round(width * scale);
      canvas.height = Math.round(h * scale);
      canvas.style.width = `${width}px`;
      canvas.style.height = `${h}px`;
    }
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(scale, 0, 0, scale, 0, 0);
    const theme = this.theme === 'light' ? LIGHT_THEME : DARK_THEME;
    this.drawn = drawHeatmap(ctx, { layout: lay, chips: order, metric: this.metric, domain: this.domain, energy: this.energy, alerts: this.alertsByChip, focus: this.focusIndex, theme }, scale);
    this.draws++;
    this.lastDraw = performance.now();
    this.dataset.cell = String(lay.cell);
    this.dataset.draws = String(this.draws);
  }

  private readonly onMove = (e: MouseEvent) => {
    if (!this.layout) return;
    const r = (e.currentTarget as HTMLCanvasElement).getBoundingClientRect();
    const x = e.clientX - r.left;
    const y = e.clientY - r.top;
    this.hoverPos = { x, y };
    this.hoverIndex = hitTest(this.layout, x, y);
    (e.currentTarget as HTMLCanvasElement).style.cursor = this.hoverIndex >= 0 || hitLabel(this.layout, x, y) >= 0 ? 'pointer' : 'default';
  };

  private readonly onClick = (e: MouseEvent) => {
    if (!this.layout) return;
    const r = (e.currentTarget as HTMLCanvasElement).getBoundingClientRect();
    const x = e.clientX - r.left;
    const y = e.clientY - r.top;
    const i = hitTest(this.layout, x, y);
    if (i >= 0) {
      location.hash = e.shiftKey ? this.hostHref(i) : chipHref(this.layout.chipIds[i]);
      return;
    }
    const g = hitLabel(this.layout, x, y);
    if (g >= 0) location.hash = formatRoute({ view: 'host', host: this.layout.groups[g].group.label, range: '1h' });
  };

  /** The host view of the chip in cell `i`. */
  private hostHref(i: number): string {
    return formatRoute({ view: 'host', host: this.chipsInOrder[i].host, range: '1h' });
  }

  private readonly onKey = (e: KeyboardEvent) => {
    const L = this.layout;
    if (!L || L.chipIds.length === 0) return;
    if (e.key === 'Enter' && this.focusIndex >= 0) {
      location.hash = chipHref(L.chipIds[this.focusIndex]);
      return;
    }
    if ((e.key === 'h' || e.key === 'H') && this.focusIndex >= 0) {
      location.hash = this.hostHref(this.focusIndex);
      return;
    }
    const dir = KEY_DIR[e.key];
    if (!dir) return;
    e.preventDefault();
    const next = this.focusIndex < 0 ? 0 : neighbour(L, this.focusIndex, dir);
    if (next < 0) return;
    this.focusIndex = next;
    this.hoverPos = { x: L.xs[next] + L.cell, y: L.ys[next] + L.cell };
    this.hoverIndex = next;
    this.dispatchEvent(new CustomEvent('chip-focus', { detail: { chipId: L.chipIds[next] }, bubbles: true, composed: true }));
    this.scheduleDraw();
  };
}

/** Whether the layout still holds exactly these chips in this order, in groups of the same labels and sizes. */
function sameOrder(L: HeatLayout, order: readonly ChipView[], groups: readonly ChipGroup[]): boolean {
  if (L.chipIds.length !== order.length || L.groups.length !== groups.length) return false;
  for (let k = 0; k < groups.length; k++) {
    const g = L.groups[k].group;
    if (g.label !== groups[k].label || g.chips.length !== groups[k].chips.length) return false;
  }
  for (let i = 0; i < order.length; i++) if (L.chipIds[i] !== order[i].chipId) return false;
  return true;
}

if (!customElements.get('fleet-heatmap')) customElements.define('fleet-heatmap', FleetHeatmap);

declare global {
  interface HTMLElementTagNameMap {
    'fleet-heatmap': FleetHeatmap;
  }
}
