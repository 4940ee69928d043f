import { LitElement, html, nothing, type PropertyValues } from 'lit';
import type { EfficiencyAnswer, EfficiencyRow } from '../../schema/api-answers.ts';
import {
  DASH,
  ESTIMATED_TITLE,
  barFractions,
  fmtCost,
  fmtJPerUnit,
  fmtPct,
  fmtSig,
  fmtUnits,
  fmtWatts,
  nextSort,
  pickUnit,
  rowLabel,
  singularUnit,
  sortRows,
  unitsByUse,
} from './efficiency-format.ts';
import { modelColors } from './efficiency-plot.ts';
import { DEFAULT_EFFICIENCY, EFFICIENCY_GROUPS, EFFICIENCY_RANGES, efficiencyHash, type EfficiencyGroup, type EfficiencySortKey, type EfficiencyState } from './efficiency-state.ts';
import { efficiencyStyles } from './efficiency-styles.ts';
import { fetchHubJson } from './hub-fetch.ts';
import { PolledFetchController } from './polled-fetch-controller.ts';
import './efficiency-scatter.ts';

/** How often the efficiency answers are re-read (ms). */
export const EFFICIENCY_REFRESH_MS = 15_000;

const GROUP_LABELS: Record<EfficiencyGroup, string> = { job: 'Job', model: 'Generation (model)', vendor: 'Vendor' };
const RANGE_LABELS: Record<(typeof EFFICIENCY_RANGES)[number], string> = { '1h': '1 h', '6h': '6 h', '24h': '24 h', '7d': '7 d' };
/** The bars' colour for a group of several models (a vendor, a job across generations). */
const BAR_COLOR = '#4e9af1';

async function loadEfficiency(groupBy: string, range: string, signal: AbortSignal): Promise<EfficiencyAnswer> {
  const a = await fetchHubJson<EfficiencyAnswer>(`/api/v1/efficiency?groupBy=${groupBy}&from=now-${range}`, signal);
  if (!Array.isArray(a.rows)) throw new Error('The hub sent an efficiency answer this page cannot read');
  return a;
}

interface Column {
  key: EfficiencySortKey;
  label: (unit: string) => string;
  title: string;
}

const COLUMNS: readonly Column[] = [
  { key: 'label', label: () => 'Group', title: 'The group (job, model or vendor)' },
  { key: 'chips', label: () => 'Chips', title: 'Chips that did this work in the range' },
  { key: 'units', label: (u) => `${u || 'Units'} done`, title: 'Work done in the range (counter increments)' },
  { key: 'jPerUnit', label: (u) => `J / ${singularUnit(u) || 'unit'}`, title: 'Energy the chips used while working, per unit of work (lower is better)' },
  { key: 'costPerMillionUnits', label: (u) => `Cost / M ${u || 'units'}`, title: 'Energy cost + chip-hour cost per million units, in the unit the hub’s prices are in (— : no prices)' },
  { key: 'unitsPerChipHour', label: (u) => `${u || 'Units'} / chip-h`, title: 'Throughput: units per chip-hour of work (higher is better)' },
  { key: 'avgPowerW', label: () => 'Avg power', title: 'Mean power of the chips while they worked' },
  { key: 'avgUtilPct', label: () => 'Avg util', title: 'Mean utilization of the chips while they worked' },
];

/**
 * `<efficiency-view>` (the `#/efficiency` route): what the fleet's work cost in energy and money,
 * from `GET /api/v1/efficiency`, re-read every 15 s. Its state is the URL's (efficiency-state.ts):
 * grouped by job, model (the chip generation) or vendor; the last 1 h, 6 h, 24 h or 7 d; one unit
 * of work at a time (joules per token and per step do not compare); the table's sort.
 *
 * - a table per group: chips, units done, J per unit, cost per million units ("—" without
 *   prices), units per chip-hour, average power and utilization; an "est." marker where the
 *   power is estimated (Neuron); a header click sorts (again: reverses);
 * - side by side, J per unit and cost per million units as horizontal bars, in the table's order;
 * - `<efficiency-scatter>`: each chip's power against its throughput (`groupBy=chip`), by model;
 * - with no work counters in the range, how to send them; a failed read, the hub's message.
 *
 * Test hooks: host `data-testid="efficiency-view"` with `data-state` (loading | ok | empty |
 * error), `data-group-by`, `data-unit`; `data-testid="group-<job|model|vendor>"`,
 * `data-testid="eff-range-<range>"` (links, `aria-current`), `data-testid="unit-select"`;
 * rows `data-testid="efficiency-row"` with `data-label`, `data-estimated`; headers
 * `data-testid="sort-<key>"` (in a `th` with `aria-sort`); bars `data-testid="bar-jPerUnit" |
 * "bar-costPerMillionUnits"` with `data-label`, `data-fraction`; `data-testid="efficiency-empty"`,
 * `data-testid="efficiency-error"` with `data-code`.
 *
 * @fires efficiency-change - `detail: EfficiencyState` when the user picks a unit or a sort (the app puts it in the URL)
 */
