import { LitElement, css, html, nothing } from 'lit';
import { AlertsController } from './alerts-controller.ts';
import { FleetController, type FleetTotals } from './fleet-controller.ts';
import { fmtKw } from './format.ts';
import { SessionController } from './session-controller.ts';
import { firingCount, SummaryController, worstFiring } from './summary-controller.ts';
import { themeVars } from './theme.ts';
import type { RangeKey as ChipRange } from './history-range.ts';
import { formatRoute, liveFilter, parseRoute, type FleetViewState, type Route, type ZoomSpan } from './view-state.ts';
import type { EfficiencyState } from './efficiency-state.ts';
import type { FleetFilter } from '../../schema/protocol.ts';
import type { Severity } from '../../schema/alert-rules.ts';
import './alerts-view.ts';
import './chip-detail.ts';
import './efficiency-view.ts';
import './fleet-energy.ts';
import './fleet-view.ts';
import './host-view.ts';
import './sign-in-form.ts';

export { parseRoute, type Route } from './view-state.ts';

/**
 * `<fleet-app>`: the dashboard. A header with the name, the live-connection
 * indicator and fleet counts (chips live / stale / offline, total live power),
 * then `<fleet-energy>` (the last 24 h) over `<fleet-view>` (filters, summary, heatmap or tiles; its
 * state is the hash's query, `#/?metric=power&group=model…`, see view-state.ts: a change pushes a
 * new history entry, so a link reproduces the view and Back works), or `<chip-detail>` when the hash is `#/chip/<chipId>`
 * (its range and zoomed span in the query, `?range=6h&from=<ms>&to=<ms>`, each change a history entry)
 * or `<host-view>` for `#/host/<host>` (Escape in either goes back to the fleet view it was opened from),
 * or `<alerts-view>` when it is `#/alerts` (the header's "Alerts" link, with the number of alerts
 * firing in the colour of the worst severity), or `<efficiency-view>` when it is `#/efficiency` (the
 * header's "Efficiency" link; its grouping, range, unit and sort in the query, each change a history
 * entry: efficiency-state.ts). The live `alerts` subscription (`AlertsController`)
 * lives here and feeds the grid's badges, the chip view's alert bands and the alerts view.
 *
 * Each view subscribes only to what it shows (`liveScope`): the fleet view to the `fleet` and
 * `alerts` topics with its filters, a chip's view to that chip's (plus the `chip` topic, in
 * `<chip-detail>`), a host's view to that host's chips and alerts, the alerts view to every alert
 * and no chip, the efficiency view to the fleet (the jobs of its hover cards). The header's counts
 * come from the `summary` topic (the whole fleet, about once a second, `SummaryController`), except
 * in the fleet view, where they count the chips of its subscription as they change; the number of
 * alerts firing comes from the `alerts` subscription when it takes every chip, else from the summary.
 * When the hub needs a token and none is signed in, `<sign-in-form>` instead (and no fleet data);
 * signed in with a token, a sign-out button in the header.
 *
 * Test hooks: `data-testid="connection"` with `data-state` (connecting | open |
 * closed), `data-testid="count-live" | "count-stale" | "count-offline" |
 * "count-total" | "total-power" | "sign-out"`; the host's `data-session`
 * (checking | signed-in | signed-out); `data-testid="nav-fleet" | "nav-alerts" | "nav-efficiency"` (with `aria-current`),
 * `data-testid="alerts-firing"` (the count, `data-severity` the worst, absent when none fires).
 *
 * Colours: the `--fs-*` custom properties of theme.ts, dark or light as the system prefers.
 *
 * @csspart header - the top bar
 */
export class FleetApp extends LitElement {
  static override properties = {
    route: { state: true },
  };

  /** What the URL hash shows. */
  declare route: Route;

  /** Added first: it holds the live connection paused until the hub says the dashboard may read. */
  private readonly session = new SessionController(this);
  private readonly fleet = new FleetController(this);
  private readonly alerts = new AlertsController(this);
  private readonly summary = new SummaryController(this);
  /** Whether the socket has been open at least once (connecting vs reconnecting). */
  private everOpen = false;
  /** The fleet view's hash last shown, for Escape in the chip view. */
  private lastFleetHash = '#/';
  private readonly onHash = () => {
    this.route = parseRoute(location.hash);
    if (this.route.view === 'fleet') this.lastFleetHash = location.hash || '#/';
  };
  private readonly onKey = (e: KeyboardEvent) => {
    if (e.key !== 'Escape' || (this.route.view !== 'chip' && this.route.view !== 'host') || e.defaultPrevented) return;
    const t = e.composedPath()[0];
    if (t instanceof HTMLInputElement || t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement) return;
    location.hash = this.lastFleetHash;
  };
  private readonly onViewChange = (e: CustomEvent<FleetViewState>) => {
    const hash = formatRoute({ view: 'fleet', state: e.detail });
    if (hash !== (location.hash || '#/')) location.hash = hash;
  };

