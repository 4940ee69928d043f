/**
 * The live bus as a hub sees it: publish fire-and-forget, subscribe to other hubs' messages, know
 * whether it is connected. `server/bus/nats-bus.ts` implements it on NATS; the hub's use of it
 * (what it publishes and subscribes to) is `server/bus/bus-bridge.ts`.
 */
import type { BusMessage } from './bus-messages.ts';

/** Counters of what the bus did (GET /readyz reasons, tests, docs/scale-out.md). */
export interface BusStats {
  published: number;
  publishedBytes: number;
  /** Messages not published: the bus was not connected. */
  droppedDisconnected: number;
  received: number;
  /** Messages of this hub that came back on a subscription, dropped unparsed. */
  ownDropped: number;
  /** Messages that did not decode (dropped). */
  malformed: number;
  /** Connections made (the first and every reconnect). */
  connects: number;
  disconnects: number;
  /** `published`, `received` and `droppedDisconnected` by message kind (GET /metrics). */
  publishedByKind: Record<BusMessageKind, number>;
  receivedByKind: Record<BusMessageKind, number>;
  droppedByKind: Record<BusMessageKind, number>;
}

export type BusMessageKind = BusMessage['t'];

/** Zero counts of every message kind. */
export const zeroByKind = (): Record<BusMessageKind, number> => ({ samples: 0, status: 0, alerts: 0, summary: 0, sync: 0 });

export interface BusState {
  connected: boolean;
  /** Since when it has been connected or not (ms). */
  since: number;
  /** The last connection error, if any since the last connect. */
  lastError: string | null;
}

export interface BusSubscription {
  unsubscribe(): void;
}

export interface LiveBus {
  /** This hub's id: the origin of what it publishes. */
  readonly hubId: string;
  /** The server's URL without credentials (logs, readiness). */
  readonly url: string;
  readonly stats: BusStats;
  /** Publish now if connected, else drop and count: never waits, never throws. */
  publish(subject: string, msg: BusMessage): void;
  /**
   * Messages of other hubs on `subject` (wildcards allowed), decoded; kept across reconnects
   * and made once the bus first connects.
   */
  subscribe(subject: string, onMessage: (msg: BusMessage, subject: string) => void): BusSubscription;
  state(): BusState;
  /** Resolves once the server has taken everything sent so far, subscriptions included (at once when not connected). */
  flush(): Promise<void>;
  /** Called on every connect (`first` for the first) and disconnect. */
  onStateChange(fn: (state: BusState, first: boolean) => void): void;
  close(): Promise<void>;
}
