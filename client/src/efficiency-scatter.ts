import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import type { EfficiencyRow } from '../../schema/api-answers.ts';
import { fmtJPerUnit, fmtPct, fmtSig, fmtWatts } from './efficiency-format.ts';
import { fmtTick, linearScale, modelColors, nearestPoint, scatterAxes, scatterPoints, type Axis, type ScatterPoint } from './efficiency-plot.ts';
import { ThemeController, cssColor } from './theme.ts';

/** Space around the plot area (CSS px) for the tick labels and axis titles. */
const MARGIN = { left: 64, right: 16, top: 12, bottom: 44 };
const HEIGHT = 320;
const DOT_R = 4.5;

/**
 * `<efficiency-scatter>`: every chip of `rows` (a `groupBy=chip` efficiency answer) in one unit as
 * a dot at its average power (x, W) and its throughput (y, units per second per chip), coloured
 * by model (legend above), drawn on a canvas. Chips whose power is estimated (Neuron) are rings,
 * not discs. A power cap's sweet spot shows as capped chips sitting left at a slightly lower
 * throughput. Hovering a dot shows its chip, host, model, job (the row's, else the one running on the
 * chip now: `jobOf`) and figures; clicking it opens the chip.
 *
 * Test hooks: host `data-testid="efficiency-scatter"` with `data-points` (dots drawn);
 * `data-testid="scatter-legend"` (one `data-model` entry per model); `data-testid="scatter-tooltip"`
 * with `data-chip-id` while a dot is hovered; `pointAt(chipId)` gives a dot's viewport position.
 */
export class EfficiencyScatter extends LitElement {
  static override properties = {
    rows: { attribute: false },
    unit: {},
    palette: { attribute: false },
    jobOf: { attribute: false },
    hover: { state: true },
  };

  declare rows: readonly EfficiencyRow[];
  declare unit: string;
  /** Colours by model, shared with the page's bars (absent: the models of the points, in name order). */
  declare palette: ReadonlyMap<string, string> | undefined;
  /** The job running on a chip now (the live fleet's), for a chip row that names none. */
  declare jobOf: ((chipId: string) => string | undefined) | undefined;
  /** The index of the hovered point, -1 for none. */
  declare hover: number;

  private readonly themeCtl = new ThemeController(this);
  private points: ScatterPoint[] = [];
  private pixels: { x: number; y: number }[] = [];
  private colors: ReadonlyMap<string, string> = new Map();
  private axes: { x: Axis; y: Axis } = scatterAxes([]);
  private frame = 0;
  private readonly resize = new ResizeObserver(() => this.scheduleDraw());

  static override styles = css`
    :host {
      display: block;
      position: relative;
      min-width: 0;
      font-size: 12px;
      color: var(--fs-text-soft);
    }
    .legend {
      display: flex;
      flex-wrap: wrap;
      gap: 4px 14px;
      margin: 0 0 6px;
      color: var(--fs-muted);
    }
    .legend span {
      display: inline-flex;
      align-items: center;
      gap: 5px;
    }
    .sw {
      width: 10px;
      height: 10px;
      border-radius: 50%;
    }
    .ring {
      box-sizing: border-box;
      border: 2px solid var(--fs-muted);
      background: transparent;
    }
    .wrap {
      position: relative;
    }
    canvas {
      display: block;
      width: 100%;
      height: ${HEIGHT}px;
    }
    .tip {
      position: absolute;
      z-index: 3;
      pointer-events: none;
      min-width: 200px;
      padding: 6px 9px;
      border-radius: 6px;
      background: var(--fs-surface);
      border: 1px solid var(--fs-border);
      color: var(--fs-text);
      box-shadow: 0 4px 14px rgba(0, 0, 0, 0.35);
      line-height: 1.45;
      white-space: nowrap;
    }
    .tip dl {
      display: grid;
      grid-template-columns: auto auto;
      gap: 0 10px;
      margin: 4px 0 0;
    }
    .tip dt {
      color: var(--fs-faint);
    }
    .tip dd {
      margin: 0;
      font-variant-numeric: tabular-nums;
    }
    .hint {
      margin-top: 3px;
      color: var(--fs-faint);
    }
    .empty {
      position: absolute;
      inset: 0;
      display: grid;
      place-items: center;
      color: var(--fs-faint);
      pointer-events: none;
    }
  `;

  constructor() {
    super();
    this.rows = [];
    this.unit = '';
    this.palette = undefined;
    this.jobOf = undefined;
    this.hover = -1;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.dataset.testid = 'efficiency-scatter';
    this.resize.observe(this);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resize.disconnect();
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
  }

