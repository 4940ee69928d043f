import { LitElement, css, html, type PropertyValues } from 'lit';
import type { EnergyAnswer } from '../../schema/api-answers.ts';
import type { ChipView } from '../../schema/protocol.ts';
import type { ChipAlerts } from './alerts-controller.ts';
import { distinct, filterChips, groupChips, isUnfiltered, type ChipGroup } from './fleet-filter.ts';
import { fmtKw } from './format.ts';
import { summarize, type EnergyByChip, type FleetSummary } from './heat-metrics.ts';
import { fetchHubJson } from './hub-fetch.ts';
import { PolledFetchController } from './polled-fetch-controller.ts';
import { ThemeController } from './theme.ts';
import { DEFAULT_VIEW, TILES_MAX_CHIPS, type FleetViewState } from './view-state.ts';
import type { FilterChoices } from './fleet-filters.ts';
import './fleet-filters.ts';
import './fleet-grid.ts';
import './fleet-heatmap.ts';

/** How often the per-chip energy of the range is re-read while the energy figure is shown (ms). */
const ENERGY_REFRESH_MS = 60_000;

/**
 * `<fleet-view>`: the fleet page under the header: `<fleet-filters>`, a summary strip of the chips
 * shown (live / stale / offline, power, average utilization, idle but powered), then the chips as
 * `<fleet-heatmap>` (its `theme` the system's, followed as it changes) or, for small selections (`density` auto with at most TILES_MAX_CHIPS chips, or
 * `tiles`), as `<fleet-grid>` tiles. While the energy figure is the colour or the sort, the
 * per-chip energy of the range is read from `GET /api/v1/energy?from=now-<range>&groupBy=chip`.
 *
 * Test hooks: `data-testid="fleet-summary"` with `data-live`, `data-stale`, `data-offline`,
 * `data-idle`, `data-shown`; `data-testid="summary-power" | "summary-util" | "summary-idle"`;
 * `data-testid="energy-note"` (energy read failed or pending).
 *
 * @fires view-change - (from `<fleet-filters>`) the new view state
 */
export class FleetView extends LitElement {
  static override properties = {
    chips: { attribute: false },
    alertsByChip: { attribute: false },
    loaded: { type: Boolean },
    state: { attribute: false },
  };

  declare chips: readonly ChipView[];
  declare alertsByChip: ReadonlyMap<string, ChipAlerts>;
  declare loaded: boolean;
  declare state: FleetViewState;

  /** The system's light or dark theme, for the heatmap's canvas colours. */
  private readonly themeCtl = new ThemeController(this);
  private readonly energy = new PolledFetchController<EnergyByChip>(this, {
    key: () => (this.state.metric === 'energy' || this.state.sort === 'energy' ? `energy:${this.state.range}` : null),
    load: (signal) => loadChipEnergy(this.state.range, signal),
    intervalMs: () => ENERGY_REFRESH_MS,
  });

  static override styles = css`
    :host {
      display: block;
    }
    .summary {
      display: flex;
      flex-wrap: wrap;
      gap: 4px 20px;
      padding: 8px 16px;
      font-size: 13px;
      color: var(--fs-muted, #aeb7c4);
      font-variant-numeric: tabular-nums;
    }
    .summary b {
      color: var(--fs-text, #f2f5f9);
      font-size: 15px;
      margin-right: 3px;
    }
    .summary .stale b {
      color: var(--fs-warn-text);
    }
    .summary .offline b {
      color: var(--fs-bad-text);
    }
    .summary .idle b {
      color: #ff8a1f;
    }
    fleet-heatmap {
      margin: 0 16px 12px;
    }
    .note {
      padding: 0 16px 6px;
      font-size: 12px;
      color: var(--fs-warn-text);
    }
    .empty {
      padding: 48px;
      text-align: center;
      color: var(--fs-dim);
      font-size: 16px;
    }
  `;

  constructor() {
    super();
    this.chips = [];
    this.alertsByChip = new Map();
    this.loaded = false;
    this.state = { ...DEFAULT_VIEW };
  }

