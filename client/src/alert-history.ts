import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type { AlertRule } from '../../schema/alert-rules.ts';
import type { AlertHistoryAnswer } from '../../schema/api-answers.ts';
import { fmtRuleValue, fmtWhen } from './alert-format.ts';
import { severityPillStyles } from './alert-look.ts';
import { alertMatches } from './alert-list.ts';
import { alertPanelStyles } from './alert-styles.ts';
import { fetchHubJson } from './hub-fetch.ts';
import { RANGES, rangeLabel, type RangeKey } from './history-range.ts';
import { PolledFetchController } from './polled-fetch-controller.ts';
import { chipHref } from './format.ts';
import { hostHref } from './view-state.ts';
import './range-picker.ts';

/** The ranges the history offers (the past ones). */
export const HISTORY_RANGES = RANGES.filter((r) => r.key !== 'live');
/** Most transitions asked for. */
export const HISTORY_LIMIT = 200;
/** How often the history is re-read (ms); live transitions also trigger a re-read. */
export const ALERT_HISTORY_REFRESH_MS = 15_000;

/** GET /api/v1/alerts/history for the last `range`, newest first. */
export function loadAlertHistory(range: Exclude<RangeKey, 'live'>, signal: AbortSignal, chipId?: string, limit = HISTORY_LIMIT): Promise<AlertHistoryAnswer> {
  const chip = chipId ? `&chip=${encodeURIComponent(chipId)}` : '';
  return fetchHubJson<AlertHistoryAnswer>(`/api/v1/alerts/history?from=now-${range}&limit=${limit}${chip}`, signal);
}

/**
 * `<alert-history>`: the alerts' recent transitions (pending, firing, resolved, inactive), newest
 * first, for a time range picked above it (1 h … 30 d; 24 h by default): when, from → to, the
 * severity, the rule's name, the chip (a link), host and the value that caused it. Re-read every
 * `refreshMs` and whenever `trigger` changes (the live transitions the page has seen). `query`
 * narrows the rows to a chip, host or rule; the table scrolls within the panel.
 *
 * Test hooks: rows `data-testid="history-event"` with `data-rule`, `data-chip`, `data-from`,
 * `data-to`; `data-testid="alert-history-empty"`, `"alert-history-error"`, `"alert-history-truncated"`;
 * range buttons `range-<key>`.
 */
export class AlertHistory extends LitElement {
  static override properties = {
    range: { type: String, reflect: true },
    rules: { attribute: false },
    trigger: { type: Number },
    refreshMs: { type: Number, attribute: 'refresh-ms' },
    query: { type: String },
  };

  /** Search: only the transitions whose chip, host or rule has every term (as `<alert-list>`'s). */
  declare query: string;

  declare range: Exclude<RangeKey, 'live'>;
  declare rules: ReadonlyMap<string, AlertRule>;
  /** Any change re-reads the history (soon, once per burst). */
  declare trigger: number;
  declare refreshMs: number;

  private readonly history = new PolledFetchController<AlertHistoryAnswer>(this, {
    key: () => this.range,
    load: (signal) => loadAlertHistory(this.range, signal),
    intervalMs: () => this.refreshMs,
  });
  private soon: ReturnType<typeof setTimeout> | null = null;

  static override styles = [
    alertPanelStyles,
    severityPillStyles,
    css`
      .arrow {
        color: var(--fs-dim);
        margin: 0 3px;
      }
    `,
  ];

  constructor() {
    super();
    this.range = '24h';
    this.rules = new Map();
    this.trigger = 0;
    this.refreshMs = ALERT_HISTORY_REFRESH_MS;
    this.query = '';
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    if (this.soon) clearTimeout(this.soon);
    this.soon = null;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('range')) this.history.sync();
    if (changed.has('refreshMs') && this.hasUpdated) this.history.restartTimer();
    if (changed.has('trigger') && changed.get('trigger') !== undefined && !this.soon) {
      // a transition is committed before it is published: the re-read finds it
      this.soon = setTimeout(() => {
        this.soon = null;
        this.history.reload();
      }, 250);
    }
  }

  protected override render() {
    const h = this.history.data;
    const e = this.history.error;
    const q = this.query.trim();
    const events = h ? (q ? h.events.filter((ev) => alertMatches(ev, q)) : h.events) : [];
    return html`<div class="panel">
      <h3>
        History
        <span class="count">${h ? `${h.events.length}${h.truncated ? '+' : ''} transitions${q ? ` · ${events.length} match “${q}”` : ''}` : ''}</span>
        <range-picker
          class="right"
          .choices=${HISTORY_RANGES}
          .value=${this.range}
          @range-change=${(ev: CustomEvent<{ range: Exclude<RangeKey, 'live'> }>) => (this.range = ev.detail.range)}
        ></range-picker>
      </h3>
      ${e
        ? html`<div class="msg error" role="alert" data-testid="alert-history-error" data-code=${e.code}>
            Could not load the alert history: ${e.message} <code>${e.code}</code>
          </div>`
        : nothing}
      ${!h
        ? html`<div class="empty">${this.history.loading ? 'Loading…' : ''}</div>`
        : h.events.length === 0
          ? html`<div class="empty" data-testid="alert-history-empty">No alert transitions in the last ${rangeLabel(this.range)}.</div>`
          : events.length === 0
            ? html`<div class="empty" data-testid="alert-history-no-match">No transition’s chip, host or rule matches “${q}”.</div>`
            : html`<div class="scroll capped"><table>
              <thead>
                <tr>
                  <th>Time</th>
                  <th>Transition</th>
                  <th>Severity</th>
                  <th>Alert</th>
                  <th>Chip</th>
                  <th>Host</th>
                  <th class="num">Value</th>
                </tr>
              </thead>
              <tbody>
                ${repeat(events, (ev) => ev.id, (ev) => html`<tr data-testid="history-event" data-rule=${ev.ruleId} data-chip=${ev.chipId} data-from=${ev.from} data-to=${ev.to}>
                  <td class="nowrap">${fmtWhen(ev.at)}</td>
                  <td class="nowrap"><span class="phase" data-phase=${ev.from}>${ev.from}</span><span class="arrow">→</span><span class="phase" data-phase=${ev.to}>${ev.to}</span></td>
                  <td><span class="sev" data-severity=${ev.severity}>${ev.severity}</span></td>
                  <td title=${ev.annotations.summary ?? ''}>${ev.labels.alertname ?? ev.ruleId}</td>
                  <td class="nowrap"><a class="mono" href=${chipHref(ev.chipId)}>${ev.chipId}</a></td>
                  <td class="nowrap">${ev.labels.host ? html`<a href=${hostHref(ev.labels.host)}>${ev.labels.host}</a>` : '—'}</td>
                  <td class="num">${fmtRuleValue(this.rules.get(ev.ruleId)?.field, ev.value)}</td>
                </tr>`)}
              </tbody>
            </table></div>
            ${h.truncated
              ? html`<div class="sub" data-testid="alert-history-truncated">The newest ${h.limit} are shown; more happened in the last ${rangeLabel(this.range)}.</div>`
              : nothing}`}
    </div>`;
  }
}

if (!customElements.get('alert-history')) customElements.define('alert-history', AlertHistory);

declare global {
  interface HTMLElementTagNameMap {
    'alert-history': AlertHistory;
  }
}
