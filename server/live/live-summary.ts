/**
 * The `summary` topic's message: the whole fleet at a glance (chips by status, live power and
 * utilization, idle-but-powered chips, alerts firing and pending by severity), what a dashboard's
 * header shows without holding every chip. Pure: LiveFanout computes it once per summary tick and
 * sends the same frame to every subscriber.
 */
import type { ActiveAlert } from '../../schema/api-answers.ts';
import { PROTOCOL_VERSION } from '../../schema/protocol-constants.ts';
import { SUMMARY_IDLE_UTIL_PCT, type SeverityCounts, type SummaryMessage } from '../../schema/protocol.ts';
import type { ChipStatus, Sample } from '../../schema/sample.ts';

/** What the summary reads of a chip (a ChipView). */
export interface SummaryChip {
  status: ChipStatus;
  latest: Pick<Sample, 'utilPct' | 'powerW'> | null;
}

/** Where the summary's figures come from (the hub's fleet state and alert engine). */
export interface SummarySource {
  chips(): Iterable<SummaryChip>;
  /** The alerts that are not inactive (none without an alert engine). */
  alerts?(): Iterable<Pick<ActiveAlert, 'phase' | 'severity'>>;
}

const counts = (): SeverityCounts => ({ critical: 0, warning: 0, info: 0 });

/** The summary of `chips` and `alerts` at `at`, with the dashboard's rules (client/src/heat-metrics.ts `summarize`). */
export function fleetSummary(chips: Iterable<SummaryChip>, alerts: Iterable<Pick<ActiveAlert, 'phase' | 'severity'>>, at: number): SummaryMessage {
  const msg: SummaryMessage = {
    v: PROTOCOL_VERSION,
    type: 'summary',
    at,
    chips: { total: 0, live: 0, stale: 0, offline: 0 },
    powerW: 0,
    avgUtilPct: null,
    idlePowered: 0,
    idlePowerW: 0,
    alerts: { firing: counts(), pending: counts() },
  };
  let utilSum = 0;
  let utilN = 0;
  for (const c of chips) {
    msg.chips.total++;
    msg.chips[c.status]++;
    const s = c.latest;
    if (c.status !== 'live' || !s) continue;
    if (s.powerW != null) msg.powerW += s.powerW;
    if (s.utilPct != null) {
      utilSum += s.utilPct;
      utilN++;
      if (s.utilPct < SUMMARY_IDLE_UTIL_PCT && s.powerW != null && s.powerW > 0) {
        msg.idlePowered++;
        msg.idlePowerW += s.powerW;
      }
    }
  }
  msg.avgUtilPct = utilN ? utilSum / utilN : null;
  for (const a of alerts) {
    if (a.phase === 'firing') msg.alerts.firing[a.severity]++;
    else if (a.phase === 'pending') msg.alerts.pending[a.severity]++;
  }
  return msg;
}
