import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import type uPlot from 'uplot';
import type { ChipView, LiveServerMessage } from '../../schema/protocol.ts';
import type { Sample } from '../../schema/sample.ts';
import { powerOptions, tempOptions, utilOptions } from './chart-options.ts';
import { DASH, fmtAgo, fmtMem, fmtPct, fmtTemp, fmtWatts } from './format.ts';
import { getLiveConnection, type LiveConnection } from './live-connection.ts';
import type { ChartOptions, UplotChart } from './uplot-chart.ts';
import './uplot-chart.ts';

/** Samples kept and plotted: the newest 15 minutes. */
export const WINDOW_MS = 15 * 60_000;
/** History asked for over HTTP when the socket gives none. */
export const HISTORY_MS = 10 * 60_000;
/** How long to wait for `chip-history` before falling back to HTTP. */
const HISTORY_FALLBACK_MS = 1500;
const MAX_SAMPLES = 50_000;

/** Inserts `s` into `buf` (ascending by ts), replacing a sample with the same ts. */
export function insertSample(buf: Sample[], s: Sample): void {
  const n = buf.length;
  if (n === 0 || s.ts > buf[n - 1].ts) {
    buf.push(s);
    return;
  }
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (buf[mid].ts < s.ts) lo = mid + 1;
    else hi = mid;
  }
  if (buf[lo]?.ts === s.ts) buf[lo] = s;
  else buf.splice(lo, 0, s);
}

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

  private samples: Sample[] = [];
  private unsubscribe: (() => void) | null = null;
  private fallbackTimer: ReturnType<typeof setTimeout> | null = null;
  private fetchAbort: AbortController | null = null;
  private frame = 0;
  private ticker: ReturnType<typeof setInterval> | null = null;
  private gotHistory = false;
  private version = 0;
  private pushed = { version: -1, charts: -1 };
  private optionsKey = '';
  private options: { util: ChartOptions; power: ChartOptions; temp: ChartOptions } | null = null;

  static override styles = css`
    :host {
      display: block;
      padding: 10px 16px 16px;
      color: #e8edf3;
    }
    header {
      display: flex;
      flex-wrap: wrap;
      align-items: baseline;
      gap: 6px 18px;
      margin-bottom: 10px;
    }
    a.back {
      color: #8ab4ff;
      text-decoration: none;
      font-size: 14px;
    }
    a.back:hover {
      text-decoration: underline;
    }
    h2 {
      margin: 0;
      font-size: 22px;
      font-weight: 650;
    }
    .id {
      font-family: ui-monospace, SFMono-Regular, Menlo, monospace;
      font-size: 12px;
      color: #9aa4b2;
    }
    .host {
      color: #aeb7c4;
      font-size: 14px;
    }
    .status {
      font-size: 11px;
      font-weight: 700;
      text-transform: uppercase;
      letter-spacing: 0.5px;
      padding: 1px 7px;
      border-radius: 8px;
    }
    .status.live { background: #1f6b3a; color: #c9f7d8; }
    .status.stale { background: #d0a030; color: #1a1a1a; }
    .status.offline { background: #5a2026; color: #ffb3b8; }
    .stats {
      display: flex;
      flex-wrap: wrap;
      gap: 4px 22px;
      font-size: 14px;
      color: #aeb7c4;
      margin-bottom: 12px;
      font-variant-numeric: tabular-nums;
    }
    .stats b {
      color: #f2f5f9;
      font-size: 18px;
      font-weight: 650;
      margin-left: 4px;
    }
    .stats.dim b { opacity: 0.6; }
    .charts {
      display: grid;
      gap: 14px;
      --chart-height: 220px;
    }
    .panel {
      background: #141922;
      border: 1px solid #222a36;
      border-radius: 8px;
      padding: 8px 8px 4px;
      min-width: 0;
    }
    .note {
      height: 80px;
      display: flex;
      align-items: center;
      justify-content: center;
      color: #9aa4b2;
      font-size: 15px;
    }
    .empty-hint { color: #7d8794; font-size: 13px; margin: -6px 0 8px; }
  `;

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
      this.samples = [];
      this.version++;
      this.subscribe();
    }
    const estimated = this.latest()?.flags?.powerEstimated === true;
    const key = `${this.chipId}|${estimated}`;
    if (key !== this.optionsKey || !this.options) {
      this.optionsKey = key;
      this.options = {
        util: utilOptions(),
        power: powerOptions(() => this.chip?.ratedPowerW ?? null, estimated),
        temp: tempOptions(),
      };
    }
  }

  protected override updated(): void {
    // new samples, or charts just rendered (e.g. the vendor became known)
    const charts = this.renderRoot.querySelectorAll('uplot-chart').length;
    if (this.pushed.version !== this.version || this.pushed.charts !== charts) {
      this.pushed = { version: this.version, charts };
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
      this.ingest(msg.samples);
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
      if (id === this.chipId && Array.isArray(body.samples)) this.ingest(body.samples);
    } catch {
      /* aborted or hub unreachable: live samples still arrive */
    } finally {
      if (this.fetchAbort === ctrl) this.fetchAbort = null;
    }
  }

  private ingest(samples: Sample[]): void {
    const buf = this.samples;
    for (const s of samples) if (s.chipId === this.chipId) insertSample(buf, s);
    if (buf.length) {
      const cutoff = buf[buf.length - 1].ts - WINDOW_MS;
      let drop = 0;
      while (drop < buf.length && buf[drop].ts < cutoff) drop++;
      drop = Math.max(drop, buf.length - MAX_SAMPLES);
      if (drop > 0) buf.splice(0, drop);
    }
    this.version++;
    if (!this.frame) {
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.requestUpdate();
      });
    }
  }

  /** Newest of the fleet store's latest sample and our own buffer's. */
  private latest(): Sample | null {
    const own = this.samples[this.samples.length - 1] ?? null;
    const fleet = this.chip?.latest ?? null;
    if (!own) return fleet;
    if (!fleet) return own;
    return fleet.ts > own.ts ? fleet : own;
  }

  private chart(id: string): UplotChart | null {
    return this.renderRoot.querySelector<UplotChart>(`uplot-chart[data-testid="${id}"]`);
  }

  private pushData(): void {
    const buf = this.samples;
    const n = buf.length;
    const xs = new Array<number>(n);
    const util = new Array<number | null>(n);
    const power = new Array<number | null>(n);
    const limit = new Array<number | null>(n);
    const temp = new Array<number | null>(n);
    for (let i = 0; i < n; i++) {
      const s = buf[i];
      xs[i] = s.ts / 1000;
      util[i] = s.utilPct;
      power[i] = s.powerW;
      limit[i] = s.powerLimitW;
      temp[i] = s.tempC;
    }
    this.chart('chart-util')?.setData([xs, util] as uPlot.AlignedData);
    this.chart('chart-power')?.setData([xs, power, limit] as uPlot.AlignedData);
    this.chart('chart-temp')?.setData([xs, temp] as uPlot.AlignedData);
  }

  protected override render() {
    const c = this.chip;
    const s = this.latest();
    const status = c?.status;
    const neuron = c?.vendor === 'aws';
    const est = s?.flags?.powerEstimated === true;
    const o = this.options!;
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
        <span>limit<b>${fmtWatts(s?.powerLimitW ?? c?.ratedPowerW)}</b></span>
        <span>temp<b>${fmtTemp(s?.tempC)}</b></span>
        <span>memory<b>${fmtMem(s?.memUsedBytes, s?.memTotalBytes ?? c?.memTotalBytes)}</b></span>
        ${s?.smClockMhz != null ? html`<span>clock<b>${Math.round(s.smClockMhz)} MHz</b></span>` : nothing}
        ${s?.eccUncorrected != null ? html`<span>ECC uncorr.<b>${s.eccUncorrected}</b></span>` : nothing}
        <span>last sample<b>${s ? fmtAgo(s.ts) : DASH}</b></span>
      </div>
      ${this.samples.length === 0
        ? html`<div class="empty-hint">No samples in the last ${HISTORY_MS / 60_000} minutes yet.</div>`
        : nothing}
      <div part="charts" class="charts">
        <div class="panel">
          <uplot-chart data-testid="chart-util" heading="Utilization %" .options=${o.util}></uplot-chart>
        </div>
        <div class="panel">
          <uplot-chart
            data-testid="chart-power"
            heading=${est ? 'Power W (estimated) · limit dashed' : 'Power W · limit dashed'}
            .options=${o.power}
          ></uplot-chart>
        </div>
        <div class="panel">
          ${!c
            ? html`<div class="note">…</div>`
            : neuron
              ? html`<div class="note" data-testid="temp-unavailable">
                  Temperature is not exposed by Neuron for ${c.model} chips.
                </div>`
              : html`<uplot-chart data-testid="chart-temp" heading="Temperature °C" .options=${o.temp}></uplot-chart>`}
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
