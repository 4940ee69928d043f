import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import type { AgentsAnswer, SeriesAnswer } from '../../schema/api-answers.ts';
import type { ChipView } from '../../schema/protocol.ts';
import { chipHref, fmtAgo } from './format.ts';
import { HOST_FIELDS, hostChartOptions, hostSeries, type HostField, type HostSeries } from './host-charts.ts';
import { fetchHubJson } from './hub-fetch.ts';
import { PolledFetchController } from './polled-fetch-controller.ts';
import type { ChartOptions, UplotChart } from './uplot-chart.ts';
import type uPlot from 'uplot';
import { DEFAULT_HOST_RANGE, HOST_RANGES, formatRoute, parseRoute, type HostRange } from './view-state.ts';
import './uplot-chart.ts';

/** How often the host's charts and its agent's health are re-read (ms). */
const REFRESH_MS = 15_000;
const TITLES: Record<HostField, string> = { utilPct: 'Utilization', powerW: 'Power', tempC: 'Temperature', memUsedBytes: 'Memory used' };

type AgentView = AgentsAnswer['agents'][number];

/**
 * The fleet view's hash last shown (with its filters), for the host view's back link: this module
 * loads with the app, so it sees every navigation.
 */
let lastFleetHash = '#/';
function noteFleetHash(): void {
  if (typeof location === 'undefined') return;
  const h = location.hash || '#/';
  if (parseRoute(h).view === 'fleet') lastFleetHash = h;
}
if (typeof window !== 'undefined') {
  noteFleetHash();
  window.addEventListener('hashchange', noteFleetHash);
}

/** The fleet view to go back to: the last one shown, filters and all (`#/` at first). */
export function fleetReturnHash(): string {
  return lastFleetHash;
}

/**
 * The series with the leading buckets where no chip has any value left out: on a young hub (or a
 * host that joined within the range) the charts start at its first sample instead of squeezing
 * a few minutes into the right edge of the range. Returns the index of the first bucket kept.
 */
export function trimLeadingEmpty(s: HostSeries): { series: HostSeries; first: number } {
  const xs = s.data[HOST_FIELDS[0]][0] as ArrayLike<number>;
  let first = xs.length;
  for (const f of HOST_FIELDS) {
    const cols = s.data[f].slice(1) as ArrayLike<number | null | undefined>[];
    for (let i = 0; i < first; i++) {
      if (cols.some((c) => c[i] != null)) {
        first = i;
        break;
      }
    }
  }
  // nothing at all, or data from the first bucket: as it is
  if (first === 0 || first >= xs.length) return { series: s, first: 0 };
  const data = {} as HostSeries['data'];
  for (const f of HOST_FIELDS) data[f] = s.data[f].map((c) => Array.prototype.slice.call(c, first)) as unknown as uPlot.AlignedData;
  return { series: { ...s, data }, first };
}

/**
 * `<host-view>`: one host (`#/host/<host>`): its chips overlaid, a line per chip, in one chart per
 * metric (utilization, power, temperature, memory) over the last `range`, read from
 * `/api/v1/series?host=…` with the step left to the hub and re-read every 15 s; the charts share
 * one cursor (uPlot `cursor.sync`), so hovering one shows the same moment in all. Below, the
 * health of the host's agent(s) from `/api/v1/agents`: connection, last batch, each source's
 * state, restarts and parse errors, and what the spool had to drop.
 *
 * A "← fleet" link goes back to the fleet view last shown, its filters kept. The range defaults to
 * 1 h (`DEFAULT_HOST_RANGE`); when the hub holds nothing of the host in the early part of the range
 * (a young hub, a host that joined since), the charts start at its first sample ("since the first
 * sample, 12:03") rather than squeezing a few minutes against the right edge.
 *
 * Test hooks: host `data-testid="host-view"`; charts `data-testid="host-chart-<field>"`;
 * `data-testid="host-range-<range>"`; `data-testid="agent-health"` with `data-agent-id`;
 * `data-testid="host-error"`; `data-testid="back-link"`; `data-testid="host-since"` with
 * `data-since` (ms) when the charts start at the first sample.
 */
export class HostView extends LitElement {
  static override properties = {
    host: {},
    range: {},
    chips: { attribute: false },
  };