  /** The chip view's range or zoom changed: a new history entry (Back undoes a zoom). */
  private readonly onChipViewChange = (e: CustomEvent<{ range: ChipRange; zoom: ZoomSpan | null }>) => {
    if (this.route.view !== 'chip') return;
    const hash = formatRoute({ view: 'chip', chipId: this.route.chipId, range: e.detail.range, ...(e.detail.zoom ? { zoom: e.detail.zoom } : {}) });
    if (hash !== location.hash) location.hash = hash;
  };

  /** The job running on a chip now, as the live fleet has it (the efficiency scatter's hover card). */
  private readonly jobOf = (chipId: string): string | undefined => this.fleet.get(chipId)?.job;

  /** The efficiency view's unit or sort changed: a new history entry. */
  private readonly onEfficiencyChange = (e: CustomEvent<EfficiencyState>) => {
    const hash = formatRoute({ view: 'efficiency', state: e.detail });
    if (hash !== location.hash) location.hash = hash;
  };

  static override styles = [
    themeVars,
    css`
    :host {
      display: flex;
      flex-direction: column;
      min-height: 100vh;
      background: var(--fs-bg);
      color: var(--fs-text);
      font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif;
    }
    header {
      position: sticky;
      top: 0;
      z-index: 2;
      display: flex;
      align-items: center;
      gap: 22px;
      height: 48px;
      padding: 0 16px;
      background: var(--fs-surface);
      border-bottom: 1px solid var(--fs-divider);
      white-space: nowrap;
    }
    h1 {
      margin: 0;
      font-size: 20px;
      font-weight: 700;
      letter-spacing: 0.3px;
    }
    h1 a {
      color: inherit;
      text-decoration: none;
    }
    .conn {
      display: inline-flex;
      align-items: center;
      gap: 6px;
      font-size: 13px;
      color: var(--fs-muted);
    }
    .dot {
      width: 10px;
      height: 10px;
      border-radius: 50%;
      background: #d0a030;
    }
    .conn[data-state='open'] .dot {
      background: #3ccf6e;
      box-shadow: 0 0 6px #3ccf6e;
    }
    .conn[data-state='closed'] .dot {
      background: #e0533d;
      animation: blink 1s steps(2) infinite;
    }
    @keyframes blink {
      50% {
        opacity: 0.3;
      }
    }
    nav {
      display: flex;
      gap: 4px;
    }
    nav a {
      display: inline-flex;
      align-items: center;
      gap: 6px;
      padding: 3px 10px;
      border-radius: 5px;
      color: var(--fs-muted);
      font-size: 14px;
      text-decoration: none;
    }
    nav a:hover {
      color: var(--fs-text);
      background: var(--fs-raised);
    }
    nav a[aria-current='page'] {
      color: var(--fs-text-strong);
      background: var(--fs-selected);
      font-weight: 600;
    }
    .firing {
      min-width: 18px;
      padding: 0 6px;
      border-radius: 9px;
      font-size: 12px;
      line-height: 18px;
      font-weight: 700;
      text-align: center;
      font-variant-numeric: tabular-nums;
      background: rgb(95, 179, 255);
      color: #0b0e13;
    }
    .firing[data-severity='critical'] {
      background: rgb(239, 83, 80);
      color: #fff;
    }
    .firing[data-severity='warning'] {
      background: rgb(232, 170, 50);
      color: #1a1a1a;
    }
    .counts {
      display: flex;
      gap: 16px;
      margin-left: auto;
      font-size: 14px;
      color: var(--fs-muted);
      font-variant-numeric: tabular-nums;
    }
    .counts b {
      font-size: 18px;
      color: var(--fs-text-strong);
      margin-right: 4px;
    }
    .counts .stale b {
      color: var(--fs-warn-text);
    }
    .counts .offline b {
      color: var(--fs-bad-text);
    }
    main {
      flex: 1;
    }
    main.disconnected {
      opacity: 0.8;
    }
    .banner {
      padding: 4px 16px;
      background: var(--fs-error-bg, #4a1d22);
      color: var(--fs-error-text, #ffd2d5);
      font-size: 13px;
    }
    .missing {
      padding: 48px;
      text-align: center;
      color: var(--fs-faint);
      font-size: 18px;
    }
    .missing a {
      color: var(--fs-link);
    }
    .who {
      display: inline-flex;
      align-items: center;
      gap: 8px;
      font-size: 13px;
      color: var(--fs-muted);
    }
    .who button {
      padding: 3px 10px;
      background: transparent;
      border: 1px solid var(--fs-border);
      border-radius: 4px;
      color: var(--fs-text-soft);
      font-size: 13px;
      cursor: pointer;
    }
    .who button:hover {
      border-color: var(--fs-border-hover);
    }
  `,
  ];

