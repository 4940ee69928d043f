/**
 * Keeps one chip's recent samples (a `SampleWindow`) current for a Lit host:
 *
 * - subscribes to the chip's live topic: `chip-history` fills the recent past
 *   (authoritative for its span, see `SampleWindow.addHistory`), `samples` frames
 *   are appended;
 * - each time the live connection (re)opens, the connection module re-sends the
 *   subscription and the hub answers with a fresh `chip-history`, which brings in
 *   what was committed meanwhile, backfill included. Should that history not come
 *   (the hub refused the subscription, or HTTP works while the socket does not)
 *   within `HISTORY_FALLBACK_MS`, the history is fetched over HTTP instead;
 * - backfilled samples are never pushed live, so while the host is connected the
 *   whole window is re-read over HTTP every `pollMs` and merged by ts (a sample
 *   with a kept ts replaces it; nothing is duplicated);
 * - asks the host to update at most once per animation frame after a change.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ChipSamplesAnswer } from '../../schema/api-answers.ts';
import type { LiveServerMessage } from '../../schema/protocol.ts';
import type { Sample } from '../../schema/sample.ts';
import { LIVE_WINDOW_MS } from '../../schema/protocol-constants.ts';
import { reportUnauthorized } from './hub-fetch.ts';
import { getLiveConnection, type LiveConnection } from './live-connection.ts';
import { SampleWindow } from './sample-window.ts';

/** History asked for over HTTP when the socket gives none: the hub's live window (`chip-history`). */
export const HISTORY_MS = LIVE_WINDOW_MS;
/** How long to wait for `chip-history` before falling back to HTTP. */
export const HISTORY_FALLBACK_MS = 1500;
/** How often the visible window is re-read over HTTP for late (backfilled) samples. */
export const BACKFILL_POLL_MS = 30_000;

export interface ChipSamplesHost extends ReactiveControllerHost {
  readonly chipId: string;
  /** The live connection; the page-wide one is put here when null. */
  connection: LiveConnection | null;
}

/** GET /api/v1/chips/:chipId/samples?from=&to=, or null when the hub did not answer with samples. */
export async function fetchChipSamples(chipId: string, from: number, to: number, limit: number, signal: AbortSignal): Promise<Sample[] | null> {
  const url = `/api/v1/chips/${encodeURIComponent(chipId)}/samples?from=${Math.floor(from)}&to=${Math.ceil(to)}&limit=${limit}`;
  const res = await fetch(url, { signal });
  if (res.status === 401) reportUnauthorized();
  if (!res.ok) return null;
  const body = (await res.json()) as Partial<ChipSamplesAnswer>;
  return Array.isArray(body.samples) ? body.samples : null;
}

export class ChipSamplesController implements ReactiveController {
  readonly buffer = new SampleWindow();

  private chipId = '';
  private unsubscribe: (() => void) | null = null;
  private offState: (() => void) | null = null;
  private fallbackTimer: ReturnType<typeof setTimeout> | null = null;
  private pollTimer: ReturnType<typeof setInterval> | null = null;
  private readonly fetches = new Set<AbortController>();
  private pollInFlight: Promise<void> | null = null;
  private frame = 0;
  private gotHistory = false;
  private _pollMs = BACKFILL_POLL_MS;

  constructor(private readonly host: ChipSamplesHost) {
    host.addController(this);
  }

  /** Interval of the HTTP re-read of the window (ms); 0 or less turns it off. */
  get pollMs(): number {
    return this._pollMs;
  }

  set pollMs(ms: number) {
    if (ms === this._pollMs) return;
    this._pollMs = ms;
    if (this.unsubscribe) this.startPolling();
  }

  hostConnected(): void {
    this.start();
  }

  hostDisconnected(): void {
    this.stop();
  }

  /** Call when the host's chipId may have changed: drops the old chip's samples and follows the new one. */
  sync(): void {
    if (this.unsubscribe && this.chipId === this.host.chipId) return;
    this.stop();
    this.buffer.clear();
    this.start();
  }

  private start(): void {
    const id = this.host.chipId;
    if (!id || this.unsubscribe) return;
    this.chipId = id;
    const conn = (this.host.connection ??= getLiveConnection());
    this.unsubscribe = conn.subscribe({ topic: 'chip', chipId: id }, (m) => this.onMessage(m));
    // first open, and every reopen: a chip-history is on its way (or the HTTP fallback runs)
    this.offState = conn.onStateChange((state) => {
      if (state === 'open') this.expectHistory();
    });
    if (!this.fallbackTimer) this.expectHistory();
    this.startPolling();
  }

  private stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.offState?.();
    this.offState = null;
    this.clearFallback();
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
    for (const c of this.fetches) c.abort();
    this.fetches.clear();
    this.pollInFlight = null;
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
  }

  private expectHistory(): void {
    this.gotHistory = false;
    this.clearFallback();
    this.fallbackTimer = setTimeout(() => {
      this.fallbackTimer = null;
      if (!this.gotHistory) void this.load(HISTORY_MS, true);
    }, HISTORY_FALLBACK_MS);
  }

  private clearFallback(): void {
    if (this.fallbackTimer) clearTimeout(this.fallbackTimer);
    this.fallbackTimer = null;
  }

  private startPolling(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
    if (this._pollMs > 0) this.pollTimer = setInterval(() => this.poll(), this._pollMs);
  }

  /** Re-reads the whole window; skipped while hidden or while the previous read is in flight. */
  private poll(): void {
    if (this.pollInFlight || globalThis.document?.visibilityState === 'hidden') return;
    const p = this.load(this.buffer.windowMs, false).finally(() => {
      if (this.pollInFlight === p) this.pollInFlight = null;
    });
    this.pollInFlight = p;
  }

  private onMessage(msg: LiveServerMessage): void {
    if (msg.type === 'chip-history') {
      this.gotHistory = true;
      this.clearFallback();
      this.ingest(msg.samples, true);
    } else if (msg.type === 'samples') {
      this.ingest(msg.samples, false);
    }
  }

  /** GETs the last `spanMs`; a history block replaces its span, a poll merges by ts. */
  private async load(spanMs: number, history: boolean): Promise<void> {
    const id = this.chipId;
    const to = Date.now();
    const ctrl = new AbortController();
    this.fetches.add(ctrl);
    try {
      const samples = await fetchChipSamples(id, to - spanMs, to, this.buffer.maxSamples, ctrl.signal);
      if (samples && !ctrl.signal.aborted && id === this.chipId) this.ingest(samples, history);
    } catch {
      /* aborted or hub unreachable: live samples still arrive, the next poll retries */
    } finally {
      this.fetches.delete(ctrl);
    }
  }

  private ingest(samples: readonly Sample[], history: boolean): void {
    if (history) this.buffer.addHistory(this.chipId, samples);
    else this.buffer.add(this.chipId, samples);
    if (!this.frame) {
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.host.requestUpdate();
      });
    }
  }
}
