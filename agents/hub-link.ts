/**
 * The agent's connection to the hub(s): sends hello then every pending batch in order, removes a
 * batch only when the hub acknowledges it, reconnects with capped backoff + equal jitter (rotating
 * through the hub URLs) and resends whatever was not acknowledged.
 */
import WebSocket from 'ws';
import type { BatchMessage, HelloMessage, HubToAgentMessage } from '../schema/protocol.ts';
import { PROTOCOL_VERSION } from '../schema/protocol-constants.ts';
import type { Logger } from '../common/logger.ts';
import { backoffDelay, RECONNECT_BACKOFF, type BackoffPolicy } from '../schema/backoff.ts';
import type { Spool, SpoolRecord } from './spool.ts';
import { BINARY_BATCH_FEATURE, encodeBatchFrame } from '../schema/batch-frame.ts';

/** How batches go to the hub: `auto`, as binary frames to a hub that takes them (JSON to others); `json`, always as JSON text. */
export type FrameEncoding = 'auto' | 'json';

export interface HubLinkOptions {
  hubs: string[];
  hello: HelloMessage;
  spool: Spool;
  log: Logger;
  token?: string;
  /** CA certificate(s) (PEM) to trust for wss:// hubs. */
  ca?: string | Buffer;
  backoff?: BackoffPolicy;
  /** A batch sent later than this after it was produced is marked backfill (default 5 s). */
  backfillAfterMs?: number;
  /** Most batches sent and not yet acknowledged on one connection (default 32). */
  window?: number;
  /** Batch encoding (default `auto`). */
  frames?: FrameEncoding;
  /** What the agent reports with every batch (source health, spool drops). */
  report?(): Pick<BatchMessage, 'health' | 'dropped'>;
  /** Called for each acknowledged batch. */
  onAck?(seq: number, stored: number): void;
  /** Called when the hub rejects a batch for good (invalid data): it is dropped. */
  onReject?(seq: number, code: string, message: string): void;
}

/** Codes after which resending the same batch can never succeed. */
const PERMANENT_REJECTS = new Set(['bad_frame', 'out_of_range', 'unknown_chip', 'bad_json', 'too_large']);

export class HubLink {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private hubIndex = 0;
  private ready = false;
  /** The hub listed `work` among its features in `welcome`. */
  private hubTakesWork = false;
  /** Batches go to this hub as binary frames (it listed `binary-batch` in `welcome`, and JSON was not asked for). */
  private binaryBatches = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  /** Highest seq sent on the current connection. */
  private sentUpTo = -1;
  /** Sent on this connection, not yet acknowledged. */
  private readonly inflight = new Set<number>();
  /** Why the last connection attempt failed (a TLS, DNS or HTTP error), told in the next 'reconnecting' line. */
  private lastError: string | null = null;

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

  /** Send unacknowledged batches this connection has not sent yet, oldest first, within the window. */
  flush(): void {
    const ws = this.ws;
    if (!ws || !this.ready || ws.readyState !== WebSocket.OPEN) return;
    const room = (this.opts.window ?? 32) - this.inflight.size;
    if (room <= 0) return;
    const now = Date.now();
    const report = this.opts.report?.() ?? {};
    for (const rec of this.opts.spool.unackedAfter(this.sentUpTo, room)) {
      const frame = this.frame(rec, now, report);
      // A batch the binary layout cannot say goes as JSON (the hub then answers it as any JSON batch).
      const binary = this.binaryBatches ? encodeBatchFrame(frame) : null;
      ws.send(binary ?? JSON.stringify(frame));
      this.inflight.add(rec.seq);
      this.sentUpTo = rec.seq;
    }
  }

  /** Replace the inventory (a GPU appeared or disappeared): told to the hub now and in every later hello. */
  setChips(chips: HelloMessage['chips']): void {
    this.opts.hello = { ...this.opts.hello, chips };
    if (this.ready && this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ v: PROTOCOL_VERSION, type: 'inventory', chips }));
  }

  private frame(rec: SpoolRecord, now: number, report: Pick<BatchMessage, 'health' | 'dropped'>): BatchMessage {
    const late = now - rec.producedAt > (this.opts.backfillAfterMs ?? 5000);
    // Work goes only to a hub that said it takes it (an older hub would refuse the whole batch).
    const work = rec.work?.length && this.hubTakesWork ? { work: rec.work } : {};
    return { v: PROTOCOL_VERSION, type: 'batch', seq: rec.seq, samples: rec.samples, ...(late ? { backfill: true } : {}), ...report, ...work };
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
    const ws = new WebSocket(url, { headers, perMessageDeflate: false, handshakeTimeout: 5000, ...(this.opts.ca ? { ca: this.opts.ca } : {}) });
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
      this.lastError = err.message;
      this.opts.log.debug('hub socket error', { hub: this.currentHub, err: err.message });
    });
  }

  private scheduleReconnect(): void {
    const delay = backoffDelay(this.attempt++, this.opts.backoff ?? RECONNECT_BACKOFF);
    const err = this.lastError === null ? undefined : `${this.currentHub}: ${this.lastError}`;
    this.lastError = null;
    if (this.opts.hubs.length > 1) this.hubIndex = (this.hubIndex + 1) % this.opts.hubs.length;
    this.opts.log.info('reconnecting', { hub: this.currentHub, inMs: delay, unacknowledged: this.opts.spool.pendingBatches, err });
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
      // The backoff starts over at the first ack, not here: a hub that welcomes and then cannot
      // store (disk full, say) must not be reconnected to at the shortest delay again and again.
      this.ready = true;
      this.hubTakesWork = msg.features?.includes('work') === true;
      this.binaryBatches = (this.opts.frames ?? 'auto') === 'auto' && msg.features?.includes(BINARY_BATCH_FEATURE) === true;
      this.sentUpTo = -1;
      this.inflight.clear();
      this.opts.log.info('connected to hub', { hub: this.currentHub, hubVersion: msg.hubVersion, batches: this.binaryBatches ? 'binary' : 'json', unacknowledged: this.opts.spool.pendingBatches });
      this.flush();
    } else if (msg.type === 'ack') {
      this.attempt = 0;
      this.inflight.delete(msg.seq);
      if (this.opts.spool.ack(msg.seq)) this.opts.onAck?.(msg.seq, msg.stored);
      this.flush();
    } else if (msg.type === 'error') {
      this.opts.log.warn('hub rejected a frame', { code: msg.code, message: msg.message, seq: msg.seq });
      if (msg.seq === undefined) return;
      this.inflight.delete(msg.seq);
      if (PERMANENT_REJECTS.has(msg.code)) {
        if (this.opts.spool.ack(msg.seq)) this.opts.onReject?.(msg.seq, msg.code, msg.message);
        this.flush();
      } else {
        // Transient (e.g. the hub could not store it): send it again on a fresh connection.
        this.ws?.close(1011, 'resend after hub error');
      }
    }
  }
}