export class EfficiencyView extends LitElement {
  static override properties = {
    state: { attribute: false },
    jobOf: { attribute: false },
  };

  declare state: EfficiencyState;
  /** The job running on a chip now (from the live fleet), for the scatter's hover card. */
  declare jobOf: ((chipId: string) => string | undefined) | undefined;

  private readonly groups = new PolledFetchController<EfficiencyAnswer>(this, {
    key: () => `${this.state.groupBy}|${this.state.range}`,
    load: (signal) => loadEfficiency(this.state.groupBy, this.state.range, signal),
    intervalMs: () => EFFICIENCY_REFRESH_MS,
  });
  private readonly chips = new PolledFetchController<EfficiencyAnswer>(this, {
    key: () => this.state.range,
    load: (signal) => loadEfficiency('chip', this.state.range, signal),
    intervalMs: () => EFFICIENCY_REFRESH_MS,
  });

  static override styles = efficiencyStyles;

  constructor() {
    super();
    this.state = { ...DEFAULT_EFFICIENCY, sort: { ...DEFAULT_EFFICIENCY.sort } };
    this.jobOf = undefined;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.dataset.testid = 'efficiency-view';
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('state')) {
      this.groups.sync();
      this.chips.sync();
    }
  }

  private change(next: Partial<EfficiencyState>): void {
    this.dispatchEvent(new CustomEvent('efficiency-change', { detail: { ...this.state, ...next }, bubbles: true, composed: true }));
  }

  protected override render() {
    const s = this.state;
    const g = this.groups;
    const groupRows = g.data?.rows ?? [];
    const chipRows = this.chips.data?.rows ?? [];
    const allRows = [...groupRows, ...chipRows];
    const unit = pickUnit(allRows, s.unit);
    const units = unitsByUse(allRows);
    if (s.unit && !units.includes(s.unit)) units.push(s.unit);
    const rows = sortRows(groupRows.filter((r) => r.unit === unit), s.sort);
    const error = g.error ?? this.chips.error;
    const state = error && !g.data ? 'error' : !g.data ? 'loading' : allRows.length === 0 ? 'empty' : 'ok';
    this.dataset.state = state;
    this.dataset.groupBy = s.groupBy;
    this.dataset.unit = unit;
    return html`<div class="top">
        <h2>Efficiency</h2>
        <span class="seg" role="group" aria-label="Group by">
          ${EFFICIENCY_GROUPS.map(
            (k) => html`<a href=${efficiencyHash({ ...s, groupBy: k })} data-testid=${`group-${k}`} aria-current=${k === s.groupBy ? 'true' : 'false'}>${GROUP_LABELS[k]}</a>`,
          )}
        </span>
        <span class="seg" role="group" aria-label="Range">
          ${EFFICIENCY_RANGES.map(
            (r) => html`<a href=${efficiencyHash({ ...s, range: r })} data-testid=${`eff-range-${r}`} aria-current=${r === s.range ? 'true' : 'false'} title=${`The last ${RANGE_LABELS[r]}`}>${RANGE_LABELS[r]}</a>`,
          )}
        </span>
        ${units.length > 1 || s.unit
          ? html`<label class="ctl"
              >Unit
              <select data-testid="unit-select" @change=${(e: Event) => this.change({ unit: (e.target as HTMLSelectElement).value })}>
                ${units.map((u) => html`<option value=${u} ?selected=${u === unit}>${u}</option>`)}
              </select></label
            >`
          : unit
            ? html`<span class="ctl">Unit <b>${unit}</b></span>`
            : nothing}
        <span class="meta">${g.data ? html`${g.data.tier} tier · ${this.pricesNote(g.data)} · re-read every ${EFFICIENCY_REFRESH_MS / 1000} s` : nothing}</span>
      </div>
      ${error
        ? html`<div class="error" data-testid="efficiency-error" data-code=${error.code}>
            Could not load the efficiency figures: ${error.message}${error.status === 404 ? ' (is this hub older than the efficiency API?)' : ''}${g.data
              ? ' (showing the last figures read)'
              : ''}
          </div>`
        : nothing}
      ${state === 'loading' ? html`<div class="loading">Loading…</div>` : nothing}
      ${state === 'empty' ? this.renderEmpty() : nothing}
      ${state === 'ok' ? this.renderBody(rows, chipRows, unit) : nothing}`;
  }

  private pricesNote(a: EfficiencyAnswer): string {
    const kwh = a.prices.kwh;
    const models = Object.keys(a.prices.chipHour).length;
    if (kwh == null && models === 0) return 'no prices';
    return `prices: ${kwh != null ? `${kwh}/kWh` : 'no energy price'}${models ? `, chip-hours of ${models} ${models === 1 ? 'model' : 'models'}` : ''}`;
  }

  private renderBody(rows: EfficiencyRow[], chipRows: readonly EfficiencyRow[], unit: string) {
    // the scatter's colours: a row of one model (a model, or a job on one model) is in its colour
    const colors = modelColors([...rows.flatMap((r) => (r.model ? [r.model] : [])), ...chipRows.map((r) => r.model ?? r.vendor ?? '?')]);
    return html`<section class="panel">
        <h3>By ${GROUP_LABELS[this.state.groupBy].toLowerCase()}<small>${unit ? `${unit}, ` : ''}the last ${RANGE_LABELS[this.state.range]}</small></h3>
        ${rows.length ? this.renderTable(rows, unit) : html`<div class="note">No ${unit} reported in this range.</div>`}
      </section>
      <div class="grid">
        <section class="panel" data-testid="efficiency-bars">
          <h3>Side by side<small>shorter is better</small></h3>
          <div class="bars-pair">
            ${this.renderBars(rows, 'jPerUnit', `J per ${singularUnit(unit) || 'unit'}`, (r) => fmtJPerUnit(r.jPerUnit, unit), colors)}
            ${this.renderBars(rows, 'costPerMillionUnits', `Cost per million ${unit || 'units'}`, (r) => fmtCost(r.costPerMillionUnits), colors)}
          </div>
          ${rows.length && rows.every((r) => r.costPerMillionUnits == null)
            ? html`<div class="note">No cost: the hub has no prices. Start it with <code>--price-kwh</code> and <code>--price-chip-hour</code>.</div>`
            : nothing}
        </section>
        <section class="panel">
          <h3>Power against throughput<small>one dot per chip; a power cap's sweet spot: left, barely lower</small></h3>
          <efficiency-scatter .rows=${chipRows} .unit=${unit} .palette=${colors} .jobOf=${this.jobOf}></efficiency-scatter>
        </section>
      </div>`;
  }

  private renderTable(rows: EfficiencyRow[], unit: string) {
    const sort = this.state.sort;
    return html`<div class="table-wrap"><table data-testid="efficiency-table">
      <thead>
        <tr>
          ${COLUMNS.map((c) => {
            const on = sort.key === c.key;
            return html`<th aria-sort=${on ? (sort.desc ? 'descending' : 'ascending') : 'none'} title=${c.title}>
              <button type="button" data-testid=${`sort-${c.key}`} @click=${() => this.change({ sort: nextSort(sort, c.key) })}>
                ${c.label(unit)}<span class="arrow">${on ? (sort.desc ? '▼' : '▲') : ''}</span>
              </button>
            </th>`;
          })}
        </tr>
      </thead>
      <tbody>
        ${rows.map((r) => this.renderRow(r, unit))}
      </tbody>
    </table></div>`;
  }

  private renderRow(r: EfficiencyRow, unit: string) {
    const est = r.powerEstimated;
    const sub = this.subLabel(r);
    const approx = (text: string) => (est && text !== DASH ? html`<span class="approx" title=${ESTIMATED_TITLE}>~${text}</span>` : text);
    return html`<tr data-testid="efficiency-row" data-label=${rowLabel(r)} data-estimated=${est ? 'true' : 'false'}>
      <td>
        <span class="label">${rowLabel(r)}</span>${sub ? html`<span class="sub">${sub}</span>` : nothing}${est
          ? html`<span class="est" data-testid="estimated" title=${ESTIMATED_TITLE}>estimated</span>`
          : nothing}
      </td>
      <td>${r.chips}</td>
      <td title=${`${r.units.toLocaleString()} ${unit}`}>${fmtUnits(r.units)}</td>
      <td>${approx(fmtJPerUnit(r.jPerUnit, unit))}</td>
      <td class=${r.costPerMillionUnits == null ? 'na' : ''} title=${r.costPerMillionUnits == null ? 'No price for this group (the hub needs --price-kwh and --price-chip-hour)' : ''}>${fmtCost(r.costPerMillionUnits)}</td>
      <td>${fmtSig(r.unitsPerChipHour)}</td>
      <td>${approx(fmtWatts(r.avgPowerW))}</td>
      <td>${fmtPct(r.avgUtilPct)}</td>
    </tr>`;
  }

  /** What else the group has in common: a job's model, a model's vendor, the number of jobs. */
  private subLabel(r: EfficiencyRow): string {
    const parts: string[] = [];
    if (this.state.groupBy === 'job' && r.model) parts.push(r.model);
    if (this.state.groupBy === 'model' && r.vendor) parts.push(r.vendor);
    if (this.state.groupBy !== 'job') parts.push(`${r.jobs} ${r.jobs === 1 ? 'job' : 'jobs'}`);
    return parts.join(' · ');
  }

  private renderBars(rows: EfficiencyRow[], field: 'jPerUnit' | 'costPerMillionUnits', title: string, text: (r: EfficiencyRow) => string, colors: ReadonlyMap<string, string>) {
    const fr = barFractions(rows, field);
    return html`<div class="bars">
      <h4>${title}</h4>
      ${rows.map((r, i) => {
        const f = fr[i];
        const color = (r.model && colors.get(r.model)) || BAR_COLOR;
        const est = field === 'jPerUnit' && r.powerEstimated;
        return html`<div class="bar-row" data-testid=${`bar-${field}`} data-label=${rowLabel(r)} data-fraction=${f == null ? '' : f.toFixed(4)}>
          <span class="name" title=${rowLabel(r)}>${rowLabel(r)}</span>
          <span class="track">${f == null
            ? nothing
            : html`<span class=${`fill${est ? ' estimated' : ''}`} style=${`width:${Math.max(0.5, f * 100).toFixed(2)}%;background-color:${color}`} title=${est ? ESTIMATED_TITLE : ''}></span>`}</span>
          <span class="val">${est && f != null ? '~' : ''}${text(r)}</span>
        </div>`;
      })}
    </div>`;
  }

  private renderEmpty() {
    return html`<section class="panel empty" data-testid="efficiency-empty">
      <h3>No work counters in the last ${RANGE_LABELS[this.state.range]}</h3>
      <p>
        Efficiency needs to know what the chips did: jobs report work counters (tokens, steps, samples… —
        monotonic, since the job started) with their job id and chips. Send them by any of:
      </p>
      <ul>
        <li>
          the agent's local endpoint: start it with <code>--work-port 9465</code> and have the job
          <code>POST /v1/work</code> to it (docs/agent.md; <code>python/fleetscope_work.py</code> does), e.g.
          <pre>
curl -s -H 'content-type: application/json' http://127.0.0.1:9465/v1/work \\
  -d '{"job":"llama-ft-7","counters":{"tokens":123456}}'</pre
          >
        </li>
        <li>
          the hub's line protocol (<code>POST /api/v1/write</code>), one line per report:
          <pre>work,job=llama-ft-7,host=p5-node-1,chip=GPU-5f1c… tokens=123456i 1795690552842000000</pre>
        </li>
      </ul>
      <p class="note">The agent can also name the job alone from a file or the environment (<code>--job-file</code>, <code>--job-env SLURM_JOB_ID</code>): chips then show their job, but efficiency needs counters. This page re-reads the hub every ${EFFICIENCY_REFRESH_MS / 1000} s.</p>
    </section>`;
  }
}

if (!customElements.get('efficiency-view')) customElements.define('efficiency-view', EfficiencyView);

declare global {
  interface HTMLElementTagNameMap {
    'efficiency-view': EfficiencyView;
  }
}
