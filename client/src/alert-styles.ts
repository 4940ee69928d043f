/** Styles shared by the parts of the alerts view: panels, tables, messages, buttons, code chips. */
import { css } from 'lit';

export const alertPanelStyles = css`
  :host {
    display: block;
    color: var(--fs-text);
    /* state pills (firing / pending / resolved / silence states): dark theme */
    --al-firing-border: #c0453f;
    --al-firing-text: #ffc9c6;
    --al-firing-bg: rgba(239, 83, 80, 0.16);
    --al-pending-border: #b08a2e;
    --al-pending-text: #f2d58e;
    --al-resolved-border: #2c6b41;
    --al-resolved-text: #a6e7bd;
    --al-active-border: #3b5f96;
    --al-active-text: #cfe0ff;
    --al-active-bg: rgba(95, 179, 255, 0.14);
    --al-primary-bg: #2b4a7a;
    --al-primary-border: #3b5f96;
    --al-primary-hover: #345a92;
    --al-primary-text: #f2f5f9;
  }
  @media (prefers-color-scheme: light) {
    :host {
      --al-firing-border: #c62f36;
      --al-firing-text: #8e1c22;
      --al-firing-bg: #fde8ea;
      --al-pending-border: #b07d10;
      --al-pending-text: #6e4d00;
      --al-resolved-border: #3f9a5d;
      --al-resolved-text: #1d5a33;
      --al-active-border: #3b6fc0;
      --al-active-text: #17407f;
      --al-active-bg: #e3edfb;
      --al-primary-bg: #1f5fc4;
      --al-primary-border: #1a51a8;
      --al-primary-hover: #1a51a8;
      --al-primary-text: #ffffff;
    }
  }
  .panel {
    background: var(--fs-panel);
    border: 1px solid var(--fs-divider);
    border-radius: 8px;
    padding: 10px 12px 8px;
    min-width: 0;
  }
  h3 {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 6px 14px;
    margin: 0 0 8px;
    font-size: 15px;
    font-weight: 650;
  }
  h3 .count {
    color: var(--fs-faint);
    font-size: 13px;
    font-weight: 400;
  }
  h3 .right {
    margin-left: auto;
    font-weight: 400;
  }
  .scroll {
    overflow-x: auto;
  }
  /* long tables (history, dead letters) scroll within their panel, headings kept */
  .scroll.capped {
    max-height: min(60vh, 640px);
    overflow-y: auto;
  }
  .scroll.capped thead th {
    position: sticky;
    top: 0;
    z-index: 1;
    background: var(--fs-panel);
  }
  table {
    width: 100%;
    border-collapse: collapse;
    font-size: 13px;
    font-variant-numeric: tabular-nums;
  }
  th {
    text-align: left;
    color: var(--fs-faint);
    font-weight: 600;
    font-size: 12px;
    padding: 4px 8px;
    border-bottom: 1px solid var(--fs-divider);
    white-space: nowrap;
  }
  td {
    padding: 5px 8px;
    border-bottom: 1px solid var(--fs-hairline);
    vertical-align: top;
  }
  tr:last-child td {
    border-bottom: none;
  }
  td.num {
    text-align: right;
    white-space: nowrap;
  }
  th.num {
    text-align: right;
  }
  td.nowrap {
    white-space: nowrap;
  }
  a {
    color: var(--fs-link);
    text-decoration: none;
  }
  a:hover {
    text-decoration: underline;
  }
  code,
  .mono {
    font-family: ui-monospace, SFMono-Regular, Menlo, monospace;
    font-size: 12px;
  }
  code {
    display: inline-block;
    margin: 1px 4px 1px 0;
    padding: 0 5px;
    border-radius: 4px;
    background: var(--fs-code-bg, #1f2633);
    color: var(--fs-code-text, #cfe0ff);
    white-space: pre-wrap;
    word-break: break-all;
  }
  .sub {
    color: var(--fs-faint);
    font-size: 12px;
  }
  .empty {
    color: var(--fs-dim, #8a94a2);
    padding: 8px 4px 10px;
    font-size: 14px;
  }
  .msg {
    margin: 0 0 8px;
    padding: 6px 10px;
    border-radius: 6px;
    font-size: 13px;
  }
  .msg.error {
    background: var(--fs-error-bg, #3a1a1f);
    border: 1px solid var(--fs-error-border, #7a2a33);
    color: var(--fs-error-text, #ffd2d5);
  }
  .msg.error code {
    background: transparent;
    color: inherit;
  }
  .msg.ok {
    background: var(--fs-ok-bg, #15301f);
    border: 1px solid var(--fs-ok-border, #2c6b41);
    color: var(--fs-ok-text, #c9f7d8);
  }
  .msg.note {
    background: var(--fs-raised);
    border: 1px solid var(--fs-border);
    color: var(--fs-text-soft);
  }
  button {
    padding: 2px 10px;
    background: var(--fs-raised);
    border: 1px solid var(--fs-border);
    border-radius: 4px;
    color: var(--fs-text-soft);
    font: inherit;
    font-size: 12px;
    cursor: pointer;
    white-space: nowrap;
  }
  button:hover:not(:disabled) {
    border-color: var(--fs-border-hover);
    background: var(--fs-hover-bg, #222b3c);
  }
  button:disabled {
    opacity: 0.5;
    cursor: default;
  }
  button.primary {
    background: var(--al-primary-bg);
    border-color: var(--al-primary-border);
    color: var(--al-primary-text);
    font-weight: 600;
    padding: 4px 14px;
    font-size: 13px;
  }
  button.primary:hover:not(:disabled) {
    background: var(--al-primary-hover);
    border-color: var(--al-primary-border);
  }
  button:focus-visible,
  a:focus-visible {
    outline: 2px solid var(--fs-link);
    outline-offset: 1px;
  }
  .phase {
    display: inline-block;
    font-size: 11px;
    line-height: 16px;
    padding: 0 6px;
    border-radius: 8px;
    border: 1px solid var(--fs-border);
    color: var(--fs-text-soft);
    white-space: nowrap;
  }
  .phase[data-phase='firing'] {
    border-color: var(--al-firing-border);
    color: var(--al-firing-text);
    background: var(--al-firing-bg);
  }
  .phase[data-phase='pending'] {
    border-style: dashed;
    border-color: var(--al-pending-border);
    color: var(--al-pending-text);
  }
  .phase[data-phase='resolved'] {
    border-color: var(--al-resolved-border);
    color: var(--al-resolved-text);
  }
  .phase[data-phase='inactive'],
  .phase[data-phase='expired'] {
    color: var(--fs-faint);
  }
  .phase[data-phase='active'] {
    border-color: var(--al-active-border);
    color: var(--al-active-text);
    background: var(--al-active-bg);
  }
`;