  declare host: string;
  declare range: HostRange;
  /** The host's chips as the fleet view has them (names and order of the lines). */
  declare chips: readonly ChipView[];

  private readonly series = new PolledFetchController<SeriesAnswer>(this, {
    key: () => (this.host ? `${this.host}|${this.range}` : null),
    load: (signal) => fetchHubJson<SeriesAnswer>(`/api/v1/series?host=${encodeURIComponent(this.host)}&fields=${HOST_FIELDS.join(',')}&from=now-${this.range}&maxPoints=1500`, signal),
    intervalMs: () => REFRESH_MS,
  });
  private readonly agents = new PolledFetchController<AgentsAnswer>(this, {
    key: () => (this.host ? 'agents' : null),
    load: (signal) => fetchHubJson<AgentsAnswer>('/api/v1/agents', signal),
    intervalMs: () => REFRESH_MS,
  });
  private shaped: HostSeries | null = null;
  /** When the charts start later than the range (ms since the epoch): the host's first sample in it; else null. */
  private startsAt: number | null = null;
  private shapedFrom: SeriesAnswer | null = null;
  /** Chart options per field, rebuilt only when the lines or the power limit change (so the charts persist). */
  private options: Partial<Record<HostField, ChartOptions>> = {};
  private optionsKey = '';

  static override styles = css`
    :host {
      display: block;
      padding: 10px 16px 16px;
      color: var(--fs-text);
    }
    .top {
      display: flex;
      align-items: baseline;
      gap: 6px 16px;
      margin: 0 0 6px;
    }
    .back {
      color: var(--fs-link);
      font-size: 13px;
      text-decoration: none;
    }
    .back:hover {
      text-decoration: underline;
    }
    h2 {
      margin: 0;
      font-size: 18px;
    }
    .bar {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      gap: 8px 16px;
      margin-bottom: 10px;
      font-size: 13px;
      color: var(--fs-muted);
    }
    .bar a {
      color: var(--fs-link);
    }
    .ranges a {
      padding: 2px 8px;
      border-radius: 4px;
      text-decoration: none;
    }
    .ranges a[aria-current='true'] {
      background: var(--fs-selected);
      color: var(--fs-text-strong);
    }
    .charts {
      display: grid;
      grid-template-columns: repeat(auto-fit, minmax(560px, 1fr));
      gap: 14px;
    }
    uplot-chart {
      --chart-height: 260px;
    }
    table {
      border-collapse: collapse;
      margin-top: 16px;
      font-size: 13px;
      font-variant-numeric: tabular-nums;
    }
    th,
    td {
      padding: 4px 10px;
      border-bottom: 1px solid var(--fs-divider);
      text-align: left;
    }
    th {
      color: var(--fs-faint);
      font-weight: 600;
    }
    .bad {
      color: var(--fs-bad-text);
    }
    .note {
      color: var(--fs-warn-text);
      font-size: 13px;
    }
  `;

