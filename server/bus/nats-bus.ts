/**
 * The live bus on NATS (core NATS publish/subscribe; no JetStream: live data is latest-wins and
 * history is each origin hub's own store). Connects in the background and keeps trying forever;
 * once connected the nats client reconnects by itself (`maxReconnectAttempts: -1`) and makes the
 * subscriptions again. While not connected, `publish` drops and counts (nothing piles up to flood
 * the server with stale samples on reconnect).
 */
import { connect, Events, type NatsConnection, type Subscription } from 'nats';
import type { Logger } from '../../common/logger.ts';
import { decodeBusMessage, encodeBusMessage, hasPrefix, ownMessagePrefix, type BusMessage } from './bus-messages.ts';
import { zeroByKind, type BusState, type BusStats, type BusSubscription, type LiveBus } from './live-bus.ts';

export interface NatsBusOptions {
  /** nats://host:port (or tls://), checked with `parseBusUrl`. */
  url: string;
  hubId: string;
  log: Logger;
  /** Wait between connection attempts (default 1 s). */
  reconnectTimeWaitMs?: number;
}

/** URL schemes the nats client takes. */
const SCHEMES = new Set(['nats:', 'tls:']);

/**
 * A bus URL as given (`--bus`), checked: nats:// or tls://, a host, a port if any in range.
 * Returns the URL and its form without credentials; throws an Error saying what is wrong.
 */
export function parseBusUrl(raw: string): { url: string; safe: string } {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new Error(`expected a NATS URL such as nats://127.0.0.1:4222, got ${JSON.stringify(raw)}`);
  }
  if (!SCHEMES.has(u.protocol)) throw new Error(`expected a nats:// or tls:// URL (e.g. nats://127.0.0.1:4222), got ${JSON.stringify(raw)}`);
  if (!u.hostname) throw new Error(`the bus URL needs a host (e.g. nats://127.0.0.1:4222), got ${JSON.stringify(raw)}`);
  if ((u.pathname && u.pathname !== '/') || u.search || u.hash) throw new Error(`the bus URL takes no path or query (e.g. nats://127.0.0.1:4222), got ${JSON.stringify(raw)}`);
  const safe = `${u.protocol}//${u.username ? '***@' : ''}${u.host}`;
  return { url: raw, safe };
}

interface Sub {
  subject: string;
  onMessage: (msg: BusMessage, subject: string) => void;
  nats: Subscription | null;
  gone: boolean;
}

export class NatsBus implements LiveBus {
  readonly hubId: string;
  readonly url: string;
  readonly stats: BusStats = { published: 0, publishedBytes: 0, droppedDisconnected: 0, received: 0, ownDropped: 0, malformed: 0, connects: 0, disconnects: 0, publishedByKind: zeroByKind(), receivedByKind: zeroByKind(), droppedByKind: zeroByKind() };
  private readonly rawUrl: string;
  private readonly log: Logger;
  private readonly waitMs: number;
  private readonly own: Buffer;
  private nc: NatsConnection | null = null;
  private connected = false;
  private since = Date.now();
  private lastError: string | null = null;
  private closed = false;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private readonly subs = new Set<Sub>();
  private readonly listeners: ((s: BusState, first: boolean) => void)[] = [];

  constructor(opts: NatsBusOptions) {
    const { url, safe } = parseBusUrl(opts.url);
    this.rawUrl = url;
    this.url = safe;
    this.hubId = opts.hubId;
    this.log = opts.log;
    this.waitMs = opts.reconnectTimeWaitMs ?? 1000;
    this.own = ownMessagePrefix(opts.hubId);
    void this.connectLoop();
  }

