/**
 * A hub's live bus from its options (`--bus`, `--bus-root`): the NATS connection, the subjects
 * under the root and the bridge between them and the hub's fleet state and live fan-out.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../../common/logger.ts';
import type { FleetState } from '../fleet-state.ts';
import type { LiveFanout } from '../live/live-fanout.ts';
import { BusBridge, type BusBridgeOptions } from './bus-bridge.ts';
import type { LiveBus } from './live-bus.ts';
import { NatsBus } from './nats-bus.ts';
import { DEFAULT_SUBJECT_ROOT, subjects } from './subjects.ts';

export interface HubBusOptions extends BusBridgeOptions {
  /** nats://host:port */
  url: string;
  /** Subject root (default `fleetscope`): hubs share live data only under the same root. */
  subjectRoot?: string;
  /** This hub's id on the bus (default `<hostname>-<6 random hex digits>`). */
  hubId?: string;
  /** Wait between connection attempts (default 1 s). */
  reconnectTimeWaitMs?: number;
}

export interface StartedBus {
  bus: LiveBus;
  bridge: BusBridge;
  close(): Promise<void>;
}

/** Default hub id: unique per process, readable. */
export function defaultHubId(): string {
  return `${hostname()}-${randomBytes(3).toString('hex')}`;
}

/**
 * The bus started for a hub, by its live fan-out (one per hub): how the hub's self-observability
 * (server/telemetry/hub-telemetry.ts) finds the bus it reports on, while it runs.
 */
const busByFanout = new WeakMap<LiveFanout, StartedBus>();

/** The live bus started for the hub of this fan-out and not closed yet, else null. */
export function startedBusOf(fanout: LiveFanout): StartedBus | null {
  return busByFanout.get(fanout) ?? null;
}

/** Connects (in the background) and starts the bridge; throws on a bad URL or subject root. */
export function startLiveBus(opts: HubBusOptions, hub: { fleet: FleetState; fanout: LiveFanout; log: Logger }): StartedBus {
  const subj = subjects(opts.subjectRoot ?? DEFAULT_SUBJECT_ROOT);
  const bus = new NatsBus({ url: opts.url, hubId: opts.hubId ?? defaultHubId(), log: hub.log, reconnectTimeWaitMs: opts.reconnectTimeWaitMs });
  const bridge = new BusBridge(bus, subj, hub.fleet, hub.fanout, hub.log, opts);
  bridge.start();
  const started: StartedBus = {
    bus,
    bridge,
    async close() {
      if (busByFanout.get(hub.fanout) === started) busByFanout.delete(hub.fanout);
      bridge.close();
      await bus.close();
    },
  };
  busByFanout.set(hub.fanout, started);
  return started;
}
