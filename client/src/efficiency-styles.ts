/** Styles of `<efficiency-view>`: the controls, the table, the side-by-side bars, the panels; theme colours (`--fs-*`). */
import { css } from 'lit';

export const efficiencyStyles = css`
  :host {
    display: block;
    padding: 10px 16px 24px;
    color: var(--fs-text);
  }
  .top {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 8px 18px;
    margin-bottom: 12px;
  }
  h2 {
    margin: 0;
    font-size: 22px;
    font-weight: 650;
  }
  .seg {
    display: inline-flex;
    border: 1px solid var(--fs-border);
    border-radius: 7px;
    overflow: hidden;
    font-size: 13px;
  }
  .seg a {
    padding: 3px 10px;
    color: var(--fs-muted);
    text-decoration: none;
    border-left: 1px solid var(--fs-border);
    background: var(--fs-panel);
    white-space: nowrap;
  }
  .seg a:first-child {
    border-left: none;
  }
  .seg a:hover {
    background: var(--fs-hover-bg);
    color: var(--fs-text);
  }
  .seg a[aria-current='true'] {
    background: #2b4a7a;
    color: #f2f5f9;
    font-weight: 600;
  }
  .ctl {
    display: inline-flex;
    align-items: center;
    gap: 6px;
    font-size: 13px;
    color: var(--fs-muted);
  }
  select {
    background: var(--fs-input-bg);
    color: var(--fs-text);
    border: 1px solid var(--fs-border);
    border-radius: 5px;
    padding: 2px 6px;
    font: inherit;
  }
  .meta {
    margin-left: auto;
    font-size: 12px;
    color: var(--fs-faint);
  }
  .panel {
    background: var(--fs-panel);
    border: 1px solid var(--fs-divider);
    border-radius: 8px;
    padding: 10px 12px 12px;
    min-width: 0;
  }
  h3 {
    margin: 0 0 8px;
    font-size: 14px;
    font-weight: 600;
    color: var(--fs-text);
  }
  h3 small {
    font-weight: 400;
    color: var(--fs-faint);
    margin-left: 6px;
  }
  .grid {
    display: grid;
    grid-template-columns: minmax(0, 1fr);
    gap: 14px;
    margin-top: 14px;
  }
  .table-wrap {
    overflow-x: auto;
  }
  table {
    width: 100%;
    border-collapse: collapse;
    font-size: 13px;
    font-variant-numeric: tabular-nums;
  }
  th,
  td {
    padding: 5px 10px;
    border-bottom: 1px solid var(--fs-divider);
    text-align: right;
    white-space: nowrap;
  }
  th:first-child,
  td:first-child {
    text-align: left;
    white-space: normal;
  }
  th {
    color: var(--fs-faint);
    font-weight: 600;
    vertical-align: bottom;
  }
  th button {
    all: unset;
    cursor: pointer;
    border-radius: 3px;
  }
  th button:hover {
    color: var(--fs-text);
  }
  th button:focus-visible {
    outline: 2px solid var(--fs-link);
  }
  th[aria-sort='ascending'] button,
  th[aria-sort='descending'] button {
    color: var(--fs-text-strong);
  }
  .arrow {
    display: inline-block;
    width: 1em;
    font-size: 10px;
  }
  tbody tr:hover {
    background: var(--fs-hover-bg);
  }
  .label {
    font-weight: 600;
  }
  .sub {
    margin-left: 6px;
    font-weight: 400;
    font-size: 12px;
    color: var(--fs-faint);
  }
  .est {
    display: inline-block;
    margin-left: 6px;
    padding: 0 5px;
    border-radius: 7px;
    font-size: 10px;
    line-height: 15px;
    font-weight: 700;
    text-transform: uppercase;
    letter-spacing: 0.4px;
    background: rgba(232, 170, 50, 0.18);
    color: var(--fs-warn-text);
    border: 1px solid rgba(232, 170, 50, 0.45);
    cursor: help;
    vertical-align: 1px;
  }
  .approx {
    cursor: help;
    border-bottom: 1px dotted currentColor;
  }
  .na {
    color: var(--fs-dim);
  }
  .bars-pair {
    display: grid;
    grid-template-columns: repeat(auto-fit, minmax(300px, 1fr));
    gap: 8px 32px;
  }
  .bars h4 {
    margin: 0 0 6px;
    font-size: 12px;
    font-weight: 600;
    color: var(--fs-muted);
  }
  .bar-row {
    display: grid;
    grid-template-columns: minmax(60px, 180px) minmax(80px, 1fr) auto;
    align-items: center;
    gap: 8px;
    height: 22px;
    font-size: 12px;
    font-variant-numeric: tabular-nums;
  }
  .bar-row .name {
    overflow: hidden;
    text-overflow: ellipsis;
    white-space: nowrap;
    color: var(--fs-text-soft);
  }
  .track {
    position: relative;
    height: 12px;
    border-radius: 3px;
    background: var(--fs-raised);
    overflow: hidden;
  }
  .fill {
    position: absolute;
    inset: 0 auto 0 0;
    border-radius: 3px;
    transition: width 0.3s ease;
  }
  .fill.estimated {
    background-image: repeating-linear-gradient(-45deg, rgba(255, 255, 255, 0.28) 0 3px, transparent 3px 7px) !important;
  }
  .bar-row .val {
    min-width: 92px;
    text-align: right;
    color: var(--fs-text);
  }
  .note {
    font-size: 12px;
    color: var(--fs-faint);
    margin-top: 6px;
  }
  .error {
    margin-bottom: 12px;
    padding: 8px 12px;
    border-radius: 6px;
    background: var(--fs-error-bg);
    border: 1px solid var(--fs-error-border);
    color: var(--fs-error-text);
    font-size: 13px;
  }
  .empty {
    max-width: 860px;
    padding: 18px 20px;
    line-height: 1.5;
    font-size: 14px;
    color: var(--fs-text-soft);
  }
  .empty h3 {
    font-size: 16px;
  }
  .empty ul {
    margin: 8px 0;
    padding-left: 20px;
  }
  .empty li {
    margin: 6px 0;
  }
  code,
  pre {
    font-family: ui-monospace, SFMono-Regular, Menlo, monospace;
    font-size: 12px;
    background: var(--fs-code-bg);
    color: var(--fs-code-text);
    border-radius: 4px;
  }
  code {
    padding: 1px 4px;
  }
  pre {
    margin: 4px 0 0;
    padding: 6px 8px;
    overflow-x: auto;
    white-space: pre;
  }
  .loading {
    color: var(--fs-faint);
    font-size: 13px;
    padding: 12px 0;
  }
`;
