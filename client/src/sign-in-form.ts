import { LitElement, css, html, nothing } from 'lit';

/** Detail of the `sign-in` event. */
export interface SignInDetail {
  token: string;
}

/**
 * `<sign-in-form>`: asks for a viewer token when the hub needs one. Fires `sign-in`
 * (`detail.token`, bubbling) on submit; the owner signs in and sets `busy` / `error`.
 *
 * Test hooks: `data-testid="sign-in-form" | "token-input" | "sign-in-button" | "sign-in-error"`.
 */
export class SignInForm extends LitElement {
  static override properties = {
    error: {},
    busy: { type: Boolean },
  };

  /** The hub's message for the last refusal, or null. */
  declare error: string | null;
  declare busy: boolean;

  static override styles = css`
    :host {
      display: flex;
      justify-content: center;
      padding: 72px 16px;
    }
    form {
      width: min(440px, 100%);
      padding: 24px 28px;
      background: var(--fs-surface);
      border: 1px solid var(--fs-divider);
      border-radius: 8px;
      color: var(--fs-text);
      font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif;
    }
    h2 {
      margin: 0 0 8px;
      font-size: 18px;
    }
    p {
      margin: 0 0 16px;
      color: var(--fs-muted);
      font-size: 14px;
      line-height: 1.45;
    }
    code {
      padding: 1px 4px;
      background: var(--fs-bg);
      border-radius: 3px;
      color: var(--fs-text);
      font-size: 13px;
      white-space: nowrap;
    }
    label {
      display: block;
      margin-bottom: 6px;
      font-size: 13px;
      color: var(--fs-muted);
    }
    .row {
      display: flex;
      gap: 8px;
    }
    input {
      flex: 1;
      min-width: 0;
      padding: 7px 10px;
      background: var(--fs-bg);
      border: 1px solid var(--fs-border);
      border-radius: 4px;
      color: var(--fs-text);
      font: 14px ui-monospace, SFMono-Regular, Menlo, monospace;
    }
    input:focus {
      outline: 2px solid #3d7eff;
      outline-offset: -1px;
    }
    button {
      padding: 7px 16px;
      background: #2a63d4;
      border: 0;
      border-radius: 4px;
      color: #fff;
      font-size: 14px;
      cursor: pointer;
    }
    button:disabled {
      opacity: 0.6;
      cursor: default;
    }
    .error {
      margin: 14px 0 0;
      padding: 8px 10px;
      background: var(--fs-error-bg, #4a1d22);
      border-radius: 4px;
      color: var(--fs-error-text, #ffd2d5);
    }
  `;

  constructor() {
    super();
    this.error = null;
    this.busy = false;
  }

  private onSubmit(e: Event): void {
    e.preventDefault();
    const input = this.renderRoot.querySelector('input')!;
    const token = input.value.trim();
    if (!token) {
      input.focus();
      return;
    }
    this.dispatchEvent(new CustomEvent<SignInDetail>('sign-in', { detail: { token }, bubbles: true, composed: true }));
  }

  protected override render() {
    return html`
      <form data-testid="sign-in-form" @submit=${this.onSubmit}>
        <h2>Sign in</h2>
        <p>This hub needs a viewer token. Create one with <code>fleetscope token create --role viewer</code>.</p>
        <label for="token">Token</label>
        <div class="row">
          <input
            id="token"
            name="token"
            type="password"
            autocomplete="off"
            spellcheck="false"
            placeholder="fst_…"
            aria-describedby=${this.error ? 'error' : nothing}
            data-testid="token-input"
          />
          <button type="submit" ?disabled=${this.busy} data-testid="sign-in-button">Sign in</button>
        </div>
        ${this.error ? html`<p class="error" id="error" role="alert" data-testid="sign-in-error">${this.error}</p>` : ''}
      </form>
    `;
  }
}

if (!customElements.get('sign-in-form')) customElements.define('sign-in-form', SignInForm);

declare global {
  interface HTMLElementTagNameMap {
    'sign-in-form': SignInForm;
  }
  interface HTMLElementEventMap {
    'sign-in': CustomEvent<SignInDetail>;
  }
}
