/** Styles of `<chip-detail>` and the chart panels it shares with `<chip-history>`. */
import { css } from 'lit';
import { severityPillStyles } from './alert-look.ts';
import { bandLegendStyles } from './band-legend.ts';

/** The column of chart panels, and the note that stands in for a chart. */
export const chartPanelStyles = [bandLegendStyles, css`
    .charts {
      display: grid;
      gap: 14px;
      --chart-height: 220px;
    }
    .panel {
      background: var(--fs-panel);
      border: 1px solid var(--fs-divider);
      border-radius: 8px;
      padding: 8px 8px 4px;
      min-width: 0;
    }
    .note {
      height: 80px;
      display: flex;
      align-items: center;
      justify-content: center;
      color: var(--fs-faint);
      font-size: 15px;
    }
`];

const detailStyles = css`
    :host {
      display: block;
      padding: 10px 16px 16px;
      color: var(--fs-text);
    }
    header {
      display: flex;
      flex-wrap: wrap;
      align-items: baseline;
      gap: 6px 18px;
      margin-bottom: 10px;
    }
    a.back {
      color: var(--fs-link);
      text-decoration: none;
      font-size: 14px;
    }
    a.back:hover {
      text-decoration: underline;
    }
    h2 {
      margin: 0;
      font-size: 22px;
      font-weight: 650;
    }
    .id {
      font-family: ui-monospace, SFMono-Regular, Menlo, monospace;
      font-size: 12px;
      color: var(--fs-faint);
    }
    .host {
      color: var(--fs-muted);
      font-size: 14px;
    }
    .host a {
      color: var(--fs-link);
      text-decoration: none;
    }
    .host a:hover {
      text-decoration: underline;
    }
    form.custom {
      display: inline-flex;
      flex-wrap: wrap;
      align-items: center;
      gap: 4px 8px;
      font-size: 12px;
      color: var(--fs-faint);
    }
    form.custom input {
      background: var(--fs-input-bg);
      color: var(--fs-text);
      border: 1px solid var(--fs-border);
      border-radius: 4px;
      padding: 1px 4px;
      font: inherit;
      font-size: 12px;
    }
    form.custom button {
      padding: 2px 10px;
      background: var(--fs-raised);
      border: 1px solid var(--fs-border);
      border-radius: 4px;
      color: var(--fs-text-soft);
      font: inherit;
      font-size: 12px;
      cursor: pointer;
    }
    form.custom button:hover {
      border-color: var(--fs-border-hover);
    }
    .custom-error {
      color: var(--fs-bad-text);
    }
    .job {
      max-width: 40ch;
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
      color: var(--fs-muted);
      font-size: 14px;
    }
    .job a {
      color: var(--fs-text-strong);
      font-weight: 600;
      text-decoration: none;
    }
    .job a:hover {
      text-decoration: underline;
    }
    .status {
      font-size: 11px;
      font-weight: 700;
      text-transform: uppercase;
      letter-spacing: 0.5px;
      padding: 1px 7px;
      border-radius: 8px;
    }
    .status.live { background: #1f6b3a; color: #c9f7d8; }
    .status.stale { background: #d0a030; color: #1a1a1a; }
    .status.offline { background: #5a2026; color: #ffb3b8; }
    range-picker { margin-left: auto; align-self: center; }
    .backfill {
      display: inline-flex;
      align-items: center;
      gap: 6px;
      font-size: 12px;
      color: #d9c9ff;
      background: rgba(180, 140, 255, 0.12);
      border: 1px solid rgba(180, 140, 255, 0.45);
      border-radius: 8px;
      padding: 1px 8px;
      cursor: help;
    }
    .backfill .swatch {
      width: 10px;
      height: 10px;
      border-radius: 2px;
      background: rgba(180, 140, 255, 0.35);
      border-top: 2px solid rgba(180, 140, 255, 0.9);
    }
    .chip-alerts {
      display: inline-flex;
      flex-wrap: wrap;
      gap: 4px;
      align-self: center;
    }
    .chip-alerts .sev {
      text-decoration: none;
      text-transform: none;
      letter-spacing: 0;
      font-size: 12px;
      line-height: 18px;
      padding: 0 8px;
      border-radius: 9px;
    }
    .alert-note {
      display: inline-flex;
      align-items: center;
      gap: 6px;
      font-size: 12px;
      color: var(--fs-text);
      background: var(--fs-raised);
      border: 1px solid var(--fs-border);
      border-radius: 8px;
      padding: 1px 8px;
      cursor: help;
    }
    .alert-note .swatch {
      width: 10px;
      height: 10px;
      border-radius: 2px;
      border-left: 2px solid;
    }
    .stats {
      display: flex;
      flex-wrap: wrap;
      gap: 4px 22px;
      font-size: 14px;
      color: var(--fs-muted);
      margin-bottom: 12px;
      font-variant-numeric: tabular-nums;
    }
    .stats b {
      color: var(--fs-text-strong);
      font-size: 18px;
      font-weight: 650;
      margin-left: 4px;
    }
    .stats.dim b { opacity: 0.6; }
    .empty-hint { color: var(--fs-dim); font-size: 13px; margin: -6px 0 8px; }
`;

export const chipDetailStyles = [severityPillStyles, detailStyles, chartPanelStyles];