  constructor() {
    super();
    this.route = parseRoute(location.hash);
    // Before the controllers subscribe (on connect): the first subscriptions are already the view's.
    this.applyScope();
  }

  /** The live subscriptions of the route's view (`liveScope`). */
  private applyScope(): void {
    const scope = liveScope(this.route);
    this.fleet.setFilter(scope.fleet);
    this.alerts.setFilter(scope.alerts);
  }

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('hashchange', this.onHash);
    window.addEventListener('keydown', this.onKey);
    this.onHash();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('hashchange', this.onHash);
    window.removeEventListener('keydown', this.onKey);
  }

  protected override willUpdate(): void {
    // The hub sends only what the view shows.
    this.applyScope();
    if (this.fleet.connection === 'open') this.everOpen = true;
    // After a sign-out the next connection is a first one again (not "reconnecting").
    if (this.session.state !== 'signed-in') this.everOpen = false;
    this.dataset.session = this.session.state;
  }

  protected override render() {
    if (this.session.state !== 'signed-in') return this.renderSignedOut();
    const f = this.fleet;
    const t = this.headerTotals();
    const connLabel =
      f.connection === 'open' ? 'live' : this.everOpen ? 'reconnecting…' : 'connecting…';
    return html`
      <header part="header">
        <h1><a href="#/">fleetscope</a></h1>
        <span class="conn" data-testid="connection" data-state=${f.connection} title="Live connection to the hub">
          <span class="dot"></span>${connLabel}
        </span>
        ${this.renderNav()}
        <div class="counts">
          <span title="Chips"><b data-testid="count-total">${t.total}</b>chips</span>
          <span class="live"><b data-testid="count-live">${t.live}</b>live</span>
          <span class="stale"><b data-testid="count-stale">${t.stale}</b>stale</span>
          <span class="offline"><b data-testid="count-offline">${t.offline}</b>offline</span>
          <span title="Total power of live chips"><b data-testid="total-power">${fmtKw(t.powerW)}</b></span>
        </div>
        ${this.renderWho()}
      </header>
      ${f.connection !== 'open' && this.everOpen
        ? html`<div class="banner" data-testid="disconnected-banner">
            Connection to the hub lost: values shown are the last known. Reconnecting…
          </div>`
        : ''}
      <main class=${f.connection === 'open' ? '' : 'disconnected'}>${this.renderBody()}</main>
    `;
  }

  /**
   * The header's counts: in the fleet view, the chips of its subscription (its filters); elsewhere
   * the whole fleet's summary (the view holds a chip, a host or none).
   */
  private headerTotals(): FleetTotals {
    const s = this.summary.summary;
    if (this.route.view === 'fleet' || !s) return this.fleet.totals;
    return { ...s.chips, powerW: s.powerW };
  }

  /** Alerts firing and the worst severity: from the alerts subscription when it takes every chip, else the summary. */
  private firing(): { firing: number; worst: Severity | null } {
    const a = this.alerts;
    const s = this.summary.summary;
    if ((a.currentFilter === undefined && a.loaded) || !s) return { firing: a.firing, worst: a.worst };
    return { firing: firingCount(s), worst: worstFiring(s) };
  }

  /** Fleet, Alerts and Efficiency links; the alerts one carries the number firing. */
  private renderNav() {
    const view = this.route.view;
    const a = this.firing();
    return html`<nav>
      <a href="#/" data-testid="nav-fleet" aria-current=${view === 'alerts' || view === 'efficiency' ? 'false' : 'page'}>Fleet</a>
      <a
        href="#/alerts"
        data-testid="nav-alerts"
        aria-current=${view === 'alerts' ? 'page' : 'false'}
        title=${a.firing ? `${a.firing} ${a.firing === 1 ? 'alert' : 'alerts'} firing` : 'No alert is firing'}
        >Alerts${a.firing
          ? html`<span class="firing" data-testid="alerts-firing" data-severity=${a.worst ?? 'info'}>${a.firing}</span>`
          : nothing}</a
      >
      <a
        href="#/efficiency"
        data-testid="nav-efficiency"
        aria-current=${view === 'efficiency' ? 'page' : 'false'}
        title="Energy and cost per unit of work (tokens, steps…), by job, chip generation or vendor"
        >Efficiency</a
      >
    </nav>`;
  }

  /** Checking the session, or the sign-in form: the header's name only, no fleet data. */
  private renderSignedOut() {
    const s = this.session;
    return html`
      <header part="header"><h1><a href="#/">fleetscope</a></h1></header>
      <main>
        ${s.state === 'signed-out'
          ? html`<sign-in-form .error=${s.error} ?busy=${s.busy} @sign-in=${(e: CustomEvent<{ token: string }>) => void s.signIn(e.detail.token)}></sign-in-form>`
          : ''}
      </main>
    `;
  }

  /** Who is signed in, and the sign-out button (not on an open hub). */
  private renderWho() {
    const s = this.session;
    if (!s.canSignOut) return '';
    return html`<span class="who" title=${`Signed in with the ${s.session!.role} token "${s.session!.name}"`}>
      <button type="button" data-testid="sign-out" ?disabled=${s.busy} @click=${() => void s.signOut()}>Sign out</button>
    </span>`;
  }

  private renderBody() {
    const r = this.route;
    const a = this.alerts;
    if (r.view === 'alerts') {
      return html`<alerts-view
        .alerts=${a.alerts}
        ?loaded=${a.loaded}
        .trigger=${a.eventCount}
        ?viewer=${this.session.session?.role === 'viewer'}
      ></alerts-view>`;
    }
    if (r.view === 'efficiency') {
      return html`<efficiency-view .state=${r.state} .jobOf=${this.jobOf} @efficiency-change=${this.onEfficiencyChange}></efficiency-view>`;
    }
    if (r.view === 'fleet') {
      return html`<fleet-energy></fleet-energy>
        <fleet-view .chips=${this.fleet.chips} .alertsByChip=${a.byChip} ?loaded=${this.fleet.loaded} .state=${r.state} @view-change=${this.onViewChange}></fleet-view>`;
    }
    if (r.view === 'host') {
      return html`<host-view .host=${r.host} .range=${r.range} .chips=${this.fleet.chips.filter((c) => c.host === r.host)}></host-view>`;
    }
    const id = r.chipId;
    const chip = this.fleet.get(id);
    if (!chip && this.fleet.loaded) {
      return html`<div class="missing" data-testid="chip-missing">
        No chip <code>${id}</code> in this fleet. <a href="#/">Back to the fleet</a>
      </div>`;
    }
    return html`<chip-detail
      chip-id=${id}
      .chip=${chip}
      .alerts=${a.alerts}
      .alertEvents=${a.recent}
      .range=${r.range ?? 'live'}
      .zoom=${r.zoom ?? null}
      @chip-view-change=${this.onChipViewChange}
    ></chip-detail>`;
  }
}

/** What a view subscribes to: the `fleet` and `alerts` topics' filters (undefined: every chip; null: no subscription). */
export function liveScope(r: Route): { fleet: FleetFilter | undefined | null; alerts: FleetFilter | undefined | null } {
  switch (r.view) {
    case 'fleet': {
      const f = liveFilter(r.state);
      return { fleet: f, alerts: f };
    }
    case 'chip':
      return { fleet: { chipId: [r.chipId] }, alerts: { chipId: [r.chipId] } };
    case 'host':
      return { fleet: { hostExact: [r.host] }, alerts: { hostExact: [r.host] } };
    case 'alerts':
      return { fleet: null, alerts: undefined };
    default:
      // The efficiency view's hover cards name any chip's job; it shows no alert.
      return { fleet: undefined, alerts: null };
  }
}

if (!customElements.get('fleet-app')) customElements.define('fleet-app', FleetApp);

declare global {
  interface HTMLElementTagNameMap {
    'fleet-app': FleetApp;
  }
}
