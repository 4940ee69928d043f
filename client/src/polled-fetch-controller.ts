/**
 * A Lit ReactiveController that keeps one HTTP answer current for its host:
 *
 * - `key()` names what to load (e.g. chip + range); `null` means nothing (idle);
 * - loads when the host connects and whenever `sync()` sees a new key (the old answer
 *   is dropped at once, an in-flight request for the old key is aborted);
 * - re-loads every `intervalMs()` while connected and the page is visible, keeping the
 *   shown answer until the new one arrives; a failed re-load keeps it too and sets `error`;
 * - aborts everything on disconnect.
 *
 * `version` increments on every change of `data`, `error` or `loading`; the host is
 * asked to update then.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { describeError, isAbort, type HubFetchError } from './hub-fetch.ts';

export interface PolledFetchOptions<T> {
  /** What to load now, or null for nothing. Compared by value. */
  key: () => string | null;
  /** Loads the answer for the current key. */
  load: (signal: AbortSignal) => Promise<T>;
  /** Re-load period (ms); 0 or less: never. Read when (re)starting the timer. */
  intervalMs: () => number;
}

export class PolledFetchController<T> implements ReactiveController {
  /** The newest answer for the current key, or null. */
  data: T | null = null;
  /** Why the last load failed, or null after a success. */
  error: HubFetchError | null = null;
  /** A load for the current key is in flight. */
  loading = false;
  /** When `data` arrived (ms since epoch), 0 if never. */
  loadedAt = 0;
  version = 0;

  private currentKey: string | null = null;
  private inFlight: AbortController | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private connected = false;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly opts: PolledFetchOptions<T>,
  ) {
    host.addController(this);
  }

  /** The key the shown state belongs to. */
  get key(): string | null {
    return this.currentKey;
  }

  hostConnected(): void {
    this.connected = true;
    this.currentKey = this.opts.key();
    this.reset();
    this.refresh();
    this.restartTimer();
  }

  hostDisconnected(): void {
    this.connected = false;
    this.abort();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Call from the host's `willUpdate`: follows a changed key (drop, load now, restart the timer). */
  sync(): void {
    if (!this.connected) return;
    const key = this.opts.key();
    if (key === this.currentKey) return;
    this.currentKey = key;
    this.abort();
    this.reset();
    this.refresh();
    this.restartTimer();
  }

  /** Call after the interval changed. */
  restartTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const ms = this.opts.intervalMs();
    if (this.connected && this.currentKey !== null && ms > 0) {
      this.timer = setInterval(() => {
        if (!this.inFlight && globalThis.document?.visibilityState !== 'hidden') this.refresh();
      }, ms);
    }
  }

  /** Loads the current key now (unless one is already in flight). */
  refresh(): void {
    const key = this.currentKey;
    if (key === null || this.inFlight) return;
    const ctrl = new AbortController();
    this.inFlight = ctrl;
    this.loading = true;
    this.changed();
    this.opts.load(ctrl.signal).then(
      (data) => {
        if (ctrl.signal.aborted || key !== this.currentKey) return;
        this.data = data;
        this.error = null;
        this.loadedAt = Date.now();
      },
      (e: unknown) => {
        if (ctrl.signal.aborted || isAbort(e) || key !== this.currentKey) return;
        this.error = describeError(e);
      },
    ).finally(() => {
      if (this.inFlight !== ctrl) return;
      this.inFlight = null;
      this.loading = false;
      this.changed();
    });
  }

  /** Loads the current key now, dropping a load in flight (its answer may predate a change just made). */
  reload(): void {
    this.abort();
    this.refresh();
  }

  private reset(): void {
    this.data = null;
    this.error = null;
    this.loading = false;
    this.loadedAt = 0;
    this.changed();
  }

  private abort(): void {
    this.inFlight?.abort();
    this.inFlight = null;
  }

  private changed(): void {
    this.version++;
    this.host.requestUpdate();
  }
}
