import { LitElement, html, nothing, type PropertyValues } from 'lit';
import type uPlot from 'uplot';
import type { ActiveAlert, AlertEventAnswer, AlertHistoryAnswer, ChipEventsAnswer } from '../../schema/api-answers.ts';
import type { ChipView } from '../../schema/protocol.ts';
import type { Sample } from '../../schema/sample.ts';
import { alertBands, alertBandsPlugin, bandsInView, type AlertBand } from './alert-bands.ts';
import { loadAlertHistory } from './alert-history.ts';
import { severityColor, worse } from './alert-look.ts';
import { timeBandsPlugin, type TimeBand } from './backfill-bands.ts';
import { bandLegend } from './band-legend.ts';
import { gapBands, gapBandsPlugin } from './gap-bands.ts';
import { loadChipEvents, marksInView, reconnectLegend, reconnectLegendStyles, reconnectMarks, reconnectMarksPlugin, type ReconnectMark } from './chart-reconnects.ts';
import { chipDetailStyles } from './chip-detail-styles.ts';
import { ChipSamplesController, HISTORY_MS } from './chip-samples-controller.ts';
import { powerOptions, tempOptions, utilOptions } from './chart-options.ts';
import { DASH, fmtAgo, fmtMem, fmtPct, fmtTemp, fmtWatts } from './format.ts';
import { RANGES, isRangeKey, rangeMs, type RangeKey } from './history-range.ts';
import { fleetReturnHash } from './host-view.ts';
import { hostHref } from './view-state.ts';
import type { LiveConnection } from './live-connection.ts';
import { PolledFetchController } from './polled-fetch-controller.ts';
import type { ChartOptions, UplotChart } from './uplot-chart.ts';
import type { ZoomSpan } from './view-state.ts';
import { DEFAULT_EFFICIENCY, efficiencyHash } from './efficiency-state.ts';
import './uplot-chart.ts';
import './chip-history.ts';
import './range-picker.ts';

export { HISTORY_MS };

/** A `datetime-local` input's value (local time, to the minute) of ms since the epoch. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** ms since the epoch of a `datetime-local` value (local time), or null when empty or bad. */
export function fromLocalInput(v: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(v)) return null;
  const ms = new Date(v).getTime();
  return Number.isFinite(ms) ? ms : null;
}

/**
 * The range and zoom that show a typed span: the shortest past range reaching back to `from`
 * (30 d when none does), zoomed to the span (`to` no later than `now`). An error when the span is
 * empty or reversed.
 */
export function customSpan(from: number, to: number, now = Date.now()): { range: Exclude<RangeKey, 'live'>; zoom: ZoomSpan } | { error: string } {
  const end = Math.min(to, now);
  if (!(from < end)) return { error: to <= from ? 'From must be before To.' : 'The span must start before now.' };
  const back = now - from;
  const fit = RANGES.find((r) => r.key !== 'live' && r.ms >= back)?.key ?? '30d';
  return { range: fit as Exclude<RangeKey, 'live'>, zoom: { from, to: end } };
}

/** How often the chip's alert history (for the alert bands) is re-read (ms). */
export const ALERT_BANDS_REFRESH_MS = 30_000;
/** How often the live view re-reads its agent's connection events (ms); also re-read soon after the chip's status changes. */
export const RECONNECTS_REFRESH_MS = 15_000;
/** After a status change, the events are re-read this much later (the hub writes them within ~100 ms). */
const RECONNECTS_AFTER_STATUS_MS = 700;

