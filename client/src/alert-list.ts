import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type { AlertRule } from '../../schema/alert-rules.ts';
import type { ActiveAlert, SilenceAnswer } from '../../schema/api-answers.ts';
import { fmtCondition, fmtRuleValue, fmtSpan, fmtWhen } from './alert-format.ts';
import { SEVERITY_ORDER, severityPillStyles, severityRank, type Severity } from './alert-look.ts';
import { alertPanelStyles } from './alert-styles.ts';
import { chipHref } from './format.ts';
import { hostHref } from './view-state.ts';
import { silencesCovering } from './silence-match.ts';

/** The matchers a silence of this one alert would have: its rule's name and its chip. */
export function silenceMatchersFor(a: ActiveAlert): string[] {
  return [`alertname="${(a.labels.alertname ?? a.ruleId).replace(/["\\]/g, '\\$&')}"`, `chip="${a.chipId.replace(/["\\]/g, '\\$&')}"`];
}

/** The matchers a silence of every alert of a rule would have: its name alone. */
export function silenceMatchersForRule(a: ActiveAlert): string[] {
  return [`alertname="${(a.labels.alertname ?? a.ruleId).replace(/["\\]/g, '\\$&')}"`];
}

/**
 * Whether an alert matches a search: every whitespace-separated term (case-insensitive) is part
 * of its chip id, host, rule name or rule id. An empty search matches everything.
 */
export function alertMatches(a: Pick<ActiveAlert, 'chipId' | 'ruleId' | 'labels'>, q: string): boolean {
  const terms = q.toLowerCase().split(/\s+/).filter(Boolean);
  if (!terms.length) return true;
  const hay = [a.chipId, a.labels.host ?? '', a.labels.alertname ?? '', a.ruleId].map((x) => x.toLowerCase());
  return terms.every((t) => hay.some((h) => h.includes(t)));
}

/** The alerts of one rule, with counts. */
export interface AlertGroup {
  ruleId: string;
  name: string;
  /** Firing first, then pending; each by chip. */
  alerts: ActiveAlert[];
  firing: number;
  pending: number;
  bySeverity: Partial<Record<Severity, number>>;
  /** The most severe of its alerts' severities. */
  worst: Severity;
  hosts: number;
}

/**
 * The alerts (resolved ones left out) grouped by rule: those with a firing alert before those
 * only pending, then the most severe first, then the most firing, then the most alerts, then by name; in a group firing before pending, then by chip.
 */
export function groupAlerts(alerts: readonly ActiveAlert[]): AlertGroup[] {
  const by = new Map<string, AlertGroup>();
  for (const a of alerts) {
    if (a.phase === 'resolved') continue;
    let g = by.get(a.ruleId);
    if (!g) {
      g = { ruleId: a.ruleId, name: a.labels.alertname ?? a.ruleId, alerts: [], firing: 0, pending: 0, bySeverity: {}, worst: a.severity, hosts: 0 };
      by.set(a.ruleId, g);
    }
    g.alerts.push(a);
    if (a.phase === 'firing') g.firing++;
    else g.pending++;
    g.bySeverity[a.severity] = (g.bySeverity[a.severity] ?? 0) + 1;
    if (severityRank(a.severity) > severityRank(g.worst)) g.worst = a.severity;
  }
  const groups = [...by.values()];
  for (const g of groups) {
    g.hosts = new Set(g.alerts.map((a) => a.labels.host ?? '')).size;
    g.alerts.sort((x, y) => (x.phase === y.phase ? (x.chipId < y.chipId ? -1 : x.chipId > y.chipId ? 1 : 0) : x.phase === 'firing' ? -1 : 1));
  }
  return groups.sort(
    (x, y) =>
      Number(y.firing > 0) - Number(x.firing > 0) ||
      severityRank(y.worst) - severityRank(x.worst) ||
      y.firing - x.firing ||
      y.alerts.length - x.alerts.length ||
      (x.name < y.name ? -1 : x.name > y.name ? 1 : 0),
  );
}

/** Groups unfold on their own while the alerts shown are at most this many. */
export const AUTO_OPEN_MAX = 12;
/** Chips listed at first in an unfolded group ("Show all N" lists the rest). */
export const GROUP_ROWS_MAX = 100;

