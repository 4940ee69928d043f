import { LitElement, css, html, nothing } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type { AlertRule } from '../../schema/alert-rules.ts';
import type { ActiveAlert, SilenceAnswer } from '../../schema/api-answers.ts';
import { fmtCondition, fmtRuleValue, fmtSpan, fmtWhen } from './alert-format.ts';
import { severityPillStyles } from './alert-look.ts';
import { alertPanelStyles } from './alert-styles.ts';
import { chipHref } from './format.ts';
import { silencesCovering } from './silence-match.ts';

/** The matchers a silence of this one alert would have: its rule's name and its chip. */
export function silenceMatchersFor(a: ActiveAlert): string[] {
  return [`alertname="${(a.labels.alertname ?? a.ruleId).replace(/["\\]/g, '\\$&')}"`, `chip="${a.chipId.replace(/["\\]/g, '\\$&')}"`];
}

/**
 * `<alert-list>`: the alerts firing and pending now (resolved ones are left to the history):
 * severity, state, the rule's name and summary, the chip (a link to its view), host, the latest
 * value with the rule's unit, and since when (the breach began; firing since when it fired).
 * Each row has a "Silence…" button that asks for a silence of that alert; an alert an active
 * silence of `silences` covers is marked "silenced" (the silence's comment and end in its tooltip).
 *
 * Test hooks: rows `data-testid="active-alert"` with `data-rule`, `data-chip`, `data-phase`,
 * `data-severity`, `data-silenced` (present when silenced); `data-testid="alerts-empty"`;
 * buttons `data-testid="silence-alert"`.
 *
 * @fires silence-alert - `detail: { matchers: string[], alert: ActiveAlert }`
 */
export class AlertList extends LitElement {
  static override properties = {
    alerts: { attribute: false },
    rules: { attribute: false },
    silences: { attribute: false },
    loaded: { type: Boolean },
  };

  /** The hub's current alerts (any phase; resolved ones are not shown). */
  declare alerts: readonly ActiveAlert[];
  /** Rules by id, for the value's unit and the condition (may be empty). */
  declare rules: ReadonlyMap<string, AlertRule>;
  /** The hub's silences (to mark the alerts they cover). */
  declare silences: readonly SilenceAnswer[];
  /** Whether the live snapshot has arrived. */
  declare loaded: boolean;

  private ticker: ReturnType<typeof setInterval> | null = null;

  static override styles = [
    alertPanelStyles,
    severityPillStyles,
    css`
      .name {
        font-weight: 600;
      }
      .summary {
        color: #c3cbd6;
        font-size: 12px;
        margin-top: 1px;
      }
      tr[data-phase='pending'] td {
        color: #c3cbd6;
      }
      .phase.silenced {
        margin-left: 4px;
        border-color: #5b6472;
        color: var(--fs-muted);
        cursor: help;
      }
    `,
  ];

  constructor() {
    super();
    this.alerts = [];
    this.rules = new Map();
    this.silences = [];
    this.loaded = false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.ticker = setInterval(() => this.requestUpdate(), 5000);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
  }

  private silence(a: ActiveAlert): void {
    this.dispatchEvent(new CustomEvent('silence-alert', { detail: { matchers: silenceMatchersFor(a), alert: a }, bubbles: true, composed: true }));
  }

  protected override render() {
    const shown = this.alerts.filter((a) => a.phase !== 'resolved');
    const firing = shown.filter((a) => a.phase === 'firing').length;
    return html`<div class="panel">
      <h3>
        Firing and pending
        <span class="count" data-testid="alerts-counts">${firing} firing · ${shown.length - firing} pending</span>
      </h3>
      ${shown.length === 0
        ? html`<div class="empty" data-testid="alerts-empty">${this.loaded ? 'No alerts are firing or pending.' : 'Loading alerts…'}</div>`
        : html`<div class="scroll"><table>
            <thead>
              <tr>
                <th>Severity</th>
                <th>State</th>
                <th>Alert</th>
                <th>Chip</th>
                <th>Host</th>
                <th class="num">Value</th>
                <th>Since</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              ${repeat(shown, (a) => `${a.ruleId}|${a.chipId}`, (a) => this.renderRow(a))}
            </tbody>
          </table></div>`}
    </div>`;
  }

  private renderRow(a: ActiveAlert) {
    const rule = this.rules.get(a.ruleId);
    const now = Date.now();
    const since = a.phase === 'firing' && a.firedAt != null ? a.firedAt : a.startsAt;
    const cond = fmtCondition(rule);
    const silenced = this.silences.length ? silencesCovering(a.labels, this.silences) : [];
    return html`<tr
      data-testid="active-alert"
      data-rule=${a.ruleId}
      data-chip=${a.chipId}
      data-phase=${a.phase}
      data-severity=${a.severity}
      data-silenced=${silenced.length ? 'true' : nothing}
    >
      <td><span class="sev" data-severity=${a.severity}>${a.severity}</span></td>
      <td class="nowrap">
        <span class="phase" data-phase=${a.phase}>${a.phase}</span>${silenced.length
          ? html`<span
              class="phase silenced"
              data-testid="alert-silenced"
              title=${silenced.map((s) => `Silenced until ${fmtWhen(s.endsAt)} by ${s.createdBy}: ${s.comment}`).join('\n')}
              >silenced</span
            >`
          : nothing}
      </td>
      <td>
        <div class="name" title=${`rule ${a.ruleId}${cond ? `: ${cond}` : ''}`}>${a.labels.alertname ?? a.ruleId}</div>
        ${a.annotations.summary ? html`<div class="summary">${a.annotations.summary}</div>` : nothing}
      </td>
      <td class="nowrap"><a class="mono" href=${chipHref(a.chipId)} data-testid="alert-chip-link">${a.chipId}</a></td>
      <td class="nowrap">${a.labels.host || '—'}</td>
      <td class="num" title=${cond}>${fmtRuleValue(rule?.field, a.value)}</td>
      <td class="nowrap" title=${`breach began ${fmtWhen(a.startsAt)}${a.firedAt != null ? `; fired ${fmtWhen(a.firedAt)}` : ''}`}>
        ${fmtSpan(now - since)} <span class="sub">ago</span>
      </td>
      <td><button type="button" data-testid="silence-alert" title="Fill in the silence form for this alert" @click=${() => this.silence(a)}>Silence…</button></td>
    </tr>`;
  }
}

if (!customElements.get('alert-list')) customElements.define('alert-list', AlertList);

declare global {
  interface HTMLElementTagNameMap {
    'alert-list': AlertList;
  }
}
