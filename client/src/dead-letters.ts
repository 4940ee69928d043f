import { LitElement, css, html, nothing } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type { DeadLettersAnswer, OutboxEntry, ReceiversAnswer } from '../../schema/api-answers.ts';
import { fmtWhen } from './alert-format.ts';
import { alertPanelStyles } from './alert-styles.ts';
import { describeError, fetchHubJson, sendHubJson, type HubFetchError } from './hub-fetch.ts';
import { PolledFetchController } from './polled-fetch-controller.ts';

/** How often the dead letters are re-read (ms). */
export const DEAD_LETTERS_REFRESH_MS = 15_000;

interface NotifyState {
  deadLetters: OutboxEntry[];
  /** The receivers, or null when the hub would not list them. */
  receivers: ReceiversAnswer['receivers'] | null;
}

async function loadNotifyState(signal: AbortSignal): Promise<NotifyState> {
  const [dead, receivers] = await Promise.allSettled([
    fetchHubJson<DeadLettersAnswer>('/api/v1/alerts/dead-letters', signal),
    fetchHubJson<ReceiversAnswer>('/api/v1/alerts/receivers', signal),
  ]);
  if (dead.status === 'rejected') throw dead.reason;
  return { deadLetters: dead.value.deadLetters, receivers: receivers.status === 'fulfilled' ? receivers.value.receivers : null };
}

/**
 * What a notification was about, from its payload: the alerts of an Alertmanager webhook body
 * (`alerts[].labels.alertname` and `.chip`) or of Alertmanager's own API (an array of alerts).
 */
export function payloadAlerts(payload: unknown): { names: string[]; chips: string[]; status: string | null } {
  const body = payload as { alerts?: unknown; status?: unknown } | unknown[] | null;
  const list = Array.isArray(body) ? body : body && typeof body === 'object' && Array.isArray(body.alerts) ? body.alerts : [];
  const names = new Set<string>();
  const chips = new Set<string>();
  for (const a of list as { labels?: Record<string, unknown> }[]) {
    const l = a?.labels;
    if (!l || typeof l !== 'object') continue;
    if (typeof l.alertname === 'string') names.add(l.alertname);
    if (typeof l.chip === 'string') chips.add(l.chip);
  }
  const status = body && !Array.isArray(body) && typeof body === 'object' && typeof body.status === 'string' ? body.status : null;
  return { names: [...names], chips: [...chips], status };
}

/**
 * `<dead-letters>`: notifications the hub gave up on (`GET /api/v1/alerts/dead-letters`): the
 * receiver, what the notification was about, attempts, the last error and when it ended, each with
 * a "Retry" button (`POST /api/v1/alerts/dead-letters/:id/retry`, admin: sends it again from
 * attempt zero; a refusal shows the hub's message). A line above names the receivers alerts go to.
 *
 * Test hooks: rows `data-testid="dead-letter"` with `data-id`, `data-receiver`; their
 * `data-testid="dead-letter-retry"` buttons; `data-testid="dead-letters-empty"`,
 * `"dead-letters-error"`, `"dead-letters-message"` (after a retry: `data-state` ok | error),
 * `"receivers"`.
 *
 * @fires dead-letters-change - `detail: { count }` when the number of dead letters read changes
 */
export class DeadLetters extends LitElement {
  static override properties = {
    refreshMs: { type: Number, attribute: 'refresh-ms' },
    busyId: { state: true },
    result: { state: true },
  };

  declare refreshMs: number;
  declare busyId: number | null;
  /** The last retry's outcome. */
  declare result: { ok: true; id: number } | { ok: false; id: number; error: HubFetchError } | null;

  private readonly state = new PolledFetchController<NotifyState>(this, {
    key: () => 'dead-letters',
    load: loadNotifyState,
    intervalMs: () => this.refreshMs,
  });

  static override styles = [
    alertPanelStyles,
    css`
      .error-text {
        color: var(--fs-bad-text);
        font-size: 12px;
        word-break: break-word;
      }
      .receivers {
        margin: -2px 0 8px;
      }
    `,
  ];

  constructor() {
    super();
    this.refreshMs = DEAD_LETTERS_REFRESH_MS;
    this.busyId = null;
    this.result = null;
  }

  private toldCount = -1;

