/**
 * The agent's connection to the hub(s): sends hello then every pending batch in order, removes a
 * batch only when the hub acknowledges it, reconnects with capped backoff + jitter (rotating
 * through the hub URLs) and resends whatever was not acknowledged.
 */
import WebSocket from 'ws';
import type { HelloMessage, HubToAgentMessage } from '../schema/protocol.ts';
import type { Logger } from '../server/logger.ts';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.ts';
import type { PendingBatch, PendingBatches } from './pending-batches.ts';

export interface HubLinkOptions {
  hubs: string[];
  hello: HelloMessage;
  pending: PendingBatches;
  log: Logger;
  token?: string;
  backoff?: BackoffPolicy;
  /** Called for each acknowledged batch. */
  onAck?(batch: PendingBatch, stored: number): void;
  /** Called when the hub rejects a batch for good (invalid data): it is dropped. */
  onReject?(batch: PendingBatch, code: string, message: string): void;
}

/** Codes after which resending the same batch can never succeed. */
const PERMANENT_REJECTS = new Set(['bad_frame', 'out_of_range', 'unknown_chip', 'bad_json', 'too_large']);

export class HubLink {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private hubIndex = 0;
  private ready = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  /** Highest seq sent on the current connection. */
  private sentUpTo = -1;

  constructor(private readonly opts: HubLinkOptions) {}

  get connected(): boolean {
    return this.ready;
  }

  get currentHub(): string {
    return this.opts.hubs[this.hubIndex];
  }

  start(): void {
    this.connect();
  }

  /** Send whatever pending batches this connection has not sent yet. */
  flush(): void {
    const ws = this.ws;
    if (!ws || !this.ready || ws.readyState !== WebSocket.OPEN) return;
    for (const b of this.opts.pending.all()) {
      if (b.seq <= this.sentUpTo) continue;
      ws.send(JSON.stringify({ v: 1, type: 'batch', seq: b.seq, samples: b.samples }));
      this.sentUpTo = b.seq;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      ws.once('close', () => resolve());
      ws.close(1000, 'agent stopping');
      setTimeout(() => { ws.terminate(); resolve(); }, 1000).unref();
    });
  }

  private connect(): void {
    if (this.stopped) return;
    const url = new URL('/ws/agent', this.currentHub.replace(/\/+$/, '') + '/').toString().replace(/^http/, 'ws');
    const headers: Record<string, string> = this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : {};
    const ws = new WebSocket(url, { headers, perMessageDeflate: false, handshakeTimeout: 5000 });
    this.ws = ws;
    ws.on('open', () => {
      ws.send(JSON.stringify(this.opts.hello));
    });
    ws.on('message', (data) => this.onMessage(data.toString()));
    ws.on('close', (code, reason) => {
      const wasReady = this.ready;
      this.ready = false;
      this.ws = null;
      if (this.stopped) return;
      if (wasReady) this.opts.log.warn('hub connection lost', { hub: this.currentHub, code, reason: reason.toString() || undefined });
      this.scheduleReconnect();
    });
    ws.on('error', (err) => {
      this.opts.log.debug('hub socket error', { hub: this.currentHub, err: err.message });
    });
  }

  private scheduleReconnect(): void {
    const delay = backoffDelay(this.attempt++, this.opts.backoff ?? DEFAULT_BACKOFF);
    if (this.opts.hubs.length > 1) this.hubIndex = (this.hubIndex + 1) % this.opts.hubs.length;
    this.opts.log.info('reconnecting', { hub: this.currentHub, inMs: delay, pendingBatches: this.opts.pending.size });
    this.timer = setTimeout(() => this.connect(), delay);
  }

  private onMessage(raw: string): void {
    let msg: HubToAgentMessage;
    try {
      msg = JSON.parse(raw) as HubToAgentMessage;
    } catch {
      this.opts.log.warn('hub sent a frame that is not JSON');
      return;
    }
    if (msg.type === 'welcome') {
      this.ready = true;
      this.attempt = 0;
      this.sentUpTo = -1;
      this.opts.log.info('connected to hub', { hub: this.currentHub, hubVersion: msg.hubVersion, resending: this.opts.pending.size });
      this.flush();
    } else if (msg.type === 'ack') {
      const batch = this.opts.pending.ack(msg.seq);
      if (batch) this.opts.onAck?.(batch, msg.stored);
    } else if (msg.type === 'error') {
      this.opts.log.warn('hub rejected a frame', { code: msg.code, message: msg.message, seq: msg.seq });
      if (msg.seq === undefined) return;
      if (PERMANENT_REJECTS.has(msg.code)) {
        const batch = this.opts.pending.ack(msg.seq);
        if (batch) this.opts.onReject?.(batch, msg.code, msg.message);
      } else {
        // Transient (e.g. the hub could not store it): send it again on a fresh connection.
        this.ws?.close(1011, 'resend after hub error');
      }
    }
  }
}
