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
import { ALERT_SECTIONS, alertsHash, alertsStateOf, type AlertSection, type AlertsViewState } from './view-state.ts';
import './alert-history.ts';
import './alert-list.ts';
import './dead-letters.ts';
import './silence-form.ts';
import './silence-list.ts';

/** How often the rules (units and conditions of the values shown) are re-read (ms). */
export const RULES_REFRESH_MS = 60_000;

const SECTION_LABELS: Record<AlertSection, string> = {
  firing: 'Firing & pending',
  history: 'History',
  silences: 'Silences',
  'dead-letters': 'Dead letters',
  rules: 'Rules',
};

/**
 * `<alerts-view>` (the `#/alerts` route): the alerts firing and pending now (live, from the
 * dashboard's `alerts` subscription: `alerts`) grouped by rule, their history over a chosen range,
 * the silences (a form to create one, the list with "Expire") and the notifier's dead letters
 * ("Retry"), then the rules in force, folded. Changes need an admin token; with a viewer one
 * (`viewer`) the forms say so, and the hub's refusal is shown as it comes.
 *
 * At the top, kept in view while scrolling: a section nav (each with its count) that jumps to a
 * section, and a search by chip, host or rule that narrows the alerts and the history. The
 * section, the search and the unfolded rules are in the URL (`#/alerts?section=…&q=…&open=…`,
 * view-state.ts `alertsHash`): the view reads them from the hash itself, a section pick is a new
 * history entry, the search and folding replace the current one. Long tables (history, dead
 * letters) scroll within their panels, so every section is a short scroll from the top.
 *
 * An alert's "Silence…" fills the form with its rule's name and chip (a group's "Silence rule…"
 * with its name alone) and scrolls to it; alerts an active silence covers are marked "silenced".
 *
 * Test hooks: host `data-testid="alerts-view"`; parts `<alert-list>`, `<alert-history>`,
 * `<silence-form>`, `<silence-list>`, `<dead-letters>` (see each); `data-testid="rules"` with
 * `data-count`; `data-testid="alerts-nav"` with links `data-testid="section-<section>"`
 * (`aria-current` on the one in the URL); `data-testid="alerts-search"`; sections
 * `data-section="<section>"`.
 */
export class AlertsView extends LitElement {
  static override properties = {
    alerts: { attribute: false },
    loaded: { type: Boolean },
    trigger: { type: Number },
    viewer: { type: Boolean },
    silences: { state: true },
    view: { state: true },
    deadCount: { state: true },
  };

  /** Section, search and unfolded rules, as in the URL. */
  declare view: AlertsViewState;
  /** Dead letters as `<dead-letters>` last read them (-1: not yet). */
  declare deadCount: number;
  /** Scroll to the URL's section once the view has rendered. */
  private scrollPending = false;

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
      nav.sections {
        position: sticky;
        /* under the app's sticky header (48 px) */
        top: 48px;
        z-index: 1;
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 6px 6px;
        margin: 0 -16px 12px;
        padding: 6px 16px;
        background: var(--fs-bg);
        border-bottom: 1px solid var(--fs-divider);
      }
      nav.sections a {
        padding: 3px 10px;
        border-radius: 6px;
        border: 1px solid var(--fs-border);
        color: var(--fs-text-soft);
        text-decoration: none;
        font-size: 13px;
        white-space: nowrap;
      }
      nav.sections a:hover {
        border-color: var(--fs-border-hover);
        background: var(--fs-hover-bg);
      }
      nav.sections a[aria-current='true'] {
        background: var(--fs-selected);
        border-color: var(--fs-border-hover);
        color: var(--fs-text-strong);
        font-weight: 600;
      }
      nav.sections .n {
        margin-left: 5px;
        color: var(--fs-faint);
        font-variant-numeric: tabular-nums;
      }
      nav.sections .n.hot {
        color: var(--fs-bad-text);
        font-weight: 650;
      }
      nav.sections input {
        margin-left: auto;
        min-width: 240px;
        padding: 3px 8px;
        background: var(--fs-input-bg);
        color: var(--fs-text);
        border: 1px solid var(--fs-border);
        border-radius: 6px;
        font: inherit;
        font-size: 13px;
      }
      [data-section] {
        scroll-margin-top: 104px;
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
    this.view = alertsStateOf(typeof location === 'undefined' ? '' : location.hash);
    this.deadCount = -1;
    this.scrollPending = this.view.section !== 'firing';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.setAttribute('data-testid', 'alerts-view');
    window.addEventListener('hashchange', this.onHash);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('hashchange', this.onHash);
  }

