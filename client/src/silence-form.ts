import { LitElement, css, html, nothing } from 'lit';
import type { SilenceAnswer } from '../../schema/api-answers.ts';
import { fmtWhen } from './alert-format.ts';
import { alertPanelStyles } from './alert-styles.ts';
import { describeError, sendHubJson, type HubFetchError } from './hub-fetch.ts';

/** Durations offered (any duration the hub reads may be typed). */
export const SILENCE_DURATIONS = ['30m', '1h', '2h', '4h', '8h', '1d', '3d', '7d'] as const;

/** The matchers of the form's text: one per line (blank lines left out). */
export function matcherLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

/**
 * `<silence-form>`: creates a silence (`POST /api/v1/alerts/silences`, admin): label matchers,
 * one per line (`alertname="HighPower"`, `host=~"p5-.*"`, `severity!="info"`), a duration from
 * now, and a comment saying why. The hub checks the matchers; a refusal shows its message as it is
 * (a viewer token's attempt: the hub's 403). `fill()` puts matchers in (an alert's "Silence…").
 *
 * Test hooks: `data-testid="silence-matchers" | "silence-duration" | "silence-comment" |
 * "silence-submit"`; `data-testid="silence-error"` with `data-code` and `data-status`;
 * `data-testid="silence-created"` with `data-id`.
 *
 * @fires silence-created - `detail: { silence: SilenceAnswer }`
 */
export class SilenceForm extends LitElement {
  static override properties = {
    viewer: { type: Boolean },
    matchers: { state: true },
    duration: { state: true },
    comment: { state: true },
    busy: { state: true },
    error: { state: true },
    created: { state: true },
  };

  /** Signed in with a viewer token: say that the hub will refuse. */
  declare viewer: boolean;
  declare matchers: string;
  declare duration: string;
  declare comment: string;
  declare busy: boolean;
  declare error: HubFetchError | null;
  declare created: SilenceAnswer | null;

  static override styles = [
    alertPanelStyles,
    css`
      form {
        display: grid;
        grid-template-columns: minmax(0, 1.4fr) minmax(0, 1fr);
        gap: 8px 14px;
        align-items: start;
      }
      label {
        display: flex;
        flex-direction: column;
        gap: 3px;
        font-size: 12px;
        color: var(--fs-faint);
      }
      .matchers {
        grid-row: span 2;
      }
      textarea,
      input {
        box-sizing: border-box;
        width: 100%;
        padding: 5px 8px;
        background: var(--fs-input-bg, #0f1319);
        border: 1px solid var(--fs-border);
        border-radius: 5px;
        color: var(--fs-text);
        font: 13px ui-monospace, SFMono-Regular, Menlo, monospace;
      }
      input.text {
        font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif;
      }
      textarea {
        min-height: 74px;
        resize: vertical;
      }
      textarea:focus,
      input:focus {
        outline: none;
        border-color: #5b86c8;
      }
      .actions {
        grid-column: 1 / -1;
        display: flex;
        align-items: center;
        gap: 12px;
      }
      .hint {
        font-size: 12px;
        color: var(--fs-dim);
      }
      .msg {
        margin: 8px 0 0;
      }
    `,
  ];

  constructor() {
    super();
    this.viewer = false;
    this.matchers = '';
    this.duration = '2h';
    this.comment = '';
    this.busy = false;
    this.error = null;
    this.created = null;
  }

  /** Puts `matchers` in the form (replacing what was there) and focuses the comment. */
  fill(matchers: readonly string[]): void {
    this.matchers = matchers.join('\n');
    this.error = null;
    this.created = null;
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLInputElement>('[data-testid="silence-comment"]')?.focus());
  }

  private async submit(e: Event): Promise<void> {
    e.preventDefault();
    if (this.busy) return;
    this.busy = true;
    this.error = null;
    this.created = null;
    try {
      const body = { matchers: matcherLines(this.matchers), duration: this.duration.trim(), comment: this.comment };
      const silence = await sendHubJson<SilenceAnswer>('POST', '/api/v1/alerts/silences', body);
      if (silence) {
        this.created = silence;
        this.comment = '';
        this.dispatchEvent(new CustomEvent('silence-created', { detail: { silence }, bubbles: true, composed: true }));
      }
    } catch (err) {
      this.error = describeError(err);
    } finally {
      this.busy = false;
    }
  }

  protected override render() {
    const e = this.error;
    return html`<div class="panel">
      <h3>New silence</h3>
      <form @submit=${this.submit} data-testid="silence-form">
        <label class="matchers"
          >Matchers, one per line: all must match
          <textarea
            data-testid="silence-matchers"
            spellcheck="false"
            placeholder=${'alertname="HighPower"\nhost=~"p5-.*"'}
            .value=${this.matchers}
            @input=${(ev: Event) => (this.matchers = (ev.target as HTMLTextAreaElement).value)}
          ></textarea>
        </label>
        <label
          >Duration, from now
          <input
            data-testid="silence-duration"
            list="silence-durations"
            spellcheck="false"
            .value=${this.duration}
            @input=${(ev: Event) => (this.duration = (ev.target as HTMLInputElement).value)}
          />
          <datalist id="silence-durations">${SILENCE_DURATIONS.map((d) => html`<option value=${d}></option>`)}</datalist>
        </label>
        <label
          >Comment: why
          <input
            class="text"
            data-testid="silence-comment"
            placeholder="Maintenance on p5-12"
            .value=${this.comment}
            @input=${(ev: Event) => (this.comment = (ev.target as HTMLInputElement).value)}
          />
        </label>
        <div class="actions">
          <button class="primary" type="submit" data-testid="silence-submit" ?disabled=${this.busy}>${this.busy ? 'Creating…' : 'Create silence'}</button>
          <span class="hint"
            >${this.viewer
              ? 'Signed in with a viewer token: the hub takes silences from admin tokens only.'
              : 'Matched alerts still show here; their notifications are held back.'}</span
          >
        </div>
      </form>
      ${e
        ? html`<div class="msg error" role="alert" data-testid="silence-error" data-code=${e.code} data-status=${e.status}>
            ${e.message} <code>${e.status ? `${e.status} ` : ''}${e.code}</code>
          </div>`
        : nothing}
      ${this.created
        ? html`<div class="msg ok" data-testid="silence-created" data-id=${this.created.id}>
            Silence created: ${this.created.state}, until ${fmtWhen(this.created.endsAt)}.
          </div>`
        : nothing}
    </div>`;
  }
}

if (!customElements.get('silence-form')) customElements.define('silence-form', SilenceForm);

declare global {
  interface HTMLElementTagNameMap {
    'silence-form': SilenceForm;
  }
}