  /** Where a chip's dot is, in viewport px; null when it is not drawn. */
  pointAt(chipId: string): { x: number; y: number } | null {
    const i = this.points.findIndex((p) => p.row.chipId === chipId);
    const r = this.canvas?.getBoundingClientRect();
    if (i < 0 || !r || !this.pixels[i]) return null;
    return { x: r.left + this.pixels[i]!.x, y: r.top + this.pixels[i]!.y };
  }

  private get canvas(): HTMLCanvasElement | null {
    return this.renderRoot.querySelector('canvas');
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('rows') || changed.has('unit') || changed.has('palette')) {
      const keep = this.hover >= 0 ? this.points[this.hover]?.row.chipId : undefined;
      this.points = scatterPoints(this.rows, this.unit);
      const own = modelColors(this.points.map((p) => p.model));
      // the legend: the models of the points, in name order
      this.colors = new Map([...own.keys()].map((m) => [m, this.palette?.get(m) ?? own.get(m)!]));
      this.axes = scatterAxes(this.points);
      this.hover = keep ? this.points.findIndex((p) => p.row.chipId === keep) : -1;
    }
  }

  protected override updated(): void {
    this.dataset.points = String(this.points.length);
    this.scheduleDraw();
  }

  protected override render() {
    const p = this.hover >= 0 ? this.points[this.hover] : undefined;
    const anyEstimated = this.points.some((q) => q.estimated);
    return html`<div class="legend" data-testid="scatter-legend">
        ${[...this.colors].map(([m, c]) => html`<span data-model=${m}><span class="sw" style=${`background:${c}`}></span>${m}</span>`)}
        ${anyEstimated ? html`<span title="Neuron reports power as a percentage of an assumed maximum"><span class="sw ring"></span>power estimated</span>` : nothing}
      </div>
      <div class="wrap">
        <canvas
          role="img"
          aria-label=${`Average power against ${this.unit || 'units'} per second per chip, ${this.points.length} chips`}
          @mousemove=${this.onMove}
          @mouseleave=${() => (this.hover = -1)}
          @click=${this.onClick}
        ></canvas>
        ${this.points.length === 0 ? html`<div class="empty">No chip has both power and ${this.unit || 'work'} counters in this range.</div>` : nothing}
        ${p ? this.renderTip(p, this.pixels[this.hover]) : nothing}
      </div>`;
  }

  private renderTip(p: ScatterPoint, at: { x: number; y: number } | undefined) {
    if (!at) return nothing;
    const r = p.row;
    const w = this.clientWidth;
    const left = at.x + 250 > w ? Math.max(0, at.x - 250) : at.x + 12;
    const top = Math.max(0, at.y - 20);
    return html`<div class="tip" data-testid="scatter-tooltip" data-chip-id=${r.chipId ?? ''} style=${`left:${left}px;top:${top}px`}>
      <b>${r.chipId ?? r.label}</b>
      <dl>
        <dt>Host</dt><dd>${r.host ?? '—'}</dd>
        <dt>Model</dt><dd>${r.model ?? '—'}</dd>
        <dt>Job</dt><dd>${r.job ?? (r.jobs > 1 ? `${r.jobs} jobs` : (r.chipId && this.jobOf?.(r.chipId)) || '—')}</dd>
        <dt>Power</dt><dd>${p.estimated ? '~' : ''}${fmtWatts(p.x)}${p.estimated ? ' (estimated)' : ''}</dd>
        <dt>Throughput</dt><dd>${fmtSig(p.y)} ${this.unit}/s</dd>
        <dt>Energy</dt><dd>${fmtJPerUnit(r.jPerUnit, this.unit)}</dd>
        <dt>Utilization</dt><dd>${fmtPct(r.avgUtilPct)}</dd>
      </dl>
      <div class="hint">Click: the chip</div>
    </div>`;
  }

  private scheduleDraw(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private draw(): void {
    const canvas = this.canvas;
    if (!canvas) return;
    const width = Math.max(200, Math.floor(canvas.clientWidth || this.clientWidth));
    const height = HEIGHT;
    const scale = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(width * scale) || canvas.height !== Math.round(height * scale)) {
      canvas.width = Math.round(width * scale);
      canvas.height = Math.round(height * scale);
    }
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(scale, 0, 0, scale, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const axisColor = cssColor(this, '--fs-axis', '#9aa4b2');
    const gridColor = cssColor(this, '--fs-grid', 'rgba(255,255,255,0.07)');
    const tickColor = cssColor(this, '--fs-tick', 'rgba(255,255,255,0.15)');
    const textColor = cssColor(this, '--fs-text', '#e8edf3');
    void this.themeCtl.theme; // redrawn (updated) when the theme switches
    const { x: ax, y: ay } = this.axes;
    const x0 = MARGIN.left;
    const x1 = width - MARGIN.right;
    const y0 = height - MARGIN.bottom;
    const y1 = MARGIN.top;
    const sx = linearScale(ax.min, ax.max, x0, x1);
    const sy = linearScale(ay.min, ay.max, y0, y1);

    ctx.font = '11px system-ui, sans-serif';
    ctx.lineWidth = 1;
    // grid and ticks
    ctx.strokeStyle = gridColor;
    ctx.beginPath();
    for (const t of ax.ticks) {
      const x = Math.round(sx(t)) + 0.5;
      ctx.moveTo(x, y1);
      ctx.lineTo(x, y0);
    }
    for (const t of ay.ticks) {
      const y = Math.round(sy(t)) + 0.5;
      ctx.moveTo(x0, y);
      ctx.lineTo(x1, y);
    }
    ctx.stroke();
    ctx.strokeStyle = tickColor;
    ctx.beginPath();
    ctx.moveTo(x0 + 0.5, y1);
    ctx.lineTo(x0 + 0.5, y0 + 0.5);
    ctx.lineTo(x1, y0 + 0.5);
    for (const t of ax.ticks) {
      const x = Math.round(sx(t)) + 0.5;
      ctx.moveTo(x, y0);
      ctx.lineTo(x, y0 + 5);
    }
    for (const t of ay.ticks) {
      const y = Math.round(sy(t)) + 0.5;
      ctx.moveTo(x0 - 5, y);
      ctx.lineTo(x0, y);
    }
    ctx.stroke();
    ctx.fillStyle = axisColor;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (const t of ax.ticks) ctx.fillText(fmtTick(t, ax.step), sx(t), y0 + 7);
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const t of ay.ticks) ctx.fillText(fmtTick(t, ay.step), x0 - 8, sy(t));
    // axis titles
    ctx.font = '12px system-ui, sans-serif';
    ctx.fillStyle = textColor;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    ctx.fillText('Average power per chip (W)', (x0 + x1) / 2, height - 4);
    ctx.save();
    ctx.translate(14, (y0 + y1) / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = 'middle';
    ctx.fillText(`${this.unit || 'units'} per second per chip`, 0, 0);
    ctx.restore();

    // dots: discs, rings where the power is estimated; the hovered one last, larger
    this.pixels = this.points.map((p) => ({ x: sx(p.x), y: sy(p.y) }));
    const order = this.points.map((_, i) => i).filter((i) => i !== this.hover);
    if (this.hover >= 0 && this.hover < this.points.length) order.push(this.hover);
    for (const i of order) {
      const p = this.points[i]!;
      const { x, y } = this.pixels[i]!;
      const c = this.colors.get(p.model) ?? '#888';
      const r = i === this.hover ? DOT_R + 2 : DOT_R;
      ctx.beginPath();
      ctx.arc(x, y, r, 0, Math.PI * 2);
      if (p.estimated) {
        ctx.lineWidth = 2;
        ctx.strokeStyle = c;
        ctx.stroke();
      } else {
        ctx.globalAlpha = 0.85;
        ctx.fillStyle = c;
        ctx.fill();
        ctx.globalAlpha = 1;
      }
      if (i === this.hover) {
        ctx.lineWidth = 1.5;
        ctx.strokeStyle = textColor;
        ctx.beginPath();
        ctx.arc(x, y, r + 2, 0, Math.PI * 2);
        ctx.stroke();
      }
    }
  }

  private readonly onMove = (e: MouseEvent) => {
    const r = (e.currentTarget as HTMLCanvasElement).getBoundingClientRect();
    const i = nearestPoint(this.pixels, e.clientX - r.left, e.clientY - r.top, 10);
    (e.currentTarget as HTMLCanvasElement).style.cursor = i >= 0 ? 'pointer' : 'default';
    if (i !== this.hover) this.hover = i;
  };

  private readonly onClick = (e: MouseEvent) => {
    const r = (e.currentTarget as HTMLCanvasElement).getBoundingClientRect();
    const i = nearestPoint(this.pixels, e.clientX - r.left, e.clientY - r.top, 10);
    const id = i >= 0 ? this.points[i]!.row.chipId : undefined;
    if (id) location.hash = `#/chip/${encodeURIComponent(id)}`;
  };
}

if (!customElements.get('efficiency-scatter')) customElements.define('efficiency-scatter', EfficiencyScatter);

declare global {
  interface HTMLElementTagNameMap {
    'efficiency-scatter': EfficiencyScatter;
  }
}