  /** The chips shown, their summary and groups: recomputed only when what they depend on changed. */
  private shown: ChipView[] = [];
  private sum: FleetSummary = summarize([]);
  private groups: ChipGroup[] = [];
  private energySeen: EnergyByChip | null = null;
  private choices: FilterChoices = { vendors: [], models: [], types: [] };

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('state')) this.energy.sync();
    const energy = this.energy.data;
    if (changed.has('chips')) this.choices = { vendors: distinct(this.chips, 'vendor'), models: distinct(this.chips, 'model'), types: distinct(this.chips, 'instanceType') };
    const energyChanged = energy !== this.energySeen;
    this.energySeen = energy;
    if (changed.has('chips') || changed.has('state') || (changed.has('alertsByChip') && this.state.alerting)) {
      this.shown = filterChips(this.chips, this.state, this.alertsByChip);
      this.sum = summarize(this.shown);
    } else if (!(energyChanged && (this.state.sort === 'energy' || this.state.metric === 'energy'))) return;
    this.groups = groupChips(this.shown, this.state.group, this.state.sort, energy ?? undefined);
  }

  protected override render() {
    const s = this.state;
    const shown = this.shown;
    const sum = this.sum;
    const energy = this.energy.data ?? undefined;
    const needEnergy = s.metric === 'energy' || s.sort === 'energy';
    const tiles = s.density === 'tiles' || (s.density === 'auto' && shown.length <= TILES_MAX_CHIPS);
    return html`<fleet-filters .state=${s} .choices=${this.choices}></fleet-filters>
      ${this.renderSummary(sum)}
      ${needEnergy && this.energy.error ? html`<div class="note" data-testid="energy-note">Energy could not be read: ${this.energy.error.message}</div>` : ''}
      ${needEnergy && !energy && !this.energy.error ? html`<div class="note" data-testid="energy-note">Reading energy over the last ${s.range}…</div>` : ''}
      ${shown.length === 0 && this.chips.length > 0
        ? html`<div class="empty" data-testid="filter-empty">No chip matches these filters.</div>`
        : tiles
          ? html`<fleet-grid .chips=${shown} .alertsByChip=${this.alertsByChip} ?loaded=${this.loaded}></fleet-grid>`
          : html`<fleet-heatmap .groups=${this.groups} .grouping=${s.group} .metric=${s.metric} .energy=${energy} .alertsByChip=${this.alertsByChip} .theme=${this.themeCtl.theme}></fleet-heatmap>`}`;
  }

  private renderSummary(sum: FleetSummary) {
    const filtered = !isUnfiltered(this.state);
    return html`<div class="summary" data-testid="fleet-summary" data-shown=${sum.chips} data-live=${sum.live} data-stale=${sum.stale} data-offline=${sum.offline} data-idle=${sum.idlePowered}>
      <span><b>${sum.chips}</b>${filtered ? 'chips match the filters' : 'chips'}</span>
      <span class="live"><b>${sum.live}</b>live</span>
      <span class="stale"><b>${sum.stale}</b>stale</span>
      <span class="offline"><b>${sum.offline}</b>offline</span>
      <span title="Power of the live chips shown"><b data-testid="summary-power">${fmtKw(sum.powerW)}</b>power</span>
      <span title="Mean utilization of the live chips shown"><b data-testid="summary-util">${sum.avgUtilPct == null ? '—' : `${Math.round(sum.avgUtilPct)} %`}</b>avg utilization</span>
      <span class="idle" title="Live chips under 5 % utilization that draw power, and the power they draw"
        ><b data-testid="summary-idle">${sum.idlePowered}</b>idle but powered${sum.idlePowered ? ` (${fmtKw(sum.idlePowerW)})` : ''}</span
      >
    </div>`;
  }
}

/** chipId → kWh over the last `range`, from the hub's energy answer per chip. */
async function loadChipEnergy(range: string, signal: AbortSignal): Promise<EnergyByChip> {
  const a = await fetchHubJson<EnergyAnswer>(`/api/v1/energy?from=now-${range}&groupBy=chip`, signal);
  if (!Array.isArray(a.rows)) throw new Error('The hub sent an energy answer this page cannot read');
  return new Map(a.rows.filter((r) => r.chipId).map((r) => [r.chipId!, r.energyKWh]));
}

if (!customElements.get('fleet-view')) customElements.define('fleet-view', FleetView);

declare global {
  interface HTMLElementTagNameMap {
    'fleet-view': FleetView;
  }
}
