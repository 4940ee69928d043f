import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import type { ChipView } from '../../schema/protocol.ts';
import { alertsTitle, type ChipAlerts } from './alerts-controller.ts';
import { severityColor } from './alert-look.ts';
import { DASH, chipHref, fmtAgo, fmtMem, fmtPct, fmtTemp, utilColor } from './format.ts';

/**
 * `<chip-tile>`: one chip at a glance: model and index, utilization (large),
 * power, temperature and memory, on a background coloured by utilization.
 *
 * - live: values on the utilization colour scale;
 * - stale: greyed, hatched, a "stale" badge, last-known values dimmed (never zeros);
 * - offline: dark, an "offline" badge and no values.
 *
 * A chip with firing alerts (`alerts`) gets a badge in its top row, "⚠" and how many, in the
 * colour of the worst severity (its tooltip names them), and a ring of that colour.
 *
 * The job running on the chip (`chip.job`, when known) is small text right of the utilization, cut
 * short with an ellipsis, in full in its title (`data-testid="tile-job"`).
 *
 * The whole tile is a link to `#/chip/<chipId>`.
 *
 * Test hooks on the host element: `data-testid="chip-tile"`, `data-chip-id`, `data-status`,
 * `data-alert` (the worst severity firing, absent when none); the badge is
 * `data-testid="alert-badge"` with `data-severity` and `data-count`.
 *
 * @csspart tile - the link that is the tile's box
 * @csspart util - the large utilization figure
 * @csspart badge - the stale / offline badge
 * @csspart alert-badge - the firing-alerts badge
 */
export class ChipTile extends LitElement {
  static override properties = {
    chip: { attribute: false },
    alerts: { attribute: false },
  };

  declare chip: ChipView | undefined;
  /** The chip's firing alerts, if any. */
  declare alerts: ChipAlerts | undefined;

  static override styles = css`
    :host {
      display: block;
      min-width: 0;
    }
    a {
      box-sizing: border-box;
      display: grid;
      grid-template-columns: minmax(0, 1fr);
      grid-template-rows: auto 1fr auto auto;
      height: 100%;
      min-height: 84px;
      padding: 5px 8px;
      border-radius: 6px;
      border: 1px solid rgba(255, 255, 255, 0.08);
      color: #f2f5f9;
      text-decoration: none;
      font-variant-numeric: tabular-nums;
      text-shadow: 0 1px 2px rgba(0, 0, 0, 0.6);
      transition: background-color 0.6s linear;
      overflow: hidden;
    }
    a:hover,
    a:focus-visible {
      outline: 2px solid #8ab4ff;
      outline-offset: -2px;
    }
    .top {
      display: flex;
      justify-content: space-between;
      align-items: center;
      gap: 4px;
      font-size: 12px;
      line-height: 16px;
      white-space: nowrap;
    }
    .name {
      display: flex;
      gap: 4px;
      min-width: 0;
      font-weight: 600;
    }
    .model {
      overflow: hidden;
      text-overflow: ellipsis;
    }
    .idx {
      flex-shrink: 0;
      opacity: 0.75;
      font-weight: 400;
    }
    .util {
      font-size: 28px;
      line-height: 30px;
      font-weight: 700;
      letter-spacing: -0.5px;
    }
    .row {
      display: flex;
      justify-content: space-between;
      font-size: 12px;
      line-height: 16px;
      white-space: nowrap;
    }
    .na {
      opacity: 0.6;
    }
    .est {
      cursor: help;
      border-bottom: 1px dotted currentColor;
    }
    .badge {
      flex-shrink: 0;
      font-size: 10px;
      line-height: 14px;
      padding: 0 5px;
      border-radius: 7px;
      text-transform: uppercase;
      letter-spacing: 0.5px;
      font-weight: 700;
      text-shadow: none;
    }
    .stale {
      background-color: #2b3038;
      background-image: repeating-linear-gradient(
        -45deg,
        rgba(255, 255, 255, 0.06) 0 6px,
        transparent 6px 12px
      );
      color: #aab2bf;
      border-color: #5b6472;
      border-style: dashed;
    }
    .stale .pct,
    .stale .row {
      opacity: 0.55;
    }
    .stale .badge {
      background: #d0a030;
      color: #1a1a1a;
    }
    .offline {
      background: #0d0f13;
      color: #6b7380;
      border-color: #2a2f38;
      text-shadow: none;
    }
    .offline .badge {
      background: #5a2026;
      color: #ffb3b8;
    }
    .note {
      align-self: center;
    }
    .note .badge {
      font-size: 12px;
      line-height: 18px;
      padding: 0 8px;
      border-radius: 9px;
    }
    .dim-note {
      opacity: 0.7;
    }
    .util {
      display: flex;
      justify-content: space-between;
      align-items: center;
    }
    .util .badge {
      font-size: 11px;
      line-height: 18px;
      padding: 0 7px;
      border-radius: 9px;
    }
    .values {
      display: contents;
    }
    .pct {
      flex-shrink: 0;
    }
    .side {
      flex: 1 1 0;
      margin-left: 6px;
      display: flex;
      align-items: center;
      justify-content: flex-end;
      gap: 4px;
      min-width: 0;
    }
    .job {
      min-width: 0;
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
      font-size: 11px;
      line-height: 14px;
      font-weight: 400;
      letter-spacing: 0;
      opacity: 0.85;
    }
    .note {
      display: flex;
      align-items: center;
      gap: 6px;
      min-width: 0;
    }
    a.alerting {
      box-shadow: inset 0 0 0 2px var(--alert-color);
    }
    .alert {
      flex-shrink: 0;
      display: inline-flex;
      align-items: center;
      gap: 2px;
      font-size: 11px;
      line-height: 15px;
      padding: 0 5px;
      border-radius: 8px;
      font-weight: 700;
      text-shadow: none;
      background: var(--alert-color);
      color: #fff;
      box-shadow: 0 0 0 1px rgba(0, 0, 0, 0.45);
    }
    .alert[data-severity='warning'] {
      color: #1a1a1a;
    }
    .alert[data-severity='info'] {
      color: #0b0e13;
    }
  `;