/**
 * `<alert-list>`: the alerts firing and pending now (resolved ones are left to the history),
 * grouped by rule: one row per rule with its counts by state and severity, its chips and hosts,
 * the highest value and the oldest start: rules with a firing alert first, then the most severe,
 * the most firing, the most alerts (`groupAlerts`). A group unfolds (its toggle, or `open`) into a row per alert: severity, state, the
 * rule's name and summary, the chip (a link to its view), host (a link to its view), the latest
 * value with the rule's unit, and since when (the breach began; firing since when it fired).
 * While few alerts are shown (AUTO_OPEN_MAX) every group is unfolded.
 *
 * `query` narrows the alerts to those whose chip, host or rule matches (see `alertMatches`);
 * the counts in the heading stay those of all alerts.
 *
 * Each alert row has a "Silence…" button that asks for a silence of that alert, each group a
 * "Silence rule…" one (its rule's name alone); an alert an active silence of `silences` covers is
 * marked "silenced" (the silence's comment and end in its tooltip), a group counts them.
 *
 * Test hooks: group rows `data-testid="alert-group"` with `data-rule`, `data-count`,
 * `data-firing`, `data-pending`, `data-severity` (the worst), `data-open`; their toggles
 * `data-testid="alert-group-toggle"` (`aria-expanded`); rows `data-testid="active-alert"` with
 * `data-rule`, `data-chip`, `data-phase`, `data-severity`, `data-silenced` (present when
 * silenced); `data-testid="alerts-empty"`, `data-testid="alerts-no-match"`,
 * `data-testid="alerts-shown"` (`data-count`: alerts matching the query); buttons
 * `data-testid="silence-alert"`, `"silence-group"`; links `alert-chip-link`, `alert-host-link`.
 *
 * @fires silence-alert - `detail: { matchers: string[], alert: ActiveAlert }`
 * @fires open-change - `detail: { open: string[] }` when a group is folded or unfolded
 */
export class AlertList extends LitElement {
  static override properties = {
    alerts: { attribute: false },
    rules: { attribute: false },
    silences: { attribute: false },
    loaded: { type: Boolean },
    query: { type: String },
    open: { attribute: false },
    showAll: { state: true },
  };

  /** The hub's current alerts (any phase; resolved ones are not shown). */
  declare alerts: readonly ActiveAlert[];
  /** Rules by id, for the value's unit and the condition (may be empty). */
  declare rules: ReadonlyMap<string, AlertRule>;
  /** The hub's silences (to mark the alerts they cover). */
  declare silences: readonly SilenceAnswer[];
  /** Whether the live snapshot has arrived. */
  declare loaded: boolean;
  /** Search: only the alerts whose chip, host or rule matches. */
  declare query: string;
  /** The rules whose groups are unfolded. */
  declare open: readonly string[];
  /** Groups listing all their chips (beyond GROUP_ROWS_MAX). */
  declare showAll: ReadonlySet<string>;

  /** Groups folded by hand while every group unfolds on its own. */
  private folded = new Set<string>();
  private ticker: ReturnType<typeof setInterval> | null = null;

  static override styles = [
    alertPanelStyles,
    severityPillStyles,
    css`
      .name {
        font-weight: 600;
      }
      .summary {
        color: var(--fs-muted);
        font-size: 12px;
        margin-top: 1px;
      }
      tr[data-phase='pending'] td {
        color: var(--fs-muted);
      }
      .phase.silenced {
        margin-left: 4px;
        border-color: var(--fs-border);
        color: var(--fs-muted);
        cursor: help;
      }
      tr.group td {
        background: var(--fs-raised);
        border-bottom: 1px solid var(--fs-divider);
        vertical-align: middle;
      }
      tr.group.open td {
        border-bottom-color: var(--fs-border);
      }
      tr.member td:first-child {
        border-left: 3px solid var(--fs-border);
      }
      button.toggle {
        border: none;
        background: transparent;
        padding: 0 4px;
        font-size: 13px;
        color: var(--fs-text-soft);
        min-width: 22px;
      }
      button.toggle:hover:not(:disabled) {
        background: var(--fs-hover-bg);
      }
      .counts {
        display: inline-flex;
        gap: 4px;
        flex-wrap: wrap;
      }
      .sev .n {
        margin-left: 4px;
      }
      td.more {
        text-align: center;
      }
    `,
  ];