/**
 * `<chip-detail>`: one chip's header (with the job running on it, when known: `data-testid="detail-job"`,
 * a link to the efficiency view by job) and three live uPlot charts (utilization,
 * power with the power limit dashed, temperature; Neuron chips get a note instead
 * of a temperature chart, since Neuron does not expose it).
 *
 * While connected, a `ChipSamplesController` keeps the chip's newest 15 minutes of
 * samples: `chip-history` on (re)subscribe (with an HTTP fallback), live samples,
 * and an HTTP re-read of the window every `pollMs` for late data. The charts are
 * refreshed at most once per animation frame.
 *
 * Late data: samples flagged `backfill` (delivered after a hub outage, never pushed
 * live) are counted in a notice next to the header and their time ranges are shaded
 * on every chart.
 *
 * Alerts: each alert of the chip that fired is a band on every chart, in its severity's colour,
 * from when its breach began to when it resolved (a line at each end; still firing: up to now).
 * They come from the chip's alert history (`GET /api/v1/alerts/history?chip=`, re-read every
 * `ALERT_BANDS_REFRESH_MS`), the transitions the page sees live (`alertEvents`) and its current
 * alerts (`alerts`); a notice in the header counts those in view. The header also names the
 * alerts firing now (links to `#/alerts`).
 *
 * Gaps: a stretch of more than 3 sampling intervals (the samples' median spacing) without a
 * sample is marked on every chart (gap-bands.ts); a legend under the header keys alerts, late
 * samples and gaps (`data-testid="band-legend"`, see band-legend.ts).
 *
 * Reconnects: the connection events of the chip's agent (`GET /api/v1/chips/:chipId/events`, re-read
 * every `RECONNECTS_REFRESH_MS` and soon after the chip's status changes) are thin teal lines on
 * every chart, with a glyph on the time axis (chart-reconnects.ts), keyed next to the band legend.
 *
 * Past ranges: a `<range-picker>` in the header switches between `Live (10 min)` (the
 * above, default) and `1 h` … `30 d`, which `<chip-history>` reads from
 * `/api/v1/series` and plots in the same charts (averages with a min–max band, the
 * step and tier in a caption, re-read every 30 s). The live subscription keeps
 * running meanwhile, so going back to Live is instant. Next to it, From/To inputs
 * (`datetime-local`, local time) show any span: the shortest past range reaching back to From,
 * zoomed to the span (as a drag-zoom would: `range=…&from=…&to=…` in the URL, read from
 * `/api/v1/series` with `from`/`to` and `maxPoints`, so the hub fits the step to it).
 * The header's host is a link to the host view; "← fleet" returns to the fleet view last shown.
 *
 * Test hooks: host `data-testid="chip-detail"`; `<uplot-chart>` elements
 * `data-testid="chart-util" | "chart-power" | "chart-temp"` with `data-points`;
 * `data-testid="temp-unavailable"` for the Neuron note; `data-testid="backfill-notice"`
 * with `data-count` (backfilled samples in view), present only when there are some;
 * `data-testid="alert-band-notice"` with `data-count` (alert bands in view), present only when
 * there are some; `data-testid="chip-alert"` with `data-rule`, `data-severity` per firing alert;
 * host `range` attribute (the range shown); `range-<key>` buttons (see `<range-picker>`);
 * `data-testid="custom-from" | "custom-to" | "custom-apply"` (the typed span), `custom-error`;
 * `data-testid="detail-host-link"`, `back-link`.
 *
 * @fires range-change - bubbled from the range picker, `detail: { range }`
 * @fires chip-view-change - `detail: { range, zoom }` when the user picks a range or zooms (or unzooms)
 * @csspart header - the chip header
 * @csspart charts - the chart column
 */
export class ChipDetail extends LitElement {
  static override properties = {
    chipId: { type: String, attribute: 'chip-id' },
    chip: { attribute: false },
    pollMs: { type: Number, attribute: 'poll-ms' },
    range: { type: String, reflect: true },
    alerts: { attribute: false },
    alertEvents: { attribute: false },
    zoom: { attribute: false },
    customError: { state: true },
  };

  /** Why the typed span was not shown ('' when it was, or none was typed). */
  declare customError: string;
  /** The span the From/To inputs were last filled with (only a new range or zoom refills them, never the clock). */
  private customShown: ZoomSpan = { from: 0, to: 0 };

  /** The chip to show. */
  declare chipId: string;
  /** The chip's inventory/status/latest, from the fleet store (optional). */
  declare chip: ChipView | undefined;
  /** How often the shown window is re-read over HTTP for late samples (ms; 0 = never). */
  declare pollMs: number;
  /** The time range shown: `live` (the last 10 minutes, streamed) or a past range. */
  declare range: RangeKey;
  /** The hub's current alerts (all chips; from `AlertsController`). */
  declare alerts: readonly ActiveAlert[];
  /** Alert transitions seen live (all chips). */
  declare alertEvents: readonly AlertEventAnswer[];
  /** Within a past range, the span zoomed into (null: the whole range). */
  declare zoom: ZoomSpan | null;

  /** The live connection; defaults to the page-wide one. Set before connecting. */
  connection: LiveConnection | null = null;

