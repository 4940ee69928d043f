import { LitElement, css, html, nothing } from 'lit';
import type { EnergyAnswer } from '../../schema/api-answers.ts';
import { fetchHubJson } from './hub-fetch.ts';
import { PolledFetchController } from './polled-fetch-controller.ts';

/** How often the fleet energy line is re-read (ms). */
export const ENERGY_REFRESH_MS = 60_000;

/** "0.60 kWh", "12.3 kWh", "1,234 kWh", "12.3 MWh". */
export function fmtKWh(kwh: number | null): string {
  if (kwh == null) return '—';
  if (kwh >= 10_000) return `${(kwh / 1000).toFixed(1)} MWh`;
  return `${kwh.toLocaleString(undefined, { maximumFractionDigits: kwh < 10 ? 2 : kwh < 1000 ? 1 : 0, minimumFractionDigits: kwh < 10 ? 2 : 0 })} kWh`;
}

async function loadEnergy(signal: AbortSignal): Promise<EnergyAnswer> {
  const a = await fetchHubJson<EnergyAnswer>('/api/v1/energy?from=now-24h&groupBy=vendor', signal);
  if (!a.totals || !Array.isArray(a.rows)) throw new Error('The hub sent an energy answer this page cannot read');
  return a;
}

/**
 * `<fleet-energy>`: one line over the fleet grid with the fleet's last 24 hours from
 * `GET /api/v1/energy?from=now-24h&groupBy=vendor`: energy used, average power and
 * utilization per chip, chip-hours, cost when the hub has prices, and energy per vendor.
 * Re-read every `refreshMs`. A failed read shows a short note instead.
 *
 * Test hooks: host `data-testid="fleet-energy"`; `data-testid="energy-kwh"` with
 * `data-kwh`; `data-testid="energy-avg-power"`; `data-testid="energy-error"`.
 *
 * @csspart line - the text line
 */
export class FleetEnergy extends LitElement {
  static override properties = {
    refreshMs: { type: Number, attribute: 'refresh-ms' },
  };

  declare refreshMs: number;

  private readonly energy = new PolledFetchController<EnergyAnswer>(this, {
    key: () => 'fleet-24h',
    load: loadEnergy,
    intervalMs: () => this.refreshMs,
  });

  static override styles = css`
    :host {
      display: block;
      padding: 8px 16px 0;
      font-size: 13px;
      color: var(--fs-muted);
      font-variant-numeric: tabular-nums;
    }
    .line {
      display: flex;
      flex-wrap: wrap;
      align-items: baseline;
      gap: 4px 16px;
    }
    .title {
      color: var(--fs-text);
      font-weight: 600;
    }
    b {
      color: var(--fs-text-strong);
      font-weight: 650;
      font-size: 15px;
      margin-right: 3px;
    }
    .vendors {
      color: var(--fs-faint);
    }
    .error {
      color: #ffb3b8;
    }
  `;

  constructor() {
    super();
    this.refreshMs = ENERGY_REFRESH_MS;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.setAttribute('data-testid', 'fleet-energy');
  }

  protected override updated(changed: Map<string, unknown>): void {
    if (changed.has('refreshMs') && changed.get('refreshMs') !== undefined) this.energy.restartTimer();
  }

  protected override render() {
    const a = this.energy.data;
    const e = this.energy.error;
    if (!a) {
      return html`<div part="line" class="line">
        <span class="title">Last 24 h</span>
        ${e
          ? html`<span class="error" data-testid="energy-error">energy unavailable: ${e.message}</span>`
          : html`<span>loading energy…</span>`}
      </div>`;
    }
    const t = a.totals;
    const vendors = a.rows.filter((r) => r.energyKWh != null);
    return html`<div part="line" class="line" title="From /api/v1/energy: energy used by the fleet's chips in the last 24 hours">
      <span class="title">Last 24 h</span>
      <span><b data-testid="energy-kwh" data-kwh=${t.energyKWh ?? ''}>${fmtKWh(t.energyKWh)}</b>energy</span>
      <span title="Sample-weighted mean power per chip"
        ><b data-testid="energy-avg-power">${t.avgPowerW == null ? '—' : `${Math.round(t.avgPowerW)} W`}</b>avg per chip</span
      >
      <span><b>${t.avgUtilPct == null ? '—' : `${Math.round(t.avgUtilPct)}%`}</b>avg util</span>
      <span><b>${t.chipHours.toLocaleString(undefined, { maximumFractionDigits: 1 })}</b>chip-hours</span>
      ${t.cost != null ? html`<span><b>${t.cost.toLocaleString(undefined, { maximumFractionDigits: 2 })}</b>cost</span>` : nothing}
      ${vendors.length > 1
        ? html`<span class="vendors">${vendors.map((r) => `${r.label} ${fmtKWh(r.energyKWh)}`).join(' · ')}</span>`
        : nothing}
      ${e ? html`<span class="error" data-testid="energy-error">(refresh failed: ${e.message})</span>` : nothing}
    </div>`;
  }
}

if (!customElements.get('fleet-energy')) customElements.define('fleet-energy', FleetEnergy);

declare global {
  interface HTMLElementTagNameMap {
    'fleet-energy': FleetEnergy;
  }
}