  constructor() {
    super();
    this.host = '';
    this.range = DEFAULT_HOST_RANGE;
    this.chips = [];
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('host') || changed.has('range')) {
      this.series.sync();
      this.agents.sync();
    }
    const a = this.series.data;
    if (a !== this.shapedFrom) {
      this.shapedFrom = a;
      const whole = a ? hostSeries(a, this.chips.map((c) => c.chipId)) : null;
      const t = whole ? trimLeadingEmpty(whole) : null;
      this.shaped = t ? t.series : null;
      this.startsAt = t && t.first > 0 ? Number((t.series.data[HOST_FIELDS[0]][0] as ArrayLike<number>)[0]) * 1000 : null;
    }
    const names = this.shaped ? this.shaped.chipIds.map((id) => this.chipName(id)) : [];
    const limit = Math.max(0, ...this.chips.map((c) => c.latest?.powerLimitW ?? c.ratedPowerW ?? 0)) || null;
    const key = JSON.stringify([this.host, names, limit]);
    if (key !== this.optionsKey) {
      this.optionsKey = key;
      this.options = Object.fromEntries(HOST_FIELDS.map((f) => [f, hostChartOptions(f, names, `host:${this.host}`, limit)]));
    }
  }

  protected override updated(): void {
    const s = this.shaped;
    if (!s) return;
    for (const field of HOST_FIELDS) {
      const el = this.renderRoot.querySelector<UplotChart>(`[data-testid="host-chart-${field}"]`);
      if (el) el.setData(s.data[field]);
    }
  }

  protected override render() {
    this.dataset.testid = 'host-view';
    const s = this.shaped;
    const mine = (this.agents.data?.agents ?? []).filter((a) => a.host === this.host);
    return html`<div class="top">
        <a class="back" href=${fleetReturnHash()} data-testid="back-link" title="Back to the fleet view (its filters kept); Escape does the same">← fleet</a>
        <h2>${this.host}</h2>
      </div>
      <div class="bar">
        <span>${this.chips.length || (s?.chipIds.length ?? 0)} chips${this.chips[0]?.instanceType ? ` · ${this.chips[0].instanceType}` : ''}</span>
        <span class="ranges">${HOST_RANGES.map((r) => html`<a href=${formatRoute({ view: 'host', host: this.host, range: r })} data-testid=${`host-range-${r}`} aria-current=${r === this.range ? 'true' : 'false'}>${r}</a>`)}</span>
        ${s ? html`<span>${this.series.data!.step} steps · ${this.series.data!.tier} tier</span>` : nothing}
        ${this.startsAt != null
          ? html`<span data-testid="host-since" data-since=${this.startsAt} title=${`The hub holds no sample of this host in the last ${this.range} before then: the charts start at its first one`}
              >since the first sample, ${new Date(this.startsAt).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })}</span
            >`
          : nothing}
        <span>${this.chips.map((c) => html`<a href=${chipHref(c.chipId)}>#${c.index}</a> `)}</span>
      </div>
      ${this.series.error ? html`<div class="note" data-testid="host-error">${this.series.error.message}</div>` : nothing}
      ${s
        ? html`<div class="charts">
            ${HOST_FIELDS.map(
              (f) => html`<uplot-chart data-testid=${`host-chart-${f}`} heading=${TITLES[f]} .options=${this.options[f]}></uplot-chart>`,
            )}
          </div>`
        : html`<div class="note">${this.series.error ? '' : 'Loading…'}</div>`}
      ${mine.length ? this.renderHealth(mine) : nothing}`;
  }

  private chipName(id: string): string {
    const c = this.chips.find((x) => x.chipId === id);
    return c ? `${c.model} #${c.index}` : id;
  }

  private renderHealth(agents: AgentView[]) {
    return html`<table>
      <thead>
        <tr><th>agent</th><th>connected</th><th>last batch</th><th>source</th><th>state</th><th>restarts</th><th>parse errors</th><th>last error</th><th>spool dropped</th></tr>
      </thead>
      <tbody>
        ${agents.flatMap((a) =>
          (a.health.length ? a.health : [null]).map(
            (h, i) => html`<tr data-testid="agent-health" data-agent-id=${a.agentId}>
              <td>${i === 0 ? `${a.agentId} (${a.version}, every ${a.intervalMs} ms)` : ''}</td>
              <td class=${a.connected ? '' : 'bad'}>${i === 0 ? (a.connected ? 'yes' : 'no') : ''}</td>
              <td>${i === 0 && a.lastBatchAt ? fmtAgo(a.lastBatchAt) : ''}</td>
              <td>${h?.kind ?? '—'}</td>
              <td class=${h && h.state !== 'ok' ? 'bad' : ''}>${h?.state ?? '—'}</td>
              <td>${h?.restarts ?? '—'}</td>
              <td class=${h?.parseErrors ? 'bad' : ''}>${h?.parseErrors ?? '—'}</td>
              <td>${h?.lastError ?? ''}</td>
              <td class=${a.dropped.batches ? 'bad' : ''}>${i === 0 ? `${a.dropped.batches} batches, ${a.dropped.samples} samples` : ''}</td>
            </tr>`,
          ),
        )}
      </tbody>
    </table>`;
  }
}

if (!customElements.get('host-view')) customElements.define('host-view', HostView);

declare global {
  interface HTMLElementTagNameMap {
    'host-view': HostView;
  }
}