  /** The first connection: tried until it works or the bus closes (the client reconnects after that). */
  private async connectLoop(): Promise<void> {
    let attempts = 0;
    while (!this.closed) {
      try {
        const nc = await connect({ servers: this.rawUrl, name: `fleetscope hub ${this.hubId}`, maxReconnectAttempts: -1, reconnectTimeWait: this.waitMs, pingInterval: 10_000, maxPingOut: 2 });
        if (this.closed) {
          await nc.close();
          return;
        }
        this.nc = nc;
        this.watch(nc);
        for (const s of this.subs) this.natsSubscribe(s);
        this.setConnected(true, true);
        return;
      } catch (err) {
        this.lastError = (err as Error).message ?? String(err);
        if (attempts++ === 0) this.log.warn('bus not reachable; retrying', { url: this.url, err: this.lastError });
        await new Promise<void>((resolve) => {
          this.retry = setTimeout(resolve, this.waitMs);
          this.retry.unref();
        });
      }
    }
  }

  private watch(nc: NatsConnection): void {
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === Events.Disconnect) this.setConnected(false, false);
        else if (s.type === Events.Reconnect) this.setConnected(true, false);
        else if (s.type === Events.Error) this.lastError = String(s.data);
      }
    })().catch(() => undefined);
    nc.closed()
      .then((err) => {
        if (!this.closed) {
          this.lastError = err ? err.message : 'connection closed';
          this.setConnected(false, false);
          this.log.error('bus connection closed for good', { url: this.url, err: this.lastError });
        }
      })
      .catch(() => undefined);
  }

  private setConnected(on: boolean, first: boolean): void {
    if (on === this.connected) return;
    this.connected = on;
    this.since = Date.now();
    if (on) {
      this.stats.connects++;
      this.lastError = null;
      this.log.info(first ? 'bus connected' : 'bus reconnected', { url: this.url, hubId: this.hubId });
    } else {
      this.stats.disconnects++;
      this.log.warn('bus disconnected; reconnecting', { url: this.url });
    }
    const state = this.state();
    for (const fn of this.listeners) fn(state, first);
  }

  publish(subject: string, msg: BusMessage): void {
    if (!this.connected || this.nc === null) {
      this.stats.droppedDisconnected++;
      this.stats.droppedByKind[msg.t]++;
      return;
    }
    const data = encodeBusMessage(msg);
    try {
      this.nc.publish(subject, data);
      this.stats.published++;
      this.stats.publishedByKind[msg.t]++;
      this.stats.publishedBytes += data.length;
    } catch (err) {
      this.stats.droppedDisconnected++;
      this.stats.droppedByKind[msg.t]++;
      this.lastError = (err as Error).message;
    }
  }

  subscribe(subject: string, onMessage: (msg: BusMessage, subject: string) => void): BusSubscription {
    const s: Sub = { subject, onMessage, nats: null, gone: false };
    this.subs.add(s);
    if (this.nc) this.natsSubscribe(s);
    return {
      unsubscribe: () => {
        if (s.gone) return;
        s.gone = true;
        this.subs.delete(s);
        try {
          s.nats?.unsubscribe();
        } catch {
          /* the connection is closing */
        }
      },
    };
  }

  private natsSubscribe(s: Sub): void {
    s.nats = this.nc!.subscribe(s.subject, {
      callback: (err, m) => {
        if (err || s.gone) return;
        if (hasPrefix(m.data, this.own)) {
          this.stats.ownDropped++;
          return;
        }
        let msg: BusMessage;
        try {
          msg = decodeBusMessage(m.data);
        } catch (e) {
          if (this.stats.malformed++ === 0) this.log.warn('malformed bus message dropped', { subject: m.subject, err: (e as Error).message });
          return;
        }
        this.stats.received++;
        this.stats.receivedByKind[msg.t]++;
        try {
          s.onMessage(msg, m.subject);
        } catch (e) {
          this.log.error('bus message handler failed', { subject: m.subject, err: String(e) });
        }
      },
    });
  }

  state(): BusState {
    return { connected: this.connected, since: this.since, lastError: this.lastError };
  }

  async flush(): Promise<void> {
    if (this.connected && this.nc) await this.nc.flush().catch(() => undefined);
  }

  onStateChange(fn: (state: BusState, first: boolean) => void): void {
    this.listeners.push(fn);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    const nc = this.nc;
    this.nc = null;
    this.connected = false;
    if (nc) await nc.close().catch(() => undefined);
  }
}