  constructor() {
    super();
    this.alerts = [];
    this.rules = new Map();
    this.silences = [];
    this.loaded = false;
    this.query = '';
    this.open = [];
    this.showAll = new Set();
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

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('open')) this.folded = new Set([...this.folded].filter((r) => !this.open.includes(r)));
  }

  private silence(a: ActiveAlert, matchers = silenceMatchersFor(a)): void {
    this.dispatchEvent(new CustomEvent('silence-alert', { detail: { matchers, alert: a }, bubbles: true, composed: true }));
  }

  private isOpen(ruleId: string, auto: boolean): boolean {
    return this.open.includes(ruleId) || (auto && !this.folded.has(ruleId));
  }

  private toggle(ruleId: string, auto: boolean): void {
    const open = new Set(this.open);
    if (this.isOpen(ruleId, auto)) {
      open.delete(ruleId);
      if (auto) this.folded.add(ruleId);
    } else {
      open.add(ruleId);
      this.folded.delete(ruleId);
    }
    this.open = [...open].sort();
    this.dispatchEvent(new CustomEvent('open-change', { detail: { open: this.open }, bubbles: true, composed: true }));
  }

  protected override render() {
    const all = this.alerts.filter((a) => a.phase !== 'resolved');
    const firing = all.filter((a) => a.phase === 'firing').length;
    const shown = this.query.trim() ? all.filter((a) => alertMatches(a, this.query)) : all;
    const groups = groupAlerts(shown);
    const auto = shown.length <= AUTO_OPEN_MAX;
    return html`<div class="panel">
      <h3>
        Firing and pending
        <span class="count" data-testid="alerts-counts">${firing} firing · ${all.length - firing} pending</span>
        ${all.length
          ? html`<span class="count" data-testid="alerts-shown" data-count=${shown.length}
              >${groups.length} ${groups.length === 1 ? 'rule' : 'rules'}${this.query.trim() ? ` · ${shown.length} of ${all.length} match “${this.query.trim()}”` : ''}</span
            >`
          : nothing}
      </h3>
      ${all.length === 0
        ? html`<div class="empty" data-testid="alerts-empty">${this.loaded ? 'No alerts are firing or pending.' : 'Loading alerts…'}</div>`
        : shown.length === 0
          ? html`<div class="empty" data-testid="alerts-no-match">No alert’s chip, host or rule matches “${this.query.trim()}”.</div>`
          : html`<div class="scroll"><table>
            <thead>
              <tr>
                <th></th>
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
            ${repeat(groups, (g) => g.ruleId, (g) => this.renderGroup(g, auto))}
          </table></div>`}
    </div>`;
  }

  private renderGroup(g: AlertGroup, auto: boolean) {
    const open = this.isOpen(g.ruleId, auto);
    const rule = this.rules.get(g.ruleId);
    const cond = fmtCondition(rule);
    const now = Date.now();
    const oldest = Math.min(...g.alerts.map((a) => (a.phase === 'firing' && a.firedAt != null ? a.firedAt : a.startsAt)));
    const values = g.alerts.map((a) => a.value).filter((v): v is number => v != null);
    const top = values.length ? Math.max(...values) : null;
    const silenced = this.silences.length ? g.alerts.filter((a) => silencesCovering(a.labels, this.silences).length > 0).length : 0;
    const hosts = [...new Set(g.alerts.map((a) => a.labels.host || ''))];
    const limit = this.showAll.has(g.ruleId) ? Infinity : GROUP_ROWS_MAX;
    const rows = open ? g.alerts.slice(0, limit) : [];
    const label = `${open ? 'Fold' : 'Unfold'} ${g.name}: ${g.alerts.length} ${g.alerts.length === 1 ? 'alert' : 'alerts'}`;
    return html`<tbody>
      <tr
        class="group ${open ? 'open' : ''}"
        data-testid="alert-group"
        data-rule=${g.ruleId}
        data-count=${g.alerts.length}
        data-firing=${g.firing}
        data-pending=${g.pending}
        data-severity=${g.worst}
        data-open=${open ? 'true' : 'false'}
      >
        <td>
          <button type="button" class="toggle" data-testid="alert-group-toggle" aria-expanded=${open ? 'true' : 'false'} aria-label=${label} title=${label} @click=${() => this.toggle(g.ruleId, auto)}>
            ${open ? '▾' : '▸'}
          </button>
        </td>
        <td class="nowrap">
          <span class="counts">${SEVERITY_ORDER.filter((s) => g.bySeverity[s]).map(
            (s) => html`<span class="sev" data-severity=${s} title=${`${g.bySeverity[s]} ${s}`}>${s}<span class="n">${g.bySeverity[s]}</span></span>`,
          )}</span>
        </td>
        <td class="nowrap">
          <span class="counts">
            ${g.firing ? html`<span class="phase" data-phase="firing">${g.firing} firing</span>` : nothing}
            ${g.pending ? html`<span class="phase" data-phase="pending">${g.pending} pending</span>` : nothing}
            ${silenced ? html`<span class="phase silenced" title="Covered by an active silence">${silenced} silenced</span>` : nothing}
          </span>
        </td>
        <td>
          <div class="name" title=${`rule ${g.ruleId}${cond ? `: ${cond}` : ''}`}>${g.name}</div>
          ${cond ? html`<div class="summary mono">${cond}</div>` : nothing}
        </td>
        <td class="nowrap">${g.alerts.length === 1 ? html`<a class="mono" href=${chipHref(g.alerts[0]!.chipId)}>${g.alerts[0]!.chipId}</a>` : `${g.alerts.length} chips`}</td>
        <td class="nowrap">${hosts.length === 1 ? (hosts[0] ? html`<a href=${hostHref(hosts[0])}>${hosts[0]}</a>` : '—') : `${hosts.length} hosts`}</td>
        <td class="num" title=${g.alerts.length > 1 ? 'The highest of its alerts’ values' : cond}>${g.alerts.length > 1 && top != null ? html`<span class="sub">up to</span> ` : nothing}${fmtRuleValue(rule?.field, top)}</td>
        <td class="nowrap" title=${`the oldest since ${fmtWhen(oldest)}`}>${fmtSpan(now - oldest)} <span class="sub">ago</span></td>
        <td>
          <button type="button" data-testid="silence-group" title="Fill in the silence form for every alert of this rule" @click=${() => this.silence(g.alerts[0]!, silenceMatchersForRule(g.alerts[0]!))}>
            Silence rule…
          </button>
        </td>
      </tr>
      ${repeat(rows, (a) => `${a.ruleId}|${a.chipId}`, (a) => this.renderRow(a))}
      ${open && g.alerts.length > rows.length
        ? html`<tr class="member">
            <td></td>
            <td class="more" colspan="8">
              <button type="button" data-testid="alert-group-more" @click=${() => (this.showAll = new Set([...this.showAll, g.ruleId]))}>
                Show all ${g.alerts.length} (${g.alerts.length - rows.length} more)
              </button>
            </td>
          </tr>`
        : nothing}
    </tbody>`;
  }

  private renderRow(a: ActiveAlert) {
    const rule = this.rules.get(a.ruleId);
    const now = Date.now();
    const since = a.phase === 'firing' && a.firedAt != null ? a.firedAt : a.startsAt;
    const cond = fmtCondition(rule);
    const silenced = this.silences.length ? silencesCovering(a.labels, this.silences) : [];
    return html`<tr
      class="member"
      data-testid="active-alert"
      data-rule=${a.ruleId}
      data-chip=${a.chipId}
      data-phase=${a.phase}
      data-severity=${a.severity}
      data-silenced=${silenced.length ? 'true' : nothing}
    >
      <td></td>
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
      <td class="nowrap">${a.labels.host ? html`<a href=${hostHref(a.labels.host)} data-testid="alert-host-link">${a.labels.host}</a>` : '—'}</td>
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
