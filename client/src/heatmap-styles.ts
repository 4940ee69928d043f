import { css } from 'lit';

/** Styles of `<fleet-heatmap>`: legend, canvas, tooltip; dark by default, `theme="light"` for light. */
export const heatmapStyles = css`
  :host {
    display: block;
    position: relative;
    --hm-text: #c9d1dc;
    --hm-muted: #8d97a5;
    --hm-tip-bg: rgba(18, 23, 32, 0.97);
    --hm-tip-border: #2f3a4a;
  }
  :host([theme='light']) {
    --hm-text: #27303b;
    --hm-muted: #5d6673;
    --hm-tip-bg: rgba(255, 255, 255, 0.98);
    --hm-tip-border: #c5ccd6;
  }
  .legend {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 6px 18px;
    margin: 0 0 8px;
    font-size: 12px;
    color: var(--hm-muted);
    font-variant-numeric: tabular-nums;
  }
  .scale {
    display: inline-grid;
    grid-template-columns: repeat(5, auto);
    align-items: center;
    gap: 0 4px;
  }
  .bar {
    grid-column: 1 / -1;
    width: 220px;
    height: 10px;
    border-radius: 2px;
  }
  .ticks {
    grid-column: 1 / -1;
    display: flex;
    justify-content: space-between;
    width: 220px;
    color: var(--hm-text);
  }
  .title {
    color: var(--hm-text);
    font-weight: 600;
  }
  .key {
    display: inline-flex;
    align-items: center;
    gap: 5px;
  }
  .swatch {
    width: 12px;
    height: 12px;
    border-radius: 2px;
    box-sizing: border-box;
  }
  .swatch.stale {
    background: repeating-linear-gradient(135deg, #2a2f38 0 2px, #8a8f99 2px 3px);
  }
  .swatch.offline {
    background: #15181e linear-gradient(45deg, transparent 45%, #5d6573 45% 55%, transparent 55%);
    border: 1px solid #5d6573;
  }
  .swatch.none {
    background: #3a414d;
  }
  .swatch.idle {
    background: radial-gradient(circle, #ff8a1f 0 30%, #3e4a89 32%);
  }
  :host([theme='light']) .swatch.stale {
    background: repeating-linear-gradient(135deg, #e3e5e9 0 2px, #7b818b 2px 3px);
  }
  :host([theme='light']) .swatch.offline {
    background: #d4d7dc linear-gradient(45deg, transparent 45%, #6b7380 45% 55%, transparent 55%);
    border-color: #6b7380;
  }
  :host([theme='light']) .swatch.none {
    background: #c9ced6;
  }
  .swatch.alert {
    border: 2px solid rgb(239, 83, 80);
  }
  .sev-key {
    display: inline-flex;
    align-items: center;
    gap: 3px;
    margin-left: 4px;
  }
  .wrap {
    position: relative;
  }
  canvas {
    display: block;
    outline: none;
  }
  canvas:focus-visible {
    box-shadow: 0 0 0 2px #5b8def;
  }
  .tip {
    position: absolute;
    z-index: 3;
    min-width: 210px;
    max-width: 300px;
    padding: 8px 10px;
    border: 1px solid var(--hm-tip-border);
    border-radius: 6px;
    background: var(--hm-tip-bg);
    color: var(--hm-text);
    font-size: 12px;
    line-height: 1.45;
    pointer-events: none;
    box-shadow: 0 4px 18px rgba(0, 0, 0, 0.35);
    font-variant-numeric: tabular-nums;
  }
  .tip b {
    font-size: 13px;
  }
  .tip dl {
    display: grid;
    grid-template-columns: auto 1fr;
    gap: 0 10px;
    margin: 4px 0 0;
  }
  .tip dt {
    color: var(--hm-muted);
  }
  .tip dd {
    margin: 0;
  }
  .tip .status[data-status='stale'] {
    color: #e8b949;
  }
  .tip .status[data-status='offline'] {
    color: #ff8a8f;
  }
  .tip .hint {
    margin-top: 4px;
    color: var(--hm-muted);
    font-size: 11px;
  }
  .tip .warn {
    color: #ff8a1f;
  }
`;