  private readonly samples = new ChipSamplesController(this);
  private readonly buffer = this.samples.buffer;
  private ticker: ReturnType<typeof setInterval> | null = null;
  private pushedKey = '';
  /** Shades the backfilled stretches; reads the bands at draw time, shared by all charts. */
  private readonly backfillShading = [timeBandsPlugin(() => this.buffer.backfill.bands)];
  /** The chip's fired alerts (from the history, live transitions and current alerts). */
  private bands: readonly AlertBand[] = [];
  private bandsKey = '';
  /** Bumped whenever `bands` is recomputed; `drawnBands` is the one the charts last painted. */
  private bandsVersion = 0;
  private drawnBands = 0;
  /** The chip's alert history for the range shown. */
  private readonly alertHistory = new PolledFetchController<AlertHistoryAnswer>(this, {
    key: () => (this.chipId ? `${this.chipId}|${this.range}` : null),
    load: (signal) => loadAlertHistory(this.range === 'live' ? '1h' : this.range, signal, this.chipId, 1000),
    intervalMs: () => ALERT_BANDS_REFRESH_MS,
  });
  /** Gaps in the window's samples (recomputed when the window changes). */
  private gaps: TimeBand[] = [];
  private gapsAt = -1;
  /** The connection events of the chip's agent over the live window (a past range's come with its history). */
  private readonly agentEvents = new PolledFetchController<ChipEventsAnswer>(this, {
    key: () => (this.chipId && this.range === 'live' ? this.chipId : null),
    load: (signal) => {
      const now = Date.now();
      return loadChipEvents(this.chipId, now - HISTORY_MS - 60_000, now + 60_000, signal);
    },
    intervalMs: () => RECONNECTS_REFRESH_MS,
  });
  private marks: ReconnectMark[] = [];
  private marksAt = -1;
  private drawnMarks = -1;
  private statusKey = '';
  private statusTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly chartPlugins = [...this.backfillShading, alertBandsPlugin(() => this.bands), gapBandsPlugin(() => this.liveGaps()), reconnectMarksPlugin(() => this.liveMarks())];
  private readonly utilOptions = utilOptions(this.chartPlugins);
  private readonly tempOptions = tempOptions(this.chartPlugins);
  private powerKey = '';
  private powerOptions: ChartOptions | null = null;

  static override styles = [...chipDetailStyles, reconnectLegendStyles];

