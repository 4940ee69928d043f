/** Styles shared by the parts of the alerts view: panels, tables, messages, buttons, code chips. */
import { css } from 'lit';

export const alertPanelStyles = css`
  :host {
    display: block;
    color: var(--fs-text);
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
    border-bottom: 1px solid #1b222d;
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
    color: #ffb3b8;
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
    background: #2b4a7a;
    border-color: #3b5f96;
    color: #f2f5f9;
    font-weight: 600;
    padding: 4px 14px;
    font-size: 13px;
  }
  button.primary:hover:not(:disabled) {
    background: #345a92;
    border-color: #4a72b0;
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
    border: 1px solid #3a4352;
    color: var(--fs-text-soft);
    white-space: nowrap;
  }
  .phase[data-phase='firing'] {
    border-color: #c0453f;
    color: #ffc9c6;
    background: rgba(239, 83, 80, 0.16);
  }
  .phase[data-phase='pending'] {
    border-style: dashed;
    border-color: #b08a2e;
    color: #f2d58e;
  }
  .phase[data-phase='resolved'] {
    border-color: #2c6b41;
    color: #a6e7bd;
  }
  .phase[data-phase='inactive'],
  .phase[data-phase='expired'] {
    color: #8a94a2;
  }
  .phase[data-phase='active'] {
    border-color: #3b5f96;
    color: #cfe0ff;
    background: rgba(95, 179, 255, 0.14);
  }
`;
