import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import type { AlertRule } from '../../schema/alert-rules.ts';
import type { ActiveAlert, AlertRulesAnswer, SilenceAnswer } from '../../schema/api-answers.ts';
import { fmtCondition } from './alert-format.ts';
import { severityPillStyles } from './alert-look.ts';
import { alertPanelStyles } from './alert-styles.ts';
import { fetchHubJson } from './hub-fetch.ts';
import { PolledFetchController } from './polled-fetch-controller.ts';
import type { SilenceForm } from './silence-form.ts';
import type { SilenceList } from './silence-list.ts';
import './alert-history.ts';
import './alert-list.ts';
import './dead-letters.ts';
import './silence-form.ts';
import './silence-list.ts';

/** How often the rules (units and conditions of the values shown) are re-read (ms). */
export const RULES_REFRESH_MS = 60_000;

/**
 * `<alerts-view>` (the `#/alerts` route): the alerts firing and pending now (live, from the
 * dashboard's `alerts` subscription: `alerts`), their history over a chosen range, the silences
 * (a form to create one, the list with "Expire") and the notifier's dead letters ("Retry"), then
 * the rules in force, folded. Changes need an admin token; with a viewer one (`viewer`) the
 * forms say so, and the hub's refusal is shown as it comes.
 *
 * An alert's "Silence…" fills the form with its rule's name and chip; alerts an active silence
 * covers are marked "silenced".
 *
 * Test hooks: host `data-testid="alerts-view"`; parts `<alert-list>`, `<alert-history>`,
 * `<silence-form>`, `<silence-list>`, `<dead-letters>` (see each); `data-testid="rules"` with
 * `data-count`.
 */
export class AlertsView extends LitElement {
  static override properties = {
    alerts: { attribute: false },
    loaded: { type: Boolean },
    trigger: { type: Number },
    viewer: { type: Boolean },
    silences: { state: true },
  };

  /** The current alerts (from `AlertsController`). */
  declare alerts: readonly ActiveAlert[];
  /** The live snapshot has arrived. */
  declare loaded: boolean;
  /** Changes when live transitions arrive (the history is re-read). */
  declare trigger: number;
  /** Signed in with a viewer token. */
  declare viewer: boolean;
  /** The silences as `<silence-list>` last read them (to mark silenced alerts). */
  declare silences: readonly SilenceAnswer[];

  private readonly rulesFetch = new PolledFetchController<AlertRulesAnswer>(this, {
    key: () => 'rules',
    load: (signal) => fetchHubJson<AlertRulesAnswer>('/api/v1/alerts/rules', signal),
    intervalMs: () => RULES_REFRESH_MS,
  });
  private rulesVersion = -1;
  private rules: ReadonlyMap<string, AlertRule> = new Map();

  static override styles = [
    alertPanelStyles,
    severityPillStyles,
    css`
      :host {
        display: block;
        padding: 10px 16px 24px;
      }
      .top {
        display: flex;
        align-items: baseline;
        gap: 6px 18px;
        margin-bottom: 10px;
        flex-wrap: wrap;
      }
      h2 {
        margin: 0;
        font-size: 22px;
        font-weight: 650;
      }
      .stack {
        display: grid;
        gap: 14px;
      }
      .silences {
        display: grid;
        grid-template-columns: minmax(320px, 1fr) minmax(0, 1.6fr);
        gap: 14px;
        align-items: start;
      }
      @media (max-width: 1000px) {
        .silences {
          grid-template-columns: minmax(0, 1fr);
        }
      }
      details.panel summary {
        cursor: pointer;
        font-size: 15px;
        font-weight: 650;
      }
      details.panel[open] summary {
        margin-bottom: 8px;
      }
      .off td {
        opacity: 0.5;
      }
    `,
  ];

  constructor() {
    super();
    this.alerts = [];
    this.loaded = false;
    this.trigger = 0;
    this.viewer = false;
    this.silences = [];
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.setAttribute('data-testid', 'alerts-view');
  }

  protected override willUpdate(_changed: PropertyValues<this>): void {
    if (this.rulesFetch.version !== this.rulesVersion) {
      this.rulesVersion = this.rulesFetch.version;
      const list = this.rulesFetch.data?.rules;
      if (list) this.rules = new Map(list.map((r) => [r.rule.id, r.rule]));
    }
  }

  private readonly onSilenceAlert = (e: CustomEvent<{ matchers: string[] }>) => {
    const form = this.renderRoot.querySelector<SilenceForm>('silence-form');
    form?.fill(e.detail.matchers);
    form?.scrollIntoView({ behavior: 'smooth', block: 'center' });
  };

  private readonly onSilenceCreated = () => {
    this.renderRoot.querySelector<SilenceList>('silence-list')?.refresh();
  };

  protected override render() {
    return html`
      <div class="top">
        <a href="#/" data-testid="back-link">← fleet</a>
        <h2>Alerts</h2>
        ${this.viewer ? html`<span class="sub">Signed in with a viewer token: silences and retries need an admin token.</span>` : nothing}
      </div>
      <div class="stack">
        <alert-list
          .alerts=${this.alerts}
          .rules=${this.rules}
          .silences=${this.silences}
          ?loaded=${this.loaded}
          @silence-alert=${this.onSilenceAlert}
        ></alert-list>
        <alert-history .rules=${this.rules} .trigger=${this.trigger}></alert-history>
        <div class="silences">
          <silence-form ?viewer=${this.viewer} @silence-created=${this.onSilenceCreated}></silence-form>
          <silence-list @silences-change=${(e: CustomEvent<{ silences: SilenceAnswer[] }>) => (this.silences = e.detail.silences)}></silence-list>
        </div>
        <dead-letters></dead-letters>
        ${this.renderRules()}
      </div>
    `;
  }

  private renderRules() {
    const list = this.rulesFetch.data?.rules;
    if (!list) return nothing;
    return html`<details class="panel" data-testid="rules" data-count=${list.length}>
      <summary>Rules in force (${list.length})</summary>
      <div class="scroll"><table>
        <thead>
          <tr>
            <th>Rule</th>
            <th>Condition</th>
            <th>Severity</th>
            <th>Source</th>
            <th>Enabled</th>
          </tr>
        </thead>
        <tbody>
          ${list.map(
            (v) => html`<tr class=${v.rule.enabled ? '' : 'off'} data-rule=${v.rule.id}>
              <td><b>${v.rule.name}</b> <span class="sub mono">${v.rule.id}</span></td>
              <td class="mono">${fmtCondition(v.rule)}</td>
              <td><span class="sev" data-severity=${v.rule.severity}>${v.rule.severity}</span></td>
              <td>${v.source}${v.override ? ' (adjusted)' : ''}</td>
              <td>${v.rule.enabled ? 'yes' : 'no'}</td>
            </tr>`,
          )}
        </tbody>
      </table></div>
    </details>`;
  }
}

if (!customElements.get('alerts-view')) customElements.define('alerts-view', AlertsView);

declare global {
  interface HTMLElementTagNameMap {
    'alerts-view': AlertsView;
  }
}
