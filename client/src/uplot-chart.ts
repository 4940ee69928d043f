import { LitElement, css, html, unsafeCSS, type PropertyValues } from 'lit';
import uPlot from 'uplot';
import uplotCss from 'uplot/dist/uPlot.min.css?inline';
import { themedAxes } from './chart-options.ts';
import { ThemeController } from './theme.ts';

/** uPlot options without the size, which the element owns. */
export type ChartOptions = Omit<uPlot.Options, 'width' | 'height'>;

/**
 * `<uplot-chart>`: one uPlot time-series chart that fills the element.
 *
 * The uPlot instance is created once (in `firstUpdated`, or again if the element
 * is re-attached after `disconnectedCallback` destroyed it, or if `options` is
 * replaced), fed with `setData()`, resized by a ResizeObserver and destroyed in
 * `disconnectedCallback`. uPlot's stylesheet is adopted into the shadow root.
 *
 * The host carries `data-points` = the number of x values currently plotted,
 * updated on every `setData`.
 *
 * Axis, grid and tick colours come from the theme's `--fs-axis`, `--fs-grid`, `--fs-tick` when the
 * plot is built; it is built again when the system switches between light and dark.
 *
 * Size it from outside (`height`, or `--chart-height`, default 200px).
 *
 * @csspart title - the chart title line
 * @csspart plot - the element uPlot renders into
 */
export class UplotChart extends LitElement {
  static override properties = {
    options: { attribute: false },
    heading: { type: String },
  };

  /** uPlot options; replacing the object recreates the chart. */
  declare options: ChartOptions | undefined;
  /** Title shown above the plot. */
  declare heading: string;

  static override styles = [
    unsafeCSS(uplotCss),
    css`
      :host {
        display: flex;
        flex-direction: column;
        height: var(--chart-height, 200px);
        min-width: 0;
        color: var(--fs-text-soft);
        font: 12px system-ui, sans-serif;
      }
      .title {
        font-size: 13px;
        font-weight: 600;
        color: var(--fs-text);
        padding: 0 0 4px 4px;
        white-space: nowrap;
        overflow: hidden;
        text-overflow: ellipsis;
      }
      .plot {
        position: relative;
        flex: 1 1 auto;
        min-height: 0;
        overflow: hidden;
      }
      .uplot {
        font-family: inherit;
      }
      .u-legend {
        font-size: 12px;
        color: var(--fs-text-soft);
      }
      .u-legend .u-marker {
        width: 0.8em;
        height: 0.8em;
      }
      .u-select {
        background: rgba(138, 180, 255, 0.15);
      }
    `,
  ];

  private plot: uPlot | null = null;
  private readonly themeCtl = new ThemeController(this);
  /** The theme the plot was built in. */
  private builtTheme = '';
  private data: uPlot.AlignedData = [[]];
  private resizeObserver: ResizeObserver | null = null;

  constructor() {
    super();
    this.options = undefined;
    this.heading = '';
  }

  /** The live uPlot instance, if created. */
  get uplot(): uPlot | null {
    return this.plot;
  }

  /** Replaces the plotted data (x = seconds since epoch, then one array per series). */
  setData(data: uPlot.AlignedData): void {
    this.data = data;
    this.plot?.setData(data);
    this.setAttribute('data-points', String(data[0]?.length ?? 0));
  }

  /** Repaints with the same data (e.g. a plugin's bands changed); cheap, nothing is rebuilt. */
  redraw(): void {
    this.plot?.redraw(false);
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (!this.hasAttribute('data-points')) this.setAttribute('data-points', '0');
    // Re-attached after a disconnect destroyed the plot: build it again.
    if (this.hasUpdated && !this.plot) this.create();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.destroy();
  }

  protected override render() {
    return html`${this.heading ? html`<div part="title" class="title">${this.heading}</div>` : ''}
      <div part="plot" class="plot"></div>`;
  }

  protected override firstUpdated(): void {
    this.create();
  }

  protected override updated(changed: PropertyValues<this>): void {
    // options replaced after the plot exists (or first given after the first render)
    const rebuild = this.plot !== null && this.builtTheme !== this.themeCtl.theme;
    if ((changed.has('options') && this.isConnected && changed.get('options') !== undefined) || rebuild) {
      this.destroy();
      this.create();
    } else if (!this.plot && this.options && this.isConnected) {
      this.create();
    }
  }

  private get container(): HTMLElement | null {
    return this.renderRoot.querySelector<HTMLElement>('.plot');
  }

  private create(): void {
    const el = this.container;
    if (!el || !this.options || this.plot) return;
    const { width, height } = this.measure(el, 0);
    this.builtTheme = this.themeCtl.theme;
    this.plot = new uPlot({ ...themedAxes(this.options, this), width, height }, this.data, el);
    this.fit();
    this.resizeObserver = new ResizeObserver(() => this.fit());
    this.resizeObserver.observe(el);
  }

  private destroy(): void {
    this.resizeObserver?.disconnect();
    this.resizeObserver = null;
    this.plot?.destroy();
    this.plot = null;
  }

  /** Plot size that, with uPlot's legend below it, fills the container. */
  private measure(el: HTMLElement, legendH: number): { width: number; height: number } {
    return {
      width: Math.max(50, Math.floor(el.clientWidth)),
      height: Math.max(50, Math.floor(el.clientHeight - legendH)),
    };
  }

  private fit(): void {
    const u = this.plot;
    const el = this.container;
    if (!u || !el) return;
    const legend = u.root.querySelector<HTMLElement>('.u-legend');
    const size = this.measure(el, legend?.offsetHeight ?? 0);
    if (size.width !== u.width || size.height !== u.height) u.setSize(size);
  }
}

if (!customElements.get('uplot-chart')) customElements.define('uplot-chart', UplotChart);

declare global {
  interface HTMLElementTagNameMap {
    'uplot-chart': UplotChart;
  }
}
