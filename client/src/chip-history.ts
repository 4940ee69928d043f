import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import type uPlot from 'uplot';
import { alertBandsPlugin, bandsInView, type AlertBand } from './alert-bands.ts';
import type { TimeBand } from './backfill-bands.ts';
import { bandLegend } from './band-legend.ts';
import { filledTimes, gapBands, gapBandsPlugin } from './gap-bands.ts';
import { chipHistory, HISTORY_FIELDS, scaled, type ChipHistory, type ChipHistoryField } from './chip-history-data.ts';
import type { ChipEventsAnswer } from '../../schema/api-answers.ts';
import { loadChipEvents, marksInView, reconnectLegend, reconnectLegendStyles, reconnectMarks, reconnectMarksPlugin, type ReconnectMark } from './chart-reconnects.ts';
import { chartPanelStyles } from './chip-detail-styles.ts';
import { fetchHubJson } from './hub-fetch.ts';
import { memHistoryOptions, powerHistoryOptions, tempHistoryOptions, utilHistoryOptions } from './history-chart-options.ts';
import { rangeLabel, rangeMs, stepWords, tierWords, type RangeKey } from './history-range.ts';
import { PolledFetchController } from './polled-fetch-controller.ts';
import type { ChartOptions, UplotChart } from './uplot-chart.ts';
import { zoomable } from './chart-zoom.ts';
import './uplot-chart.ts';

import type { ZoomSpan } from './view-state.ts';

/** A span dragged on a chart, ms since epoch. */
export type { ZoomSpan };
/** Points asked for when zoomed: about one per pixel of a chart. */
export const ZOOM_MAX_POINTS = 800;

/** How often a shown past range is re-read (ms). */
export const HISTORY_REFRESH_MS = 30_000;
const GiB = 1024 ** 3;

/**
 * Reads one chip's history for `range` (`now-<range>` to now, the step chosen by the hub):
 * the averages, and the minima and maxima for a band. Only the averages are required;
 * without usable min/max answers the charts show the averages alone.
 */
export async function loadChipHistory(chipId: string, range: Exclude<RangeKey, 'live'>, signal: AbortSignal, zoom?: ZoomSpan | null): Promise<ChipHistory> {
  // A zoomed span: its own from/to, and points enough for the chart's width (the hub picks the step).
  const when = zoom ? `from=${zoom.from}&to=${zoom.to}&maxPoints=${ZOOM_MAX_POINTS}` : `from=now-${range}&to=now`;
  const url = (agg: string) => `/api/v1/series?chip=${encodeURIComponent(chipId)}&fields=${HISTORY_FIELDS.join(',')}&${when}&agg=${agg}`;
  const [avg, min, max] = await Promise.allSettled(['avg', 'min', 'max'].map((agg) => fetchHubJson<unknown>(url(agg), signal)));
  if (avg.status === 'rejected') throw avg.reason;
  const ok = (r: PromiseSettledResult<unknown>) => (r.status === 'fulfilled' ? r.value : undefined);
  return chipHistory(chipId, avg.value, ok(min), ok(max));
}

/** A history with the connection events of the chip's agent over the same span (null when they could not be read). */
export type ChipHistoryWithEvents = ChipHistory & { agentEvents: ChipEventsAnswer | null };

/**
 * The history of `loadChipHistory` and, read alongside (re-read with it), the connection events of
 * the chip's agent over the range; failing to read the events only leaves the reconnect marks out.
 */
export async function loadChipHistoryWithEvents(chipId: string, range: Exclude<RangeKey, 'live'>, signal: AbortSignal, zoom?: ZoomSpan | null): Promise<ChipHistoryWithEvents> {
  const now = Date.now();
  const [from, to] = zoom ? [zoom.from, zoom.to] : [now - rangeMs(range), now];
  const [history, events] = await Promise.all([loadChipHistory(chipId, range, signal, zoom), loadChipEvents(chipId, from, to, signal).catch(() => null)]);
  return Object.assign(history, { agentEvents: events });
}

