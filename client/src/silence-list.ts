import { LitElement, css, html, nothing } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type { SilenceAnswer, SilencesAnswer } from '../../schema/api-answers.ts';
import { fmtSpan, fmtWhen } from './alert-format.ts';
import { alertPanelStyles } from './alert-styles.ts';
import { describeError, fetchHubJson, sendHubJson, type HubFetchError } from './hub-fetch.ts';
import { PolledFetchController } from './polled-fetch-controller.ts';

/** How often the silences are re-read (ms). */
export const SILENCES_REFRESH_MS = 15_000;
/** Expired silences listed under "Expired" (the newest). */
export const MAX_EXPIRED_SHOWN = 20;

/** A matcher as written: `name="value"`, `name=~"regex"`. */
export function matcherText(m: { name: string; op: string; value: string }): string {
  return `${m.name}${m.op}${JSON.stringify(m.value)}`;
}

/**
 * `<silence-list>`: the hub's silences (`GET /api/v1/alerts/silences`): the active and pending
 * ones, newest first, with their matchers, comment, author and end, each with an "Expire" button
 * (`DELETE /api/v1/alerts/silences/:id`, admin; a refusal shows the hub's message); expired ones
 * folded away below. Re-read every `refreshMs`, and at once by `refresh()`.
 *
 * Fires `silences-change` (`detail: { silences }`) whenever a read brings the list, so the
 * alerts view can mark the alerts a silence covers.
 *
 * Test hooks: rows `data-testid="silence"` with `data-id`, `data-state`; their
 * `data-testid="silence-expire"` buttons; `data-testid="silences-empty"`, `"silences-error"`,
 * `"silences-expired"` (the folded list, `data-count`).
 */
export class SilenceList extends LitElement {
  static override properties = {
    refreshMs: { type: Number, attribute: 'refresh-ms' },
    busyId: { state: true },
    actionError: { state: true },
  };

  declare refreshMs: number;
  /** The silence being expired. */
  declare busyId: string | null;
  /** Why the last expiry failed. */
  declare actionError: HubFetchError | null;

  private announced: SilencesAnswer | null = null;
  private readonly silences = new PolledFetchController<SilencesAnswer>(this, {
    key: () => 'silences',
    load: (signal) => fetchHubJson<SilencesAnswer>('/api/v1/alerts/silences', signal),
    intervalMs: () => this.refreshMs,
  });

  static override styles = [
    alertPanelStyles,
    css`
      details {
        margin-top: 6px;
        font-size: 13px;
        color: var(--fs-faint);
      }
      summary {
        cursor: pointer;
        padding: 2px 0;
      }
      details table {
        opacity: 0.75;
      }
    `,
  ];

  constructor() {
    super();
    this.refreshMs = SILENCES_REFRESH_MS;
    this.busyId = null;
    this.actionError = null;
  }

  protected override updated(): void {
    const data = this.silences.data;
    if (data && data !== this.announced) {
      this.announced = data;
      this.dispatchEvent(new CustomEvent('silences-change', { detail: { silences: data.silences }, bubbles: true, composed: true }));
    }
  }

  /** Re-reads the silences now (after one was created). */
  refresh(): void {
    this.silences.reload();
  }

  private async expire(s: SilenceAnswer): Promise<void> {
    this.busyId = s.id;
    this.actionError = null;
    try {
      await sendHubJson<SilenceAnswer>('DELETE', `/api/v1/alerts/silences/${encodeURIComponent(s.id)}`);
    } catch (err) {
      this.actionError = describeError(err);
    } finally {
      this.busyId = null;
      this.silences.reload();
    }
  }

  protected override render() {
    const all = this.silences.data?.silences ?? [];
    const current = all.filter((s) => s.state !== 'expired').sort((a, b) => b.startsAt - a.startsAt);
    const expired = all.filter((s) => s.state === 'expired').sort((a, b) => b.endsAt - a.endsAt);
    const e = this.silences.error;
    const a = this.actionError;
    return html`<div class="panel">
      <h3>Silences <span class="count">${this.silences.data ? `${current.length} active or pending` : ''}</span></h3>
      ${e
        ? html`<div class="msg error" role="alert" data-testid="silences-error" data-code=${e.code}>Could not load the silences: ${e.message} <code>${e.code}</code></div>`
        : nothing}
      ${a
        ? html`<div class="msg error" role="alert" data-testid="silence-expire-error" data-code=${a.code}>Could not expire the silence: ${a.message} <code>${a.status ? `${a.status} ` : ''}${a.code}</code></div>`
        : nothing}
      ${!this.silences.data
        ? html`<div class="empty">${this.silences.loading ? 'Loading…' : ''}</div>`
        : current.length === 0
          ? html`<div class="empty" data-testid="silences-empty">No active silences: every alert is notified.</div>`
          : this.renderTable(current, true)}
      ${expired.length
        ? html`<details data-testid="silences-expired" data-count=${expired.length}>
            <summary>Expired (${expired.length})</summary>
            ${this.renderTable(expired.slice(0, MAX_EXPIRED_SHOWN), false)}
          </details>`
        : nothing}
    </div>`;
  }

  private renderTable(list: SilenceAnswer[], current: boolean) {
    const now = Date.now();
    return html`<div class="scroll"><table>
      <thead>
        <tr>
          <th>State</th>
          <th>Matchers</th>
          <th>Comment</th>
          <th>By</th>
          <th>${current ? 'Ends' : 'Ended'}</th>
          ${current ? html`<th></th>` : nothing}
        </tr>
      </thead>
      <tbody>
        ${repeat(list, (s) => s.id, (s) => html`<tr data-testid=${current ? 'silence' : 'silence-expired'} data-id=${s.id} data-state=${s.state}>
          <td><span class="phase" data-phase=${s.state}>${s.state}</span></td>
          <td>${s.matchers.map((m) => html`<code>${matcherText(m)}</code>`)}</td>
          <td data-testid="silence-comment-text">${s.comment}</td>
          <td class="nowrap">${s.createdBy}</td>
          <td class="nowrap" title=${`${fmtWhen(s.startsAt)} – ${fmtWhen(s.endsAt)}`}>
            ${fmtWhen(s.endsAt)}${current && s.endsAt > now ? html` <span class="sub">(in ${fmtSpan(s.endsAt - now)})</span>` : nothing}
          </td>
          ${current
            ? html`<td>
                <button type="button" data-testid="silence-expire" ?disabled=${this.busyId === s.id} @click=${() => void this.expire(s)}>
                  ${this.busyId === s.id ? 'Expiring…' : 'Expire'}
                </button>
              </td>`
            : nothing}
        </tr>`)}
      </tbody>
    </table></div>`;
  }
}

if (!customElements.get('silence-list')) customElements.define('silence-list', SilenceList);

declare global {
  interface HTMLElementTagNameMap {
    'silence-list': SilenceList;
  }
}
