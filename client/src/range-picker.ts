import { LitElement, css, html } from 'lit';
import { RANGES, type RangeChoice, type RangeKey } from './history-range.ts';

/**
 * `<range-picker>`: a row of toggle buttons for the chip detail's time range —
 * `Live (10 min)`, `1 h`, `6 h`, `24 h`, `7 d`, `30 d` (or the `choices` given, e.g. the past
 * ranges alone for the alert history).
 *
 * Test hooks: each button has `data-testid="range-<key>"` (`range-live`, `range-6h`…)
 * and `aria-pressed`.
 *
 * @fires range-change - `detail: { range: RangeKey }` when the user picks another range
 * @csspart button - each range button
 */
export class RangePicker extends LitElement {
  static override properties = {
    value: { type: String },
    choices: { attribute: false },
  };

  /** The selected range. */
  declare value: RangeKey;
  /** The ranges offered (default: all of `RANGES`). */
  declare choices: readonly RangeChoice[];

  static override styles = css`
    :host {
      display: inline-flex;
      border: 1px solid var(--fs-border);
      border-radius: 7px;
      overflow: hidden;
      font-size: 13px;
    }
    button {
      background: var(--fs-panel);
      color: var(--fs-muted);
      border: none;
      border-left: 1px solid var(--fs-border);
      padding: 3px 10px;
      font: inherit;
      cursor: pointer;
      white-space: nowrap;
    }
    button:first-child {
      border-left: none;
    }
    button:hover {
      background: var(--fs-hover-bg, #1c2330);
      color: var(--fs-text);
    }
    button[aria-pressed='true'] {
      background: #2b4a7a;
      color: #f2f5f9;
      font-weight: 600;
    }
    button:focus-visible {
      outline: 2px solid var(--fs-link);
      outline-offset: -2px;
    }
  `;

  constructor() {
    super();
    this.value = 'live';
    this.choices = RANGES;
  }

  private pick(range: RangeKey): void {
    if (range === this.value) return;
    this.value = range;
    this.dispatchEvent(new CustomEvent('range-change', { detail: { range }, bubbles: true, composed: true }));
  }

  protected override render() {
    return html`${this.choices.map(
      (r) => html`<button
        part="button"
        type="button"
        data-testid=${`range-${r.key}`}
        title=${r.title}
        aria-pressed=${r.key === this.value ? 'true' : 'false'}
        @click=${() => this.pick(r.key)}
      >
        ${r.label}
      </button>`,
    )}`;
  }
}

if (!customElements.get('range-picker')) customElements.define('range-picker', RangePicker);

declare global {
  interface HTMLElementTagNameMap {
    'range-picker': RangePicker;
  }
}