function fmtWhen(ms: number): string {
  return new Date(ms).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/**
 * `<chip-history>`: one chip's past `range` from `GET /api/v1/series`, in the same
 * charts as the live view (utilization, power, temperature unless `neuron`, plus
 * memory used): per bucket the average as a line and the min–max range shaded.
 * A caption says the step and tier the hub chose ("30-second averages · raw tier").
 * The range is re-read every `refreshMs` while shown. Dragging across a chart zooms: that span is
 * read again (`from`/`to` in ms, `maxPoints` ZOOM_MAX_POINTS, so the hub picks a finer step) until
 * "Whole <range>" or another range (each a `zoom-change` event); the charts share one cursor. `alertBands` (the chip's fired alerts, from
 * `<chip-detail>`) are shaded on every chart, as in the live view, and so are gaps (more than 3 steps
 * between buckets holding data); so are the reconnects of the chip's agent (its connection events,
 * `GET /api/v1/chips/:chipId/events` for the same span, read with the history: chart-reconnects.ts);
 * a legend keys them. A failed read shows the hub's
 * `{code, message}` (the last good answer stays plotted); a range without any value
 * says "No data in this range".
 *
 * Test hooks: `data-testid="history-caption"` with `data-step`, `data-tier`, `data-zoomed`,
 * `data-points` (buckets plotted) and `data-filled` (buckets holding data);
 * `data-state` (loading | ok | error | idle); `data-testid="history-error"` with
 * `data-code`; `data-testid="history-empty"`; charts `chart-util`, `chart-power`, `chart-temp`,
 * `chart-mem` (each with `data-points`); `data-testid="zoom-reset"`.
 *
 * @fires zoom-change - `detail: { zoom }` (a span, or null for the whole range) on a drag or "Whole <range>"
 * @csspart caption - the step/tier line
 * @csspart charts - the chart column
 */
export class ChipHistoryView extends LitElement {
  static override properties = {
    chipId: { type: String, attribute: 'chip-id' },
    range: { type: String },
    neuron: { type: Boolean },
    ratedW: { attribute: false },
    memTotalBytes: { attribute: false },
    refreshMs: { type: Number, attribute: 'refresh-ms' },
    alertBands: { attribute: false },
    zoom: { attribute: false },
  };

  declare chipId: string;
  /** The past range to show; `live` shows nothing. */
  declare range: RangeKey;
  /** Neuron chips have no temperature: a note replaces that chart. */
  declare neuron: boolean;
  /** Kept inside the power chart's y range (rated power or limit), W. */
  declare ratedW: number | null;
  /** Top of the memory chart, bytes. */
  declare memTotalBytes: number | null;
  /** Re-read period (ms); 0 = never. */
  declare refreshMs: number;
  /** The chip's alerts to shade (read at draw time). */
  declare alertBands: readonly AlertBand[];
  /** A span dragged on a chart (null: the whole range); a new chip or range clears it unless given with them. */
  declare zoom: ZoomSpan | null;

  private readonly history = new PolledFetchController<ChipHistoryWithEvents>(this, {
    key: () => (this.chipId && this.range !== 'live' ? `${this.chipId}|${this.range}|${this.zoom ? `${this.zoom.from}-${this.zoom.to}` : ''}` : null),
    load: (signal) => loadChipHistoryWithEvents(this.chipId, this.range as Exclude<RangeKey, 'live'>, signal, this.zoom),
    intervalMs: () => this.refreshMs,
  });
  /** Shades the chip's alerts; reads the bands at draw time, shared by all charts. */
  private readonly alertShading = [alertBandsPlugin(() => this.alertBands), gapBandsPlugin(() => this.gaps), reconnectMarksPlugin(() => this.marks)];
  /** Reconnects of the chip's agent over the history shown. */
  private marks: ReconnectMark[] = [];
  /** Gaps of the history shown: more than 3 steps between buckets holding data. */
  private gaps: TimeBand[] = [];
  /** Drag on any chart: that span is read again at a finer step; the four charts share one cursor. */
  private readonly zoomIn = (span: ZoomSpan | null) => {
    this.zoom = span;
    this.dispatchEvent(new CustomEvent('zoom-change', { detail: { zoom: span }, bubbles: true, composed: true }));
  };
  private readonly z = (o: ChartOptions) => zoomable(o, 'chip-history', this.zoomIn);
  private readonly charts: Record<ChipHistoryField, { id: string; options: ChartOptions; k: number }> = {
    utilPct: { id: 'chart-util', options: this.z(utilHistoryOptions(true, this.alertShading)), k: 1 },
    powerW: { id: 'chart-power', options: this.z(powerHistoryOptions(true, () => this.ratedW, this.alertShading)), k: 1 },
    tempC: { id: 'chart-temp', options: this.z(tempHistoryOptions(true, this.alertShading)), k: 1 },
    memUsedBytes: { id: 'chart-mem', options: this.z(memHistoryOptions(true, () => (this.memTotalBytes == null ? null : this.memTotalBytes / GiB), this.alertShading)), k: 1 / GiB },
  };
  private pushedKey = '';

  static override styles = [
    chartPanelStyles,
    reconnectLegendStyles,
    css`
      :host {
        display: block;
      }
      .caption {
        font-size: 12px;
        color: var(--fs-faint);
        margin: -4px 0 8px;
        min-height: 16px;
        font-variant-numeric: tabular-nums;
      }
      .reset {
        padding: 0 8px;
        border: 1px solid var(--fs-border);
        border-radius: 4px;
        background: transparent;
        color: var(--fs-text-soft);
        font: inherit;
        cursor: pointer;
      }
      .msg {
        margin: 0 0 10px;
        padding: 8px 12px;
        border-radius: 7px;
        font-size: 14px;
      }
      .msg.error {
        background: var(--fs-error-bg, #3a1a1f);
        border: 1px solid var(--fs-error-border, #7a2a33);
        color: var(--fs-error-text, #ffd2d5);
      }
      .msg.error code {
        color: #ffb3b8;
        font-size: 12px;
      }
      .msg.empty {
        background: var(--fs-raised);
        border: 1px solid var(--fs-border);
        color: var(--fs-text-soft);
      }
    `,
  ];

  constructor() {
    super();
    this.chipId = '';
    this.range = 'live';
    this.neuron = false;
    this.ratedW = null;
    this.memTotalBytes = null;
    this.refreshMs = HISTORY_REFRESH_MS;
    this.alertBands = [];
    this.zoom = null;
  }

  /** The history shown, if any (for scripts and tests). */
  get data(): ChipHistory | null {
    return this.history.data;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    const moved = (changed.has('chipId') && changed.get('chipId') !== undefined) || (changed.has('range') && changed.get('range') !== undefined);
    if (moved && !changed.has('zoom')) this.zoom = null;
    if (changed.has('chipId') || changed.has('range') || changed.has('zoom')) this.history.sync();
    if (changed.has('refreshMs') && this.hasUpdated) this.history.restartTimer();
  }

  protected override updated(changed: PropertyValues<this>): void {
    const n = this.renderRoot.querySelectorAll('uplot-chart').length;
    const key = `${this.history.version}|${n}`;
    if (key === this.pushedKey) {
      if (changed.has('alertBands')) for (const c of this.renderRoot.querySelectorAll<UplotChart>('uplot-chart')) c.redraw();
      return;
    }
    this.pushedKey = key;
    const h = this.history.data;
    this.gaps = h ? gapBands(filledTimes(h.xs, h.fields.utilPct.avg), h.stepMs / 1000) : [];
    this.marks = h ? reconnectMarks(h.agentEvents) : [];
    for (const f of HISTORY_FIELDS) {
      const { id, k } = this.charts[f];
      const chart = this.renderRoot.querySelector<UplotChart>(`uplot-chart[data-testid="${id}"]`);
      if (!chart) continue;
      if (!h) {
        // nothing (yet): keep the x axis on the asked-for range rather than on the last one shown
        const to = (this.zoom?.to ?? Date.now()) / 1000;
        const from = this.zoom ? this.zoom.from / 1000 : to - rangeMs(this.range) / 1000;
        chart.setData([[from, to], [null, null], [null, null], [null, null]] as uPlot.AlignedData);
        continue;
      }
      const col = h.fields[f];
      const none = new Array<null>(h.xs.length).fill(null);
      const series = k === 1 ? [col.avg, col.min ?? none, col.max ?? none] : [scaled(col.avg, k)!, scaled(col.min, k) ?? none, scaled(col.max, k) ?? none];
      chart.setData([h.xs, ...series] as uPlot.AlignedData);
    }
  }

  private renderCaption(h: ChipHistory | null) {
    const state = this.history.loading && !h ? 'loading' : h ? 'ok' : this.history.error ? 'error' : 'idle';
    const text = h
      ? `${stepWords(h.stepMs)} averages · ${tierWords(h.tier)}${h.band ? ' · shaded: min–max' : ''} · ${fmtWhen(h.from)} – ${fmtWhen(h.to)}`
      : state === 'loading'
        ? `Loading ${rangeLabel(this.range)} of history…`
        : '';
    return html`<div
      part="caption"
      class="caption"
      data-testid="history-caption"
      data-zoomed=${this.zoom ? 'true' : 'false'}
      data-state=${state}
      data-step=${h?.step ?? ''}
      data-tier=${h?.tier ?? ''}
      data-points=${h?.xs.length ?? 0}
      data-filled=${h?.filled ?? 0}
    >
      ${text}${this.zoom
        ? html` · zoomed <button type="button" class="reset" data-testid="zoom-reset" @click=${() => this.zoomIn(null)}>Whole ${rangeLabel(this.range)}</button>`
        : h
          ? ' · drag across a chart to zoom'
          : ''}
    </div>`;
  }

  private renderMessage(h: ChipHistory | null) {
    const e = this.history.error;
    if (e) {
      return html`<div class="msg error" role="alert" data-testid="history-error" data-code=${e.code}>
        Could not load the ${rangeLabel(this.range)} history: ${e.message} <code>(${e.code})</code>${h
          ? html` — showing the answer from ${new Date(this.history.loadedAt).toLocaleTimeString()}.`
          : '.'}
        ${this.refreshMs > 0 ? `Retrying every ${+(this.refreshMs / 1000).toFixed(1)} s.` : nothing}
      </div>`;
    }
    if (h && h.filled === 0) {
      return html`<div class="msg empty" data-testid="history-empty">
        ${this.zoom
          ? 'No data in the zoomed span: the hub holds no samples of this chip in it.'
          : `No data in this range: the hub holds no samples of this chip in the last ${rangeLabel(this.range)}.`}
      </div>`;
    }
    return nothing;
  }

  protected override render() {
    const h = this.history.data;
    const c = this.charts;
    return html`
      ${this.renderCaption(h)} ${this.renderMessage(h)}
      <div class="mark-legends">
        ${bandLegend({ alerts: h ? bandsInView(this.alertBands, h.from / 1000, h.to / 1000).length : 0, backfill: 0, gaps: h ? gapBands(filledTimes(h.xs, h.fields.utilPct.avg), h.stepMs / 1000).length : 0 })}
        ${reconnectLegend(h ? marksInView(reconnectMarks(h.agentEvents), h.from / 1000, h.to / 1000) : { connected: 0, disconnected: 0 })}
      </div>
      <div part="charts" class="charts">
        <div class="panel">
          <uplot-chart data-testid=${c.utilPct.id} heading="Utilization %" .options=${c.utilPct.options}></uplot-chart>
        </div>
        <div class="panel">
          <uplot-chart data-testid=${c.powerW.id} heading="Power W" .options=${c.powerW.options}></uplot-chart>
        </div>
        <div class="panel">
          ${this.neuron
            ? html`<div class="note" data-testid="temp-unavailable">Temperature is not exposed by Neuron.</div>`
            : html`<uplot-chart data-testid=${c.tempC.id} heading="Temperature °C" .options=${c.tempC.options}></uplot-chart>`}
        </div>
        <div class="panel">
          <uplot-chart data-testid=${c.memUsedBytes.id} heading="Memory used GiB" .options=${c.memUsedBytes.options}></uplot-chart>
        </div>
      </div>
    `;
  }
}

if (!customElements.get('chip-history')) customElements.define('chip-history', ChipHistoryView);

declare global {
  interface HTMLElementTagNameMap {
    'chip-history': ChipHistoryView;
  }
}
