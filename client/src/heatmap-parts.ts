/** The heatmap's legend and hover card, as Lit templates (the element places them). */
import { html } from 'lit';
import type { ChipView } from '../../schema/protocol.ts';
import type { ChipAlerts } from './alerts-controller.ts';
import { SEVERITY_ORDER, severityColor } from './alert-look.ts';
import { fmtAgo, fmtMem, fmtPct, fmtTemp, fmtWatts } from './format.ts';
import { PALETTE, legendTicks } from './heat-scale.ts';
import { IDLE_UTIL_PCT, METRIC_DEFS, fmtMetric, isIdlePowered, metricValue, powerLimitW, type EnergyByChip, type MetricId } from './heat-metrics.ts';

const GRADIENT = `linear-gradient(to right, ${PALETTE.filter((_, i) => i % 7 === 0 || i === PALETTE.length - 1).join(', ')})`;

function tickText(metric: MetricId, v: number): string {
  if (metric === 'energy') return fmtMetric('energy', v);
  return `${Math.round(v)}`;
}

/** The colour scale with its unit and ticks, then the keys for what is not a value. */
export function renderHeatLegend(metric: MetricId, domain: [number, number]) {
  const def = METRIC_DEFS[metric];
  const ticks = legendTicks(domain[0], domain[1], metric === 'energy' ? 3 : 5);
  return html`<div class="legend" part="legend" data-testid="heat-legend" data-min=${domain[0]} data-max=${domain[1]}>
    <span class="scale">
      <span class="title">${def.label}${metric === 'energy' ? '' : html` (${def.unit})`}</span>
      <span class="bar" style=${`background:${GRADIENT}`}></span>
      <span class="ticks">${ticks.map((t) => html`<span>${tickText(metric, t)}</span>`)}</span>
    </span>
    <span class="key"><span class="swatch stale"></span>stale (last sample too old)</span>
    <span class="key"><span class="swatch offline"></span>offline</span>
    <span class="key"><span class="swatch none"></span>no reading</span>
    <span class="key" title=${`Live, utilization under ${IDLE_UTIL_PCT} %, drawing power`}><span class="swatch idle"></span>idle but powered</span>
    <span class="key alerts" data-testid="heat-legend-alerts" title="A chip with a firing alert is outlined in the colour of its most severe one">
      alert firing, outline by severity:
      ${SEVERITY_ORDER.map(
        (s) => html`<span class="sev-key" data-severity=${s}><span class="swatch alert" style=${`border-color:${severityColor(s)}`}></span>${s}</span>`,
      )}
    </span>
  </div>`;
}

/** The hover card of a chip: identity, status, every value, the sample's age, firing alerts. */
export function renderHeatTooltip(c: ChipView, pos: { x: number; y: number }, energy: EnergyByChip | undefined, alerts: ChipAlerts | undefined, width: number) {
  const s = c.latest;
  const left = pos.x + 240 > width ? Math.max(0, pos.x - 240) : pos.x + 14;
  const e = metricValue(c, 'energy', energy);
  const lim = powerLimitW(c);
  return html`<div class="tip" data-testid="heat-tooltip" data-chip-id=${c.chipId} style=${`left:${left}px;top:${pos.y + 14}px`}>
    <b>${c.model} #${c.index}</b> · ${c.host}
    <div>
      <span class="status" data-status=${c.status}>${c.status}</span>${s ? ` · sample ${fmtAgo(s.ts)}` : ' · no sample yet'}${
        c.status === 'live' && isIdlePowered(c) ? html` · <span class="warn">idle but powered</span>` : ''
      }
    </div>
    <dl>
      <dt>${c.status === 'live' ? 'Utilization' : 'Last util.'}</dt><dd>${fmtPct(s?.utilPct)}</dd>
      <dt>Power</dt><dd>${fmtWatts(s?.powerW)}${lim ? ` of ${Math.round(lim)} W` : ''}</dd>
      <dt>Temperature</dt><dd>${fmtTemp(s?.tempC)}</dd>
      <dt>Memory</dt><dd>${fmtMem(s?.memUsedBytes, s?.memTotalBytes ?? c.memTotalBytes)}</dd>
      ${energy ? html`<dt>Energy</dt><dd data-testid="tip-energy">${fmtMetric('energy', e)}</dd>` : ''}
      <dt>Chip</dt><dd>${c.chipId}</dd>
    </dl>
    <div class="hint">Click: the chip · Shift+click: its host</div>
    ${alerts
      ? html`<div style=${`color:${severityColor(alerts.severity)}`}>⚠ ${alerts.alerts.map((a) => a.ruleId).join(', ')}</div>`
      : ''}
  </div>`;
}
