/**
 * /ws/live: browsers subscribe to the fleet overview (snapshot, then coalesced `fleet-update`
 * frames, status and inventory changes), to single chips (recent history, then that chip's
 * samples), to the `samples` firehose (every committed live sample in full), to `alerts`
 * (the current alerts, then their transitions; with a filter, only matching chips') and to
 * `summary` (the fleet's counts, about once a second, computed once for all subscribers).
 */
import type { WebSocket, RawData } from 'ws';
import { parseLiveFrame } from '../../schema/parse-frame.ts';
import type { ErrorCode } from '../../schema/error-codes.ts';
import { LIVE_WINDOW_MS, PROTOCOL_VERSION } from '../../schema/protocol-constants.ts';
import type { FleetState } from '../fleet-state.ts';
import type { LiveFanout } from '../live/live-fanout.ts';
import { encode } from '../live/live-frames.ts';
import type { Store } from '../store/store.ts';
import type { Logger } from '../../common/logger.ts';
import type { ActiveAlert } from '../../schema/api-answers.ts';

const CHIP_HISTORY_MAX = 5_000;

/** What a /ws/live connection needs from the hub. */
export interface LiveDeps {
  fanout: LiveFanout;
  fleet: FleetState;
  store: Store;
  log: Logger;
  /** The alert engine's current alerts (the `alerts` topic's snapshot); none without one. */
  alerts?: { activeAlerts(): ActiveAlert[] };
}

/** Serves one /ws/live connection until it closes. */
export function handleLiveSocket(ws: WebSocket, deps: LiveDeps): void {
  const { fanout, fleet, store, log } = deps;
  fanout.add(ws);
  const error = (code: ErrorCode, message: string) => fanout.sendTo(ws, encode({ v: PROTOCOL_VERSION, type: 'error', code, message }), true);

  ws.on('message', (data: RawData) => {
    const res = parseLiveFrame(data.toString());
    if (!res.ok) return error(res.code, res.message);
    const { type, sub } = res.msg;
    const on = type === 'subscribe';
    if (sub.topic === 'fleet') return fanout.setFleet(ws, on, sub.filter, sub.compact === true);
    if (sub.topic === 'samples') return fanout.setFirehose(ws, on);
    if (sub.topic === 'summary') return fanout.setSummary(ws, on);
    if (sub.topic === 'alerts') {
      // Subscribed before the snapshot is sent: a transition after it comes as an `alert` frame.
      fanout.setAlerts(ws, on, sub.filter);
      if (!on) return;
      let alerts = deps.alerts?.activeAlerts() ?? [];
      const keep = fanout.alertFilter(ws);
      if (keep) alerts = alerts.filter((a) => keep(a.chipId));
      fanout.sendTo(ws, encode({ v: PROTOCOL_VERSION, type: 'alerts-snapshot', alerts }), true);
      return;
    }
    if (!on) return fanout.setChip(ws, sub.chipId, false);
    if (!fleet.get(sub.chipId)) return error('not_found', `unknown chip ${sub.chipId}`);
    const now = Date.now();
    // Subscribe first so nothing committed while history loads is missed; the client merges by ts.
    fanout.setChip(ws, sub.chipId, true);
    store
      .chipSamples(sub.chipId, now - LIVE_WINDOW_MS, Number.MAX_SAFE_INTEGER, CHIP_HISTORY_MAX)
      .then((samples) => fanout.sendTo(ws, encode({ v: PROTOCOL_VERSION, type: 'chip-history', chipId: sub.chipId, samples }), true))
      .catch((err: unknown) => {
        log.error('chip history failed', { chipId: sub.chipId, err: String(err) });
        error('internal', 'could not load chip history');
      });
  });
  ws.on('close', () => fanout.remove(ws));
  ws.on('error', (err) => log.warn('live socket error', { err: err.message }));
}