  protected override updated(): void {
    const n = this.state.data?.deadLetters.length;
    if (n != null && n !== this.toldCount) {
      this.toldCount = n;
      this.dispatchEvent(new CustomEvent('dead-letters-change', { detail: { count: n }, bubbles: true, composed: true }));
    }
  }

  private async retry(d: OutboxEntry): Promise<void> {
    this.busyId = d.id;
    this.result = null;
    try {
      await sendHubJson<OutboxEntry>('POST', `/api/v1/alerts/dead-letters/${d.id}/retry`);
      this.result = { ok: true, id: d.id };
    } catch (err) {
      this.result = { ok: false, id: d.id, error: describeError(err) };
    } finally {
      this.busyId = null;
      this.state.reload();
    }
  }

  private renderReceivers(receivers: NotifyState['receivers']) {
    if (receivers === null) return nothing;
    return html`<div class="sub receivers" data-testid="receivers">
      ${receivers.length === 0
        ? 'No receivers are configured: alerts show here but are not sent anywhere.'
        : html`Receivers: ${receivers.map((r, i) => html`${i ? ', ' : ''}<b>${r.name}</b> (${r.kind})`)}`}
    </div>`;
  }

  private renderResult() {
    const r = this.result;
    if (!r) return nothing;
    return r.ok
      ? html`<div class="msg ok" data-testid="dead-letters-message" data-state="ok">Notification #${r.id} is queued again; its attempts start from zero.</div>`
      : html`<div class="msg error" role="alert" data-testid="dead-letters-message" data-state="error" data-code=${r.error.code}>
          Could not retry notification #${r.id}: ${r.error.message} <code>${r.error.status ? `${r.error.status} ` : ''}${r.error.code}</code>
        </div>`;
  }

  protected override render() {
    const s = this.state.data;
    const e = this.state.error;
    return html`<div class="panel">
      <h3>Dead letters <span class="count">${s ? `${s.deadLetters.length}` : ''}</span></h3>
      ${s ? this.renderReceivers(s.receivers) : nothing} ${this.renderResult()}
      ${e
        ? html`<div class="msg error" role="alert" data-testid="dead-letters-error" data-code=${e.code}>Could not load the dead letters: ${e.message} <code>${e.code}</code></div>`
        : nothing}
      ${!s
        ? html`<div class="empty">${this.state.loading ? 'Loading…' : ''}</div>`
        : s.deadLetters.length === 0
          ? html`<div class="empty" data-testid="dead-letters-empty">No dead letters: every notification was delivered or is still being retried.</div>`
          : html`<div class="scroll capped"><table>
              <thead>
                <tr>
                  <th class="num">#</th>
                  <th>Receiver</th>
                  <th>About</th>
                  <th class="num">Attempts</th>
                  <th>Last error</th>
                  <th>Gave up</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                ${repeat(s.deadLetters, (d) => d.id, (d) => {
                  const about = payloadAlerts(d.payload);
                  return html`<tr data-testid="dead-letter" data-id=${d.id} data-receiver=${d.receiver}>
                    <td class="num">${d.id}</td>
                    <td class="nowrap">${d.receiver}</td>
                    <td>
                      ${about.names.length ? about.names.join(', ') : '—'}${about.status ? html` <span class="sub">(${about.status})</span>` : nothing}
                      ${about.chips.length ? html`<div class="sub mono">${about.chips.slice(0, 3).join(', ')}${about.chips.length > 3 ? ` +${about.chips.length - 3}` : ''}</div>` : nothing}
                    </td>
                    <td class="num">${d.attempts}</td>
                    <td class="error-text">${d.lastError ?? '—'}</td>
                    <td class="nowrap" title=${`created ${fmtWhen(d.createdAt)}`}>${fmtWhen(d.nextAt)}</td>
                    <td>
                      <button type="button" data-testid="dead-letter-retry" ?disabled=${this.busyId === d.id} @click=${() => void this.retry(d)}>
                        ${this.busyId === d.id ? 'Retrying…' : 'Retry'}
                      </button>
                    </td>
                  </tr>`;
                })}
              </tbody>
            </table></div>`}
    </div>`;
  }
}

if (!customElements.get('dead-letters')) customElements.define('dead-letters', DeadLetters);

declare global {
  interface HTMLElementTagNameMap {
    'dead-letters': DeadLetters;
  }
}
