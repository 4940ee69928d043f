/**
 * The one browser connection to the hub's `/ws/live` socket.
 *
 * No DOM use: it only needs a `WebSocket` constructor (injectable, so it can be
 * driven from tests) and, for the default URL, `location`.
 *
 * - reconnects with capped exponential backoff plus jitter;
 * - ref-counts topics: the first handler of a topic sends `subscribe`, the last
 *   one to leave sends `unsubscribe`;
 * - after a reconnect it re-sends `subscribe` for every active topic, so the hub
 *   answers with a fresh `fleet-snapshot` / `chip-history` and nothing missed
 *   while disconnected stays missing from the UI;
 * - `pause()` holds it closed (no reconnects, subscriptions kept) while the dashboard
 *   is signed out, `resume()` connects at once; `onConnectFailure` listeners hear of
 *   every socket that closed without opening (a browser cannot see why: a refused
 *   upgrade, 401/403, looks like any other failure).
 */
import type { LiveClientMessage, LiveServerMessage, LiveSubscription } from '../../schema/protocol.ts';
import { backoffDelay, RECONNECT_BACKOFF } from '../../schema/backoff.ts';
import { PROTOCOL_VERSION } from '../../schema/protocol-constants.ts';
import { frameText, isServerMessage, route, topicKey } from './live-routing.ts';

export { route, topicKey };

/** Map key of a subscription: `topicKey`'s, `summary` for the summary topic. One subscription per key. */
export function subscriptionKey(sub: LiveSubscription): string {
  return sub.topic === 'summary' ? 'summary' : topicKey(sub);
}

/**
 * What a subscription's handlers see of `msg` (`route` for the topics it knows): `summary`
 * handlers get `summary` and `error` frames, and no other topic gets `summary` frames.
 */
export function routeTo(sub: LiveSubscription, msg: LiveServerMessage): LiveServerMessage | null {
  if (sub.topic === 'summary') return msg.type === 'summary' || msg.type === 'error' ? msg : null;
  if (msg.type === 'summary') return null;
  return route(sub, msg);
}

export type ConnectionState = 'connecting' | 'open' | 'closed';
export type LiveHandler = (msg: LiveServerMessage) => void;
export type StateListener = (state: ConnectionState) => void;