  constructor() {
    super();
    this.chipId = '';
    this.chip = undefined;
    this.pollMs = this.samples.pollMs;
    this.range = 'live';
    this.alerts = [];
    this.alertEvents = [];
    this.zoom = null;
    this.customError = '';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.setAttribute('data-testid', 'chip-detail');
    // keeps "last sample … ago" honest while no sample arrives (stale chips)
    this.ticker = setInterval(() => this.requestUpdate(), 1000);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
    if (this.statusTimer) clearTimeout(this.statusTimer);
    this.statusTimer = null;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('chipId') && this.isConnected) this.samples.sync();
    if (changed.has('pollMs')) this.samples.pollMs = this.pollMs;
    if (changed.has('range') && !isRangeKey(this.range)) this.range = 'live';
    if (changed.has('range') || changed.has('zoom') || changed.has('chipId')) this.customShown = this.shownSpan();
    const estimated = this.latest()?.flags?.powerEstimated === true;
    const limitLabel = this.limitLabel();
    const key = `${estimated}|${limitLabel}`;
    if (key !== this.powerKey || !this.powerOptions) {
      this.powerKey = key;
      this.powerOptions = powerOptions(() => this.chip?.ratedPowerW ?? null, estimated, limitLabel, this.chartPlugins);
    }
    if (changed.has('chipId') || changed.has('range')) {
      this.alertHistory.sync();
      this.agentEvents.sync();
    }
    // The agent connected or went: its events are read again once the hub has written them.
    const statusKey = `${this.chipId}|${this.chip?.agentId ?? ''}|${this.chip?.status ?? ''}`;
    if (statusKey !== this.statusKey) {
      const first = this.statusKey === '';
      this.statusKey = statusKey;
      if (!first && this.isConnected) {
        if (this.statusTimer) clearTimeout(this.statusTimer);
        this.statusTimer = setTimeout(() => {
          this.statusTimer = null;
          this.agentEvents.reload();
        }, RECONNECTS_AFTER_STATUS_MS);
      }
    }
    const bandsKey = `${this.chipId}|${this.alertHistory.version}|${this.alerts.length}|${this.alertEvents.length}|${this.alertEvents.at(-1)?.at ?? 0}`;
    if (bandsKey !== this.bandsKey || changed.has('alerts') || changed.has('alertEvents')) {
      this.bandsKey = bandsKey;
      const id = this.chipId;
      const history = this.alertHistory.data?.events ?? [];
      this.bands = alertBands(id, [...history, ...this.alertEvents], this.alerts, Date.now());
      this.bandsVersion++;
    }
  }

  protected override updated(): void {
    // new samples, or charts just rendered (e.g. the vendor became known)
    const charts = this.renderRoot.querySelectorAll('uplot-chart').length;
    const key = `${this.buffer.version}|${charts}|${this.chip?.ratedPowerW}`;
    if (key !== this.pushedKey) {
      this.pushedKey = key;
      this.drawnBands = this.bandsVersion;
      this.pushData();
      this.drawnMarks = this.agentEvents.version;
    } else if (this.drawnBands !== this.bandsVersion || this.drawnMarks !== this.agentEvents.version) {
      // new alert bands or reconnect marks, same samples: repaint
      this.drawnBands = this.bandsVersion;
      this.drawnMarks = this.agentEvents.version;
      for (const c of this.renderRoot.querySelectorAll<UplotChart>('uplot-chart')) c.redraw();
    }
  }

  /** The reconnect marks of the live window (from the last answer; kept while a re-read is in flight). */
  private liveMarks(): readonly ReconnectMark[] {
    if (this.marksAt !== this.agentEvents.version) {
      this.marksAt = this.agentEvents.version;
      const answer = this.agentEvents.data;
      this.marks = answer && answer.chipId === this.chipId ? reconnectMarks(answer) : [];
    }
    return this.marks;
  }

  /** The gaps of the live window's samples (more than 3 sampling intervals without one). */
  private liveGaps(): readonly TimeBand[] {
    if (this.gapsAt !== this.buffer.version) {
      this.gapsAt = this.buffer.version;
      this.gaps = gapBands(this.buffer.samples.map((s) => s.ts / 1000));
    }
    return this.gaps;
  }

  /** "limit" when the chip reports a power limit, else "rated" (the dashed line is then ratedPowerW). */
  private limitLabel(): 'limit' | 'rated' {
    return this.latest()?.powerLimitW == null && this.chip?.ratedPowerW != null ? 'rated' : 'limit';
  }

  /** Newest of the fleet store's latest sample and our own buffer's. */
  private latest(): Sample | null {
    const own = this.buffer.last;
    const fleet = this.chip?.latest ?? null;
    if (!own) return fleet;
    if (!fleet) return own;
    return fleet.ts > own.ts ? fleet : own;
  }

  private chart(id: string): UplotChart | null {
    return this.renderRoot.querySelector<UplotChart>(`uplot-chart[data-testid="${id}"]`);
  }

  private pushData(): void {
    const c = this.buffer.columns(this.chip?.ratedPowerW ?? null);
    this.chart('chart-util')?.setData([c.xs, c.util] as uPlot.AlignedData);
    this.chart('chart-power')?.setData([c.xs, c.power, c.limit] as uPlot.AlignedData);
    this.chart('chart-temp')?.setData([c.xs, c.temp] as uPlot.AlignedData);
  }

  /** Another range (the whole of it) or zoom: shown, and told as `chip-view-change` (the app puts it in the URL). */
  private viewChange(range: RangeKey, zoom: ZoomSpan | null): void {
    this.range = range;
    this.zoom = zoom;
    this.dispatchEvent(new CustomEvent('chip-view-change', { detail: { range, zoom }, bubbles: true, composed: true }));
  }

  private readonly onRange = (e: CustomEvent<{ range: RangeKey }>) => {
    this.customError = '';
    this.viewChange(e.detail.range, null);
  };

  /** The typed from/to: the shortest past range holding it, zoomed to it (one history entry). */
  private readonly onCustom = (e: Event) => {
    e.preventDefault();
    const q = <T extends Element>(sel: string) => this.renderRoot.querySelector<T>(sel);
    const from = fromLocalInput(q<HTMLInputElement>('[data-testid="custom-from"]')?.value ?? '');
    const to = fromLocalInput(q<HTMLInputElement>('[data-testid="custom-to"]')?.value ?? '');
    if (from == null || to == null) {
      this.customError = 'Give both From and To.';
      return;
    }
    const span = customSpan(from, to);
    if ('error' in span) {
      this.customError = span.error;
      return;
    }
    this.customError = '';
    this.viewChange(span.range, span.zoom);
  };

  /** The span shown now (for the custom inputs): the zoom, the whole past range, or the live window. */
  private shownSpan(): ZoomSpan {
    if (this.zoom) return this.zoom;
    const now = Date.now();
    return { from: now - (this.range === 'live' ? HISTORY_MS : rangeMs(this.range)), to: now };
  }

  /** From/To inputs (local time) and "Show": any span, read from history at a step the hub fits to it. */
  private renderCustom() {
    const s = this.customShown;
    const max = toLocalInput(Date.now() + 60_000);
    return html`<form class="custom" data-testid="custom-range" @submit=${this.onCustom} title="Show any span from history (local time); the hub picks a step that fits the chart">
      <label>from <input type="datetime-local" data-testid="custom-from" .value=${toLocalInput(s.from)} max=${max} required /></label>
      <label>to <input type="datetime-local" data-testid="custom-to" .value=${toLocalInput(s.to)} max=${max} required /></label>
      <button type="submit" data-testid="custom-apply">Show</button>
      ${this.customError ? html`<span class="custom-error" role="alert" data-testid="custom-error">${this.customError}</span>` : nothing}
    </form>`;
  }
  private readonly onZoom = (e: CustomEvent<{ zoom: ZoomSpan | null }>) => {
    e.stopPropagation();
    this.viewChange(this.range, e.detail.zoom);
  };

  /** The past range's charts, or the live ones. */
  private renderCharts(neuron: boolean, est: boolean, limitLabel: string) {
    const c = this.chip;
    if (this.range !== 'live') {
      const s = this.latest();
      return html`<chip-history
        chip-id=${this.chipId}
        range=${this.range}
        ?neuron=${neuron}
        .ratedW=${s?.powerLimitW ?? c?.ratedPowerW ?? null}
        .memTotalBytes=${s?.memTotalBytes ?? c?.memTotalBytes ?? null}
        .alertBands=${this.bands}
        .zoom=${this.zoom}
        @zoom-change=${this.onZoom}
      ></chip-history>`;
    }
    return html`
      ${this.buffer.samples.length === 0
        ? html`<div class="empty-hint">No samples in the last ${HISTORY_MS / 60_000} minutes yet.</div>`
        : nothing}
      <div class="mark-legends">
        ${bandLegend({ alerts: this.alertsInView().length, backfill: this.buffer.backfill.bands.length, gaps: this.liveGaps().length })}
        ${reconnectLegend(marksInView(this.liveMarks(), (Date.now() - HISTORY_MS) / 1000, Date.now() / 1000))}
      </div>
      <div part="charts" class="charts">
        <div class="panel">
          <uplot-chart data-testid="chart-util" heading="Utilization %" .options=${this.utilOptions}></uplot-chart>
        </div>
        <div class="panel">
          <uplot-chart
            data-testid="chart-power"
            heading=${`Power W${est ? ' (estimated)' : ''} · ${limitLabel === 'rated' ? 'rated power' : 'limit'} dashed`}
            .options=${this.powerOptions}
          ></uplot-chart>
        </div>
        <div class="panel">
          ${!c
            ? html`<div class="note">…</div>`
            : neuron
              ? html`<div class="note" data-testid="temp-unavailable">
                  Temperature is not exposed by Neuron for ${c.model} chips.
                </div>`
              : html`<uplot-chart data-testid="chart-temp" heading="Temperature °C" .options=${this.tempOptions}></uplot-chart>`}
        </div>
      </div>
    `;
  }

  /** "⟲ N samples in view arrived late": only while the window holds backfilled samples. */
  private renderBackfillNotice() {
    const { count } = this.buffer.backfill;
    if (count === 0) return nothing;
    return html`<span
      class="backfill"
      data-testid="backfill-notice"
      data-count=${count}
      title="The hub received these samples late: the agent spooled them while the hub was unreachable and resent them. They were not streamed live; the shaded bands on the charts mark their time ranges."
      ><span class="swatch"></span>⟲ ${count} ${count === 1 ? 'sample' : 'samples'} in view arrived late (backfilled after an outage)</span
    >`;
  }

  /** The chip's alerts firing now, each a pill linking to the alerts view. */
  private renderFiring() {
    const firing = this.alerts.filter((a) => a.chipId === this.chipId && a.phase === 'firing');
    if (firing.length === 0) return nothing;
    return html`<span class="chip-alerts">${firing.map(
      (a) => html`<a
        class="sev"
        href="#/alerts"
        data-testid="chip-alert"
        data-rule=${a.ruleId}
        data-severity=${a.severity}
        title=${`${a.severity}: ${a.annotations.summary ?? a.ruleId} (firing; see Alerts)`}
        >⚠ ${a.labels.alertname ?? a.ruleId}</a
      >`,
    )}</span>`;
  }

  /** "⚠ N alerts in view": the alert bands over the range shown. */
  private alertsInView(): AlertBand[] {
    const now = Date.now() / 1000;
    const spanS = (this.range === 'live' ? HISTORY_MS : rangeMs(this.range)) / 1000;
    return bandsInView(this.bands, now - spanS, now);
  }

  private renderAlertNotice() {
    const inView = this.alertsInView();
    if (inView.length === 0) return nothing;
    const worst = inView.reduce((w, b) => worse(w, b.severity), inView[0]!.severity);
    const names = [...new Set(inView.map((b) => b.name))].join(', ');
    return html`<span
      class="alert-note"
      data-testid="alert-band-notice"
      data-count=${inView.length}
      title=${`Shaded on the charts, from when each alert's breach began to when it resolved (or now, while it fires): ${names}`}
      ><span class="swatch" style=${`background: ${severityColor(worst, 0.35)}; border-left-color: ${severityColor(worst)}`}></span>${inView.length}
      ${inView.length === 1 ? 'alert' : 'alerts'} in view</span
    >`;
  }

  protected override render() {
    const c = this.chip;
    const s = this.latest();
    const status = c?.status;
    const neuron = c?.vendor === 'aws';
    const est = s?.flags?.powerEstimated === true;
    const limitLabel = this.limitLabel();
    return html`
      <header part="header">
        <a class="back" href=${fleetReturnHash()} data-testid="back-link">← fleet</a>
        <h2>${c ? `${c.model} #${c.index}` : 'Chip'}</h2>
        <span class="id" data-testid="detail-chip-id">${this.chipId}</span>
        ${c
          ? html`<span class="host"
              ><a href=${hostHref(c.host)} data-testid="detail-host-link" title=${`${c.host}: all its chips in one view`}>${c.host}</a>${c.instanceType
                ? ` · ${c.instanceType}`
                : ''}</span
            >`
          : nothing}
        ${c?.job
          ? html`<span class="job" data-testid="detail-job" title=${`The job running on this chip now: ${c.job} (from its work counters or the agent's job labels)`}
              >job <a href=${efficiencyHash({ ...DEFAULT_EFFICIENCY, groupBy: 'job' })}>${c.job}</a></span
            >`
          : nothing}
        ${status
          ? html`<span class="status ${status}" data-testid="detail-status" data-status=${status}>${status}</span>`
          : nothing}
        ${this.renderFiring()} ${this.renderBackfillNotice()} ${this.renderAlertNotice()}
        <range-picker .value=${this.range} @range-change=${this.onRange}></range-picker>
        ${this.renderCustom()}
      </header>
      <div class="stats ${status && status !== 'live' ? 'dim' : ''}">
        <span>util<b>${fmtPct(s?.utilPct)}</b></span>
        <span title=${est ? 'Estimated from Neuron power percentage' : ''}
          >power<b>${s?.powerW != null && est ? '~' : ''}${fmtWatts(s?.powerW)}</b></span
        >
        <span>${limitLabel}<b>${fmtWatts(s?.powerLimitW ?? c?.ratedPowerW)}</b></span>
        <span>temp<b>${fmtTemp(s?.tempC)}</b></span>
        <span>memory<b>${fmtMem(s?.memUsedBytes, s?.memTotalBytes ?? c?.memTotalBytes)}</b></span>
        ${s?.smClockMhz != null ? html`<span>clock<b>${Math.round(s.smClockMhz)} MHz</b></span>` : nothing}
        ${s?.eccUncorrected != null ? html`<span>ECC uncorr.<b>${s.eccUncorrected}</b></span>` : nothing}
        <span>last sample<b>${s ? fmtAgo(s.ts) : DASH}</b></span>
      </div>
      ${this.renderCharts(neuron, est, limitLabel)}
    `;
  }
}

if (!customElements.get('chip-detail')) customElements.define('chip-detail', ChipDetail);

declare global {
  interface HTMLElementTagNameMap {
    'chip-detail': ChipDetail;
  }
}
