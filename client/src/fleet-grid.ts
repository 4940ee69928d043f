import { LitElement, css, html } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type { ChipView } from '../../schema/protocol.ts';
import { alertsTitle, mergeChipAlerts, type ChipAlerts } from './alerts-controller.ts';
import { severityPillStyles } from './alert-look.ts';
import { fmtKw } from './format.ts';
import { formatRoute } from './view-state.ts';
import './chip-tile.ts';

interface HostGroup {
  host: string;
  instanceType: string | null;
  chips: ChipView[];
  powerW: number;
  live: number;
}

/** Groups chips (already sorted by host, then index) by host. */
export function groupByHost(chips: readonly ChipView[]): HostGroup[] {
  const groups = new Map<string, HostGroup>();
  for (const c of chips) {
    let g = groups.get(c.host);
    if (!g) {
      g = { host: c.host, instanceType: c.instanceType, chips: [], powerW: 0, live: 0 };
      groups.set(c.host, g);
    }
    g.chips.push(c);
    if (c.status === 'live') {
      g.live++;
      if (c.latest?.powerW != null) g.powerW += c.latest.powerW;
    }
  }
  return [...groups.values()];
}

/**
 * `<fleet-grid>`: every chip as a `<chip-tile>`, grouped by host. Each host header
 * shows hostname, instance type, chip count and the host's total (live) power, and, when chips
 * of the host have firing alerts (`alertsByChip`), a badge: how many, in the worst severity's colour.
 *
 * Test hooks: `data-testid="host-group"` + `data-host` on each host section;
 * `data-testid="host-alert-badge"` with `data-severity`, `data-count` in its header;
 * tiles are `<chip-tile data-testid="chip-tile">` in this element's shadow root.
 *
 * @csspart host - a host section
 * @csspart host-header - a host's header line
 */
export class FleetGrid extends LitElement {
  static override properties = {
    chips: { attribute: false },
    alertsByChip: { attribute: false },
    loaded: { type: Boolean },
  };

  declare chips: readonly ChipView[];
  /** Firing alerts by chip id. */
  declare alertsByChip: ReadonlyMap<string, ChipAlerts>;
  declare loaded: boolean;

  static override styles = [severityPillStyles, css`
    :host {
      display: block;
      padding: 8px 12px 12px;
    }
    .host-alert {
      align-self: flex-start;
      cursor: help;
      text-transform: none;
      letter-spacing: 0;
    }
    section {
      display: grid;
      grid-template-columns: 148px 1fr;
      gap: 8px;
      padding: 4px 0;
      border-top: 1px solid var(--fs-divider);
    }
    section:first-child {
      border-top: none;
    }
    header {
      display: flex;
      flex-direction: column;
      gap: 3px;
      padding: 4px 2px;
      font-size: 12px;
      color: var(--fs-muted);
      min-width: 0;
    }
    .hostname {
      color: var(--fs-text);
      text-decoration: none;
      font-weight: 600;
      font-size: 14px;
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
    }
    .type {
      align-self: flex-start;
      padding: 0 6px;
      border-radius: 4px;
      background: var(--fs-code-bg, #1f2633);
      color: var(--fs-code-text, #9fc1ff);
      font-family: ui-monospace, SFMono-Regular, Menlo, monospace;
      font-size: 12px;
    }
    .power {
      font-variant-numeric: tabular-nums;
      color: var(--fs-text);
      font-size: 16px;
      font-weight: 600;
    }
    .tiles {
      display: grid;
      grid-template-columns: repeat(auto-fill, minmax(140px, 1fr));
      grid-auto-rows: 88px;
      gap: 5px;
    }
    @media (max-width: 700px) {
      section {
        grid-template-columns: 1fr;
      }
      header {
        flex-direction: row;
        flex-wrap: wrap;
        align-items: baseline;
        gap: 4px 12px;
      }
    }
    .empty {
      padding: 48px;
      text-align: center;
      color: var(--fs-dim);
      font-size: 18px;
    }
  `];

  constructor() {
    super();
    this.chips = [];
    this.alertsByChip = new Map();
    this.loaded = false;
  }

  protected override render() {
    if (this.chips.length === 0) {
      return html`<div class="empty" data-testid="fleet-empty">
        ${this.loaded ? 'No chips reported yet. Start an agent to see its chips here.' : 'Loading fleet…'}
      </div>`;
    }
    return repeat(
      groupByHost(this.chips),
      (g) => g.host,
      (g) => this.renderHost(g),
    );
  }

  private renderHost(g: HostGroup) {
    const alerts = this.alertsByChip.size ? mergeChipAlerts(g.chips.map((c) => this.alertsByChip.get(c.chipId))) : null;
    return html`<section part="host" data-testid="host-group" data-host=${g.host}>
        <header part="host-header">
          <a class="hostname" title=${`${g.host}: all its chips in one view`} href=${formatRoute({ view: 'host', host: g.host, range: '1h' })} data-testid="host-link">${g.host}</a>
          ${g.instanceType ? html`<span class="type">${g.instanceType}</span>` : ''}
          <span>${g.chips.length} ${g.chips.length === 1 ? 'chip' : 'chips'}${
            g.live < g.chips.length ? ` · ${g.live} live` : ''
          }</span>
          <span class="power" title="Total power of this host's live chips">${fmtKw(g.powerW)}</span>
          ${alerts
            ? html`<span class="sev host-alert" data-testid="host-alert-badge" data-severity=${alerts.severity} data-count=${alerts.count} title=${alertsTitle(alerts.alerts)}
                >⚠ ${alerts.count} firing</span
              >`
            : ''}
        </header>
        <div class="tiles">
          ${repeat(
            g.chips,
            (c) => c.chipId,
            (c) => html`<chip-tile .chip=${c} .alerts=${this.alertsByChip.get(c.chipId)}></chip-tile>`,
          )}
        </div>
      </section>`;
  }
}

if (!customElements.get('fleet-grid')) customElements.define('fleet-grid', FleetGrid);

declare global {
  interface HTMLElementTagNameMap {
    'fleet-grid': FleetGrid;
  }
}
