import { LitElement, css, html } from 'lit';
import { METRICS, METRIC_DEFS } from './heat-metrics.ts';
import { DEFAULT_VIEW, type FleetViewState, RANGES } from './view-state.ts';

/** The choices the filter menus offer (distinct values of the fleet). */
export interface FilterChoices {
  vendors: string[];
  models: string[];
  types: string[];
}

const VENDOR_NAMES: Record<string, string> = { nvidia: 'NVIDIA', aws: 'AWS' };

/**
 * `<fleet-filters>`: the fleet view's controls, each bound to a field of `state`: metric,
 * grouping, sort, density, energy range; vendor, model, instance type, status, host search and
 * "alerting only". A change fires `view-change` with the whole new state (the app puts it in the
 * URL); the host search fires on Enter or when the field loses focus, and after a pause in typing.
 *
 * Test hooks: every control has `data-testid="filter-<field>"` (`filter-metric`, `filter-group`,
 * `filter-sort`, `filter-density`, `filter-range`, `filter-vendor`, `filter-model`, `filter-type`,
 * `filter-status`, `filter-q`, `filter-alerting`, `filter-clear`).
 *
 * @fires view-change - detail: the new `FleetViewState`
 * @csspart bar - the row of controls
 */
export class FleetFilters extends LitElement {
  static override properties = {
    state: { attribute: false },
    choices: { attribute: false },
  };

  declare state: FleetViewState;
  declare choices: FilterChoices;
  private typing: ReturnType<typeof setTimeout> | null = null;

  static override styles = css`
    :host {
      display: block;
      padding: 8px 16px 0;
      font-size: 13px;
      color: var(--fs-muted, #aeb7c4);
    }
    .bar {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      gap: 6px 14px;
    }
    label {
      display: inline-flex;
      align-items: center;
      gap: 5px;
    }
    select,
    input[type='search'],
    button {
      padding: 3px 6px;
      border: 1px solid var(--fs-border, #2f3a4a);
      border-radius: 4px;
      background: var(--fs-input-bg, #121720);
      color: var(--fs-text, #e8edf3);
      font: inherit;
    }
    input[type='search'] {
      width: 150px;
    }
    button {
      cursor: pointer;
    }
    .sep {
      width: 1px;
      height: 20px;
      background: var(--fs-border, #2f3a4a);
    }
  `;

  constructor() {
    super();
    this.state = { ...DEFAULT_VIEW };
    this.choices = { vendors: [], models: [], types: [] };
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    if (this.typing) clearTimeout(this.typing);
  }

  private emit(patch: Partial<FleetViewState>): void {
    const next = { ...this.state, ...patch };
    this.dispatchEvent(new CustomEvent<FleetViewState>('view-change', { detail: next, bubbles: true, composed: true }));
  }

  private select<K extends keyof FleetViewState>(key: K, label: string, options: [string, string][], multi = false) {
    const cur = this.state[key];
    const value = Array.isArray(cur) ? (cur[0] ?? '') : String(cur);
    return html`<label
      >${label}
      <select
        data-testid=${`filter-${key}`}
        @change=${(e: Event) => {
          const v = (e.target as HTMLSelectElement).value;
          this.emit({ [key]: multi ? (v ? [v] : []) : v } as Partial<FleetViewState>);
        }}
      >
        ${options.map(([v, text]) => html`<option value=${v} ?selected=${v === value}>${text}</option>`)}
      </select></label
    >`;
  }

  private onSearch(e: Event, now: boolean): void {
    const v = (e.target as HTMLInputElement).value.trim();
    if (this.typing) clearTimeout(this.typing);
    this.typing = null;
    if (v === this.state.q) return;
    if (now) this.emit({ q: v });
    else this.typing = setTimeout(() => this.emit({ q: v }), 600);
  }

  protected override render() {
    const s = this.state;
    const c = this.choices;
    const all = (xs: string[], names: Record<string, string> = {}): [string, string][] => [['', 'all'], ...xs.map((x): [string, string] => [x, names[x] ?? x])];
    return html`<div class="bar" part="bar">
      ${this.select('metric', 'Colour by', METRICS.map((m) => [m, METRIC_DEFS[m].label]))}
      ${this.select('group', 'Group by', [['host', 'host'], ['model', 'model'], ['none', 'none']])}
      ${this.select('sort', 'Sort', [['name', 'by name'], ...METRICS.map((m): [string, string] => [m, `by ${METRIC_DEFS[m].label.toLowerCase()}`])])}
      ${this.select('density', 'Show', [['auto', 'auto'], ['heatmap', 'heatmap'], ['tiles', 'tiles']])}
      ${this.select('range', 'Energy over', RANGES.map((r) => [r, `last ${r}`]))}
      <span class="sep"></span>
      ${this.select('vendor', 'Vendor', all(c.vendors, VENDOR_NAMES), true)}
      ${this.select('model', 'Model', all(c.models), true)}
      ${this.select('type', 'Instance', all(c.types), true)}
      ${this.select('status', 'Status', all(['live', 'stale', 'offline']), true)}
      <label
        >Host
        <input
          type="search"
          placeholder="search hosts"
          data-testid="filter-q"
          .value=${s.q}
          @input=${(e: Event) => this.onSearch(e, false)}
          @change=${(e: Event) => this.onSearch(e, true)}
      /></label>
      <label><input type="checkbox" data-testid="filter-alerting" .checked=${s.alerting} @change=${(e: Event) => this.emit({ alerting: (e.target as HTMLInputElement).checked })} />alerting only</label>
      <button type="button" data-testid="filter-clear" @click=${() => this.emit({ vendor: [], model: [], type: [], status: [], q: '', alerting: false })}>Clear filters</button>
    </div>`;
  }
}

if (!customElements.get('fleet-filters')) customElements.define('fleet-filters', FleetFilters);

declare global {
  interface HTMLElementTagNameMap {
    'fleet-filters': FleetFilters;
  }
}