/** The subset of the WebSocket API this module uses. */
export interface SocketLike {
  readonly readyState: number;
  /** Set to 'arraybuffer' so binary frames (the hub may send Buffers) arrive synchronously. */
  binaryType?: string;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type SocketFactory = (url: string) => SocketLike;

export interface LiveConnectionOptions {
  /** Full ws:// or wss:// URL; defaults to `/ws/live` on the page's host. */
  url?: string;
  /** First reconnect delay before jitter (ms). */
  minDelayMs?: number;
  /** Reconnect delay cap (ms). */
  maxDelayMs?: number;
  /** A socket that has not opened after this long is abandoned (ms). */
  connectTimeoutMs?: number;
  /** A connection open at least this long resets the backoff (ms). */
  stableAfterMs?: number;
  /** Creates sockets; defaults to the global `WebSocket`. */
  socketFactory?: SocketFactory;
  /** Random source in [0, 1) for jitter (tests pass a fixed one). */
  random?: () => number;
}

const OPEN = 1;

/** `ws(s)://<page host>/ws/live`, matching the page's protocol. */
export function defaultLiveUrl(): string {
  const loc = globalThis.location;
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${loc.host}/ws/live`;
}

interface Subscription {
  topic: LiveSubscription;
  handlers: Set<LiveHandler>;
}

export class LiveConnection {
  private readonly url: string;
  private readonly minDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly connectTimeoutMs: number;
  private readonly stableAfterMs: number;
  private readonly socketFactory: SocketFactory;
  private readonly random: () => number;

  private readonly subs = new Map<string, Subscription>();
  private readonly stateListeners = new Set<StateListener>();
  private readonly failureListeners = new Set<() => void>();
  private ws: SocketLike | null = null;
  private _state: ConnectionState = 'closed';
  private attempt = 0;
  private openedAt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private connectTimer: ReturnType<typeof setTimeout> | null = null;
  private started = false;
  private stopped = false;
  private paused = false;

  constructor(opts: LiveConnectionOptions = {}) {
    this.url = opts.url ?? defaultLiveUrl();
    this.minDelayMs = opts.minDelayMs ?? RECONNECT_BACKOFF.initialMs;
    this.maxDelayMs = opts.maxDelayMs ?? RECONNECT_BACKOFF.maxMs;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    this.stableAfterMs = opts.stableAfterMs ?? 5_000;
    this.socketFactory =
      opts.socketFactory ?? ((url) => new globalThis.WebSocket(url) as unknown as SocketLike);
    this.random = opts.random ?? Math.random;
  }

  get state(): ConnectionState {
    return this._state;
  }

  /** Calls `listener` now with the current state and on every change; returns a remover. */
  onStateChange(listener: StateListener): () => void {
    this.stateListeners.add(listener);
    listener(this._state);
    return () => this.stateListeners.delete(listener);
  }

  /**
   * Receives the messages of `topic` until the returned function is called.
   * Fleet handlers get every fleet message (snapshot, `fleet-update`, status,
   * inventory); chip handlers get that chip's `chip-history`, its samples (a
   * `samples` message filtered to it), its status changes and inventory updates;
   * `samples` (firehose) handlers get every committed live sample; `alerts` handlers the alerts
   * (of the chips its filter takes, if any); `summary` handlers the fleet's counts. All get `error`
   * frames. A topic is one subscription (`subscriptionKey`): while it has handlers, a subscribe
   * with another filter joins the first one's; to change a filter, unsubscribe then subscribe.
   */
  subscribe(topic: LiveSubscription, handler: LiveHandler): () => void {
    const key = subscriptionKey(topic);
    let sub = this.subs.get(key);
    if (!sub) {
      sub = { topic, handlers: new Set() };
      this.subs.set(key, sub);
      this.send({ v: PROTOCOL_VERSION, type: 'subscribe', sub: topic });
    }
    sub.handlers.add(handler);
    this.start();
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      const current = this.subs.get(key);
      if (!current) return;
      current.handlers.delete(handler);
      if (current.handlers.size === 0) {
        this.subs.delete(key);
        this.send({ v: PROTOCOL_VERSION, type: 'unsubscribe', sub: current.topic });
      }
    };
  }

  /** Opens the socket if not yet started (subscribe does this for you). */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.connect();
  }

  /** Holds the connection closed, with no reconnects, until `resume()`; subscriptions are kept. */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.clearTimers();
    this.dropSocket();
    this.setState('closed');
  }

  /** Ends a pause, or a wait between reconnects: connects now (backoff reset) if started. */
  resume(): void {
    this.paused = false;
    if (!this.started || this.stopped || this.ws) return;
    this.clearTimers();
    this.attempt = 0;
    this.connect();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Calls `listener` whenever a socket closes without having opened; returns a remover. */
  onConnectFailure(listener: () => void): () => void {
    this.failureListeners.add(listener);
    return () => this.failureListeners.delete(listener);
  }

  /** Closes for good: no more reconnects. */
  close(): void {
    this.stopped = true;
    this.clearTimers();
    this.dropSocket();
    this.setState('closed');
  }

  private dropSocket(): void {
    const ws = this.ws;
    this.ws = null;
    this.openedAt = 0;
    if (ws) {
      ws.onopen = ws.onclose = ws.onerror = ws.onmessage = null;
      ws.close(1000, 'client closed');
    }
  }

  /** Number of handlers on a topic (for tests and debugging). */
  handlerCount(topic: LiveSubscription): number {
    return this.subs.get(subscriptionKey(topic))?.handlers.size ?? 0;
  }

  private connect(): void {
    if (this.stopped || this.paused) return;
    this.setState('connecting');
    let ws: SocketLike;
    try {
      ws = this.socketFactory(this.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    if ('binaryType' in ws) ws.binaryType = 'arraybuffer';
    this.connectTimer = setTimeout(() => {
      if (this.ws === ws && ws.readyState !== OPEN) ws.close();
    }, this.connectTimeoutMs);
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.clearConnectTimer();
      this.openedAt = Date.now();
      this.setState('open');
      for (const sub of this.subs.values()) this.send({ v: PROTOCOL_VERSION, type: 'subscribe', sub: sub.topic });
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      const text = frameText(ev.data);
      if (text === null) return;
      let msg: unknown;
      try {
        msg = JSON.parse(text);
      } catch {
        return;
      }
      if (isServerMessage(msg)) this.dispatch(msg);
    };
    ws.onerror = () => {
      /* a close event follows */
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.clearConnectTimer();
      const opened = this.openedAt !== 0;
      if (opened && Date.now() - this.openedAt >= this.stableAfterMs) this.attempt = 0;
      this.openedAt = 0;
      this.scheduleReconnect();
      if (!opened) for (const l of [...this.failureListeners]) l();
    };
  }

  private scheduleReconnect(): void {
    this.setState('closed');
    if (this.stopped || this.paused) return;
    const delay = backoffDelay(this.attempt, { ...RECONNECT_BACKOFF, initialMs: this.minDelayMs, maxMs: this.maxDelayMs }, this.random);
    this.attempt++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }

  private send(msg: LiveClientMessage): void {
    const ws = this.ws;
    if (ws && ws.readyState === OPEN) ws.send(JSON.stringify(msg));
  }

  private dispatch(msg: LiveServerMessage): void {
    for (const sub of [...this.subs.values()]) {
      const routed = routeTo(sub.topic, msg);
      if (!routed) continue;
      for (const handler of [...sub.handlers]) {
        try {
          handler(routed);
        } catch (err) {
          console.error('fleetscope: live handler failed', err);
        }
      }
    }
  }

  private setState(state: ConnectionState): void {
    if (state === this._state) return;
    this._state = state;
    for (const l of [...this.stateListeners]) l(state);
  }

  private clearConnectTimer(): void {
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = null;
  }

  private clearTimers(): void {
    this.clearConnectTimer();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }
}

let shared: LiveConnection | null = null;

/** The page-wide connection, created on first use. */
export function getLiveConnection(): LiveConnection {
  shared ??= new LiveConnection();
  return shared;
}

/** Replaces the page-wide connection (tests, embedding). */
export function setLiveConnection(conn: LiveConnection): void {
  shared = conn;
}
