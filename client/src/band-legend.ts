/**
 * The key to what is marked on a chip's time axis: alerts (alert-bands.ts), late samples
 * (backfill-bands.ts) and gaps without samples (gap-bands.ts), each with how many are in view.
 * Test hooks: `data-testid="band-legend"`, keys `legend-alert`, `legend-backfill`, `legend-gap`,
 * each with `data-count`.
 */
import { css, html } from 'lit';
import { severityColor } from './alert-look.ts';
import { BACKFILL_EDGE, BACKFILL_FILL } from './backfill-bands.ts';
import { GAP_EDGE, GAP_FILL } from './gap-bands.ts';

export interface BandCounts {
  alerts: number;
  backfill: number;
  gaps: number;
}

export const bandLegendStyles = css`
  .band-legend {
    display: flex;
    flex-wrap: wrap;
    gap: 4px 16px;
    margin: 0 0 8px;
    font-size: 12px;
    color: var(--fs-faint);
  }
  .band-legend span {
    display: inline-flex;
    align-items: center;
    gap: 5px;
  }
  .band-legend i {
    width: 14px;
    height: 10px;
    box-sizing: border-box;
  }
`;

export function bandLegend(n: BandCounts) {
  const key = (id: string, count: number, swatch: string, label: string, title: string) =>
    html`<span data-testid=${`legend-${id}`} data-count=${count} title=${title}><i style=${swatch}></i>${label}${count ? ` (${count})` : ''}</span>`;
  return html`<div class="band-legend" data-testid="band-legend">
    ${key('alert', n.alerts, `background: ${severityColor('warning', 0.13)}; border-left: 2px solid ${severityColor('warning', 0.9)}`, 'alert', 'From when an alert of this chip began to breach to when it resolved, in its severity’s colour')}
    ${key('backfill', n.backfill, `background: ${BACKFILL_FILL}; border-top: 3px solid ${BACKFILL_EDGE}`, 'late (backfilled)', 'Samples that reached the hub late, resent by the agent after an outage')}
    ${key('gap', n.gaps, `background: ${GAP_FILL}; border-left: 1.5px solid ${GAP_EDGE}; border-right: 1.5px solid ${GAP_EDGE}`, 'gap (no samples)', 'No sample for more than 3 sampling intervals: the agent, its host or the hub was away')}
  </div>`;
}
