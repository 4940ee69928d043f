import { LitElement, html, nothing, type PropertyValues } from 'lit';
import type uPlot from 'uplot';
import type { ChipView, LiveServerMessage } from '../../schema/protocol.ts';
import type { Sample } from '../../schema/sample.ts';
import { chipDetailStyles } from './chip-detail-styles.ts';
import { powerOptions, tempOptions, utilOptions } from './chart-options.ts';
import { DASH, fmtAgo, fmtMem, fmtPct, fmtTemp, fmtWatts } from './format.ts';
import { getLiveConnection, type LiveConnection } from './live-connection.ts';
import { SampleWindow } from './sample-window.ts';
import type { ChartOptions, UplotChart } from './uplot-chart.ts';
import './uplot-chart.ts';

/** History asked for over HTTP when the socket gives none. */
export const HISTORY_MS = 10 * 60_000;
/** How long to wait for `chip-history` before falling back to HTTP. */
const HISTORY_FALLBACK_MS = 1500;

/**
 * `<chip-detail>`: one chip's header and three live uPlot charts (utilization,
 * power with the power limit dashed, temperature; Neuron chips get a note instead
 * of a temperature chart, since Neuron does not expose it).
 *
 * While connected it subscribes to the chip's live topic: `chip-history` fills the
 * recent past (with an HTTP fallback), each new sample is appended, and the charts
 * are refreshed at most once per animation frame over the newest 15 minutes.
 *
 * Test hooks: host `data-testid="chip-detail"`; `<uplot-chart>` elements
 * `data-testid="chart-util" | "chart-power" | "chart-temp"` with `data-points`;
 * `data-testid="temp-unavailable"` for the Neuron note.
 *
 * @csspart header - the chip header
 * @csspart charts - the chart column
 */
export class ChipDetail extends LitElement {
  static override properties = {
    chipId: { type: String, attribute: 'chip-id' },
    chip: { attribute: false },
  };

  /** The chip to show. */
  declare chipId: string;
  /** The chip's inventory/status/latest, from the fleet store (optional). */
  declare chip: ChipView | undefined;

  /** The live connection; defaults to the page-wide one. Set before connecting. */
  connection: LiveConnection | null = null;

  private readonly buffer = new SampleWindow();
  private unsubscribe: (() => void) | null = null;
  private fallbackTimer: ReturnType<typeof setTimeout> | null = null;
  private fetchAbort: AbortController | null = null;
  private frame = 0;
  private ticker: ReturnType<typeof setInterval> | null = null;
  private gotHistory = false;
  private pushedKey = '';
  private readonly utilOptions = utilOptions();
  private readonly tempOptions = tempOptions();
  private powerKey = '';
  private powerOptions: ChartOptions | null = null;

  static override styles = chipDetailStyles;

  constructor() {
    super();
    this.chipId = '';
    this.chip = undefined;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.setAttribute('data-testid', 'chip-detail');
    this.subscribe();
    // keeps "last sample … ago" honest while no sample arrives (stale chips)
    this.ticker = setInterval(() => this.requestUpdate(), 1000);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.unsubscribeAll();
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('chipId') && changed.get('chipId') !== undefined && this.isConnected) {
      this.unsubscribeAll();
      this.buffer.clear();
      this.subscribe();
    }
    const estimated = this.latest()?.flags?.powerEstimated === true;
    const limitLabel = this.limitLabel();
    const key = `${estimated}|${limitLabel}`;
    if (key !== this.powerKey || !this.powerOptions) {
      this.powerKey = key;
      this.powerOptions = powerOptions(() => this.chip?.ratedPowerW ?? null, estimated, limitLabel);
    }
  }

  protected override updated(): void {
    // new samples, or charts just rendered (e.g. the vendor became known)
    const charts = this.renderRoot.querySelectorAll('uplot-chart').length;
    const key = `${this.buffer.version}|${charts}|${this.chip?.ratedPowerW}`;
    if (key !== this.pushedKey) {
      this.pushedKey = key;
      this.pushData();
    }
  }

  private subscribe(): void {
    if (!this.chipId || this.unsubscribe) return;
    const conn = (this.connection ??= getLiveConnection());
    this.gotHistory = false;
    this.unsubscribe = conn.subscribe({ topic: 'chip', chipId: this.chipId }, (m) => this.onMessage(m));
    this.fallbackTimer = setTimeout(() => {
      this.fallbackTimer = null;
      if (!this.gotHistory) void this.fetchHistory();
    }, HISTORY_FALLBACK_MS);
  }

  private unsubscribeAll(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.fallbackTimer) clearTimeout(this.fallbackTimer);
    this.fallbackTimer = null;
    this.fetchAbort?.abort();
    this.fetchAbort = null;
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
  }

  private onMessage(msg: LiveServerMessage): void {
    if (msg.type === 'chip-history') {
      this.gotHistory = true;
      this.ingest(msg.samples, true);
    } else if (msg.type === 'samples') {
      this.ingest(msg.samples);
    }
  }

  /** GET the last 10 minutes when the socket has not delivered history. */
  private async fetchHistory(): Promise<void> {
    const id = this.chipId;
    const to = Date.now();
    const ctrl = new AbortController();
    this.fetchAbort = ctrl;
    try {
      const url = `/api/v1/chips/${encodeURIComponent(id)}/samples?from=${to - HISTORY_MS}&to=${to}`;
      const res = await fetch(url, { signal: ctrl.signal });
      if (!res.ok) return;
      const body = (await res.json()) as { chipId?: string; samples?: Sample[] };
      if (id === this.chipId && Array.isArray(body.samples)) this.ingest(body.samples, true);
    } catch {
      /* aborted or hub unreachable: live samples still arrive */
    } finally {
      if (this.fetchAbort === ctrl) this.fetchAbort = null;
    }
  }

  private ingest(samples: Sample[], history = false): void {
    if (history) this.buffer.addHistory(this.chipId, samples);
    else this.buffer.add(this.chipId, samples);
    if (!this.frame) {
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.requestUpdate();
      });
    }
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

  protected override render() {
    const c = this.chip;
    const s = this.latest();
    const status = c?.status;
    const neuron = c?.vendor === 'aws';
    const est = s?.flags?.powerEstimated === true;
    const limitLabel = this.limitLabel();
    return html`
      <header part="header">
        <a class="back" href="#/" data-testid="back-link">← fleet</a>
        <h2>${c ? `${c.model} #${c.index}` : 'Chip'}</h2>
        <span class="id" data-testid="detail-chip-id">${this.chipId}</span>
        ${c ? html`<span class="host">${c.host}${c.instanceType ? ` · ${c.instanceType}` : ''}</span>` : nothing}
        ${status
          ? html`<span class="status ${status}" data-testid="detail-status" data-status=${status}>${status}</span>`
          : nothing}
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
      ${this.buffer.samples.length === 0
        ? html`<div class="empty-hint">No samples in the last ${HISTORY_MS / 60_000} minutes yet.</div>`
        : nothing}
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
}

if (!customElements.get('chip-detail')) customElements.define('chip-detail', ChipDetail);

declare global {
  interface HTMLElementTagNameMap {
    'chip-detail': ChipDetail;
  }
}