  /** Back/Forward or a link: take the URL's state, and go to its section if that changed. */
  private readonly onHash = () => {
    if (!/^#\/alerts(?:[/?#]|$)/.test(location.hash)) return;
    const next = alertsStateOf(location.hash);
    if (next.section !== this.view.section) this.scrollPending = true;
    this.view = next;
  };

  /** A new state: in the URL (`push`: a new history entry, else replacing this one). */
  private setView(next: AlertsViewState, push: boolean): void {
    this.view = next;
    const hash = alertsHash(next);
    if (hash === location.hash) return;
    if (push) location.hash = hash;
    else history.replaceState(history.state, '', hash);
  }

  private goTo(section: AlertSection, e?: Event): void {
    e?.preventDefault();
    this.scrollPending = true;
    if (section === this.view.section) this.requestUpdate();
    else this.setView({ ...this.view, section }, true);
  }

  protected override updated(): void {
    // a link to a section waits for the live snapshot (the list above it sets where it is)
    if (!this.scrollPending || !this.loaded) return;
    this.scrollPending = false;
    this.scrollToSection();
    // the history and the lists load after: once more when they have, unless the user scrolled
    const at = window.scrollY;
    setTimeout(() => {
      if (window.scrollY === at) this.scrollToSection();
    }, 600);
  }

  protected override willUpdate(_changed: PropertyValues<this>): void {
    if (this.rulesFetch.version !== this.rulesVersion) {
      this.rulesVersion = this.rulesFetch.version;
      const list = this.rulesFetch.data?.rules;
      if (list) this.rules = new Map(list.map((r) => [r.rule.id, r.rule]));
    }
  }

  private scrollToSection(): void {
    const s = this.view.section;
    if (s === 'firing') {
      window.scrollTo({ top: 0 });
      return;
    }
    const el = this.renderRoot.querySelector<HTMLElement>(`[data-section="${s}"]`);
    if (s === 'rules') el?.querySelector('details')?.setAttribute('open', '');
    el?.scrollIntoView({ block: 'start' });
  }

  private readonly onSilenceAlert = (e: CustomEvent<{ matchers: string[] }>) => {
    const form = this.renderRoot.querySelector<SilenceForm>('silence-form');
    form?.fill(e.detail.matchers);
    form?.scrollIntoView({ behavior: 'smooth', block: 'center' });
    if (this.view.section !== 'silences') this.setView({ ...this.view, section: 'silences' }, false);
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
      ${this.renderNav()}
      <div class="stack">
        <alert-list
          data-section="firing"
          .alerts=${this.alerts}
          .rules=${this.rules}
          .silences=${this.silences}
          .query=${this.view.q}
          .open=${this.view.open}
          ?loaded=${this.loaded}
          @silence-alert=${this.onSilenceAlert}
          @open-change=${(e: CustomEvent<{ open: string[] }>) => this.setView({ ...this.view, open: e.detail.open }, false)}
        ></alert-list>
        <alert-history data-section="history" .rules=${this.rules} .trigger=${this.trigger} .query=${this.view.q}></alert-history>
        <div class="silences" data-section="silences">
          <silence-form ?viewer=${this.viewer} @silence-created=${this.onSilenceCreated}></silence-form>
          <silence-list @silences-change=${(e: CustomEvent<{ silences: SilenceAnswer[] }>) => (this.silences = e.detail.silences)}></silence-list>
        </div>
        <dead-letters data-section="dead-letters" @dead-letters-change=${(e: CustomEvent<{ count: number }>) => (this.deadCount = e.detail.count)}></dead-letters>
        <div data-section="rules">${this.renderRules()}</div>
      </div>
    `;
  }

  /** The section links (with counts) and the search, sticky at the top. */
  private renderNav() {
    const live = this.alerts.filter((a) => a.phase !== 'resolved');
    const firing = live.filter((a) => a.phase === 'firing').length;
    const activeSilences = this.silences.filter((x) => x.state === 'active').length;
    const rules = this.rulesFetch.data?.rules.length;
    const counts: Record<AlertSection, { n: string; hot?: boolean; title: string }> = {
      firing: { n: `${live.length}`, hot: firing > 0, title: `${firing} firing, ${live.length - firing} pending` },
      history: { n: '', title: 'Transitions over a chosen range' },
      silences: { n: this.silences.length ? `${activeSilences}` : '', title: `${activeSilences} active silences` },
      'dead-letters': { n: this.deadCount >= 0 ? `${this.deadCount}` : '', hot: this.deadCount > 0, title: 'Notifications the hub gave up on' },
      rules: { n: rules != null ? `${rules}` : '', title: 'The rules in force' },
    };
    return html`<nav class="sections" data-testid="alerts-nav" aria-label="Alerts sections">
      ${ALERT_SECTIONS.map(
        (sec) => html`<a
          href=${alertsHash({ ...this.view, section: sec })}
          data-testid=${`section-${sec}`}
          aria-current=${sec === this.view.section ? 'true' : 'false'}
          title=${counts[sec].title}
          @click=${(e: Event) => this.goTo(sec, e)}
          >${SECTION_LABELS[sec]}${counts[sec].n ? html`<span class="n ${counts[sec].hot ? 'hot' : ''}">${counts[sec].n}</span>` : nothing}</a
        >`,
      )}
      <input
        type="search"
        data-testid="alerts-search"
        placeholder="Search chip, host or rule…"
        aria-label="Search the alerts and their history by chip, host or rule"
        .value=${this.view.q}
        @input=${(e: Event) => this.setView({ ...this.view, q: (e.target as HTMLInputElement).value }, false)}
      />
    </nav>`;
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