  constructor() {
    super();
    this.chip = undefined;
    this.alerts = undefined;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.setAttribute('data-testid', 'chip-tile');
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('chip') && this.chip) {
      this.setAttribute('data-chip-id', this.chip.chipId);
      this.setAttribute('data-status', this.chip.status);
    }
    if (changed.has('alerts')) {
      if (this.alerts) this.setAttribute('data-alert', this.alerts.severity);
      else this.removeAttribute('data-alert');
    }
  }

  protected override render() {
    const c = this.chip;
    if (!c) return nothing;
    const s = c.latest;
    const title = `${c.model} #${c.index} on ${c.host}\n${c.chipId}${c.job ? `\njob ${c.job}` : ''}\n${c.status}${
      s ? ` · last sample ${fmtAgo(s.ts)}` : ''
    }`;
    const al = this.alerts;
    const bg = `${c.status === 'live' ? `background-color: ${utilColor(s?.utilPct)};` : ''}${al ? `--alert-color: ${severityColor(al.severity)}` : ''}`;
    return html`<a part="tile" class="${c.status}${al ? ' alerting' : ''}" style=${bg} href=${chipHref(c.chipId)} title=${al ? `${title}\n\n${alertsTitle(al.alerts)}` : title}>
      <div class="top">
        <span class="name"><span class="model">${c.model}</span><span class="idx">#${c.index}</span></span>
        ${al
          ? html`<span part="alert-badge" class="alert" data-testid="alert-badge" data-severity=${al.severity} data-count=${al.count}
              >⚠${al.count > 1 ? ` ${al.count}` : ''}</span
            >`
          : nothing}
      </div>
      ${c.status === 'offline' || !s ? this.renderNoValues(c) : this.renderValues(c)}
    </a>`;
  }

  /** The job running on the chip, small and cut short (in full in its title); nothing when none is known. */
  private job(c: ChipView) {
    return c.job ? html`<span class="job" data-testid="tile-job" title=${`Job: ${c.job}`}>${c.job}</span>` : nothing;
  }

  private badge(c: ChipView) {
    return c.status === 'live' ? nothing : html`<span part="badge" class="badge">${c.status}</span>`;
  }

  private renderNoValues(c: ChipView) {
    const seen = c.latest ? `last seen ${fmtAgo(c.latest.ts)}` : 'no data';
    return html`<div class="note">${this.badge(c)}${this.job(c)}</div>
      <div class="row dim-note"><span>${c.status === 'live' ? 'waiting for data' : seen}</span></div>`;
  }

  private renderValues(c: ChipView) {
    const s = c.latest!;
    const est = s.flags?.powerEstimated === true;
    const power =
      s.powerW == null
        ? DASH
        : est
          ? html`<span class="est" title="Estimated: Neuron reports power as a percentage of an assumed maximum"
              >~${Math.round(s.powerW)} W</span
            >`
          : `${Math.round(s.powerW)} W`;
    return html`<div class="values">
      <div class="util"><span part="util" class="pct">${fmtPct(s.utilPct)}</span><span class="side">${this.job(c)}${this.badge(c)}</span></div>
      <div class="row"><span>${power}</span>${s.tempC == null
          ? html`<span class="na" title="Temperature not reported for this chip">${DASH} °C</span>`
          : html`<span>${fmtTemp(s.tempC)}</span>`}</div>
      <div class="row">
        <span class="mem">${fmtMem(s.memUsedBytes, s.memTotalBytes ?? c.memTotalBytes)}</span>
      </div>
    </div>`;
  }
}

if (!customElements.get('chip-tile')) customElements.define('chip-tile', ChipTile);

declare global {
  interface HTMLElementTagNameMap {
    'chip-tile': ChipTile;
  }
}
