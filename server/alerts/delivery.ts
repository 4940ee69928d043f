/**
 * The delivery worker: sends the outbox's due rows and applies the retry policy to each answer.
 *
 * - Each receiver's rows go out one at a time, in order (the oldest pending row of a receiver
 *   holds back the later ones while it waits for a retry), different receivers concurrently.
 * - An attempt claims its row first (outbox.ts), then POSTs with a timeout; 2xx is done; no answer,
 *   408/425/429/5xx are retried after the backoff (never sooner than a 429's Retry-After); other
 *   answers, and the last failed attempt, make a dead letter (retry-policy.ts).
 * - A receiver's rate limit (a token bucket: `count` per `per`, bursts of `count`) holds rows back;
 *   they wait in the outbox, nothing is dropped.
 * - It wakes when told (a new row, a dead letter retried), at the next due row, and at least every
 *   `pollMs` (rows another process wrote).
 * - The outbox may be the SQLite one (synchronous) or the PostgreSQL one (promises, shared by hubs:
 *   a claim there is exclusive, so one hub sends each row); the worker awaits either.
 */
import type { Logger } from '../../common/logger.ts';
import { DEFAULT_RETRY, nextStep, type AttemptResult, type RetryOptions } from './retry-policy.ts';
import type { OutboxRow } from './outbox.ts';
import type { OutboxApi } from './outbox-api.ts';
import { deliveryRequest } from './senders.ts';
import { deliveryChannel, type DeliveryEvent } from '../telemetry/telemetry-channels.ts';

/** What the worker needs of a receiver; undefined: it no longer exists. */
export interface DeliveryTarget {
  url: string;
  secret?: string | undefined;
  rateLimit: { count: number; perMs: number };
}

export interface DeliveryOptions {
  /** One request's limit, ms (default 10 s). */
  timeoutMs?: number;
  retry?: RetryOptions;
  /** Jitter source of the backoff (tests pass a constant). */
  random?: () => number;
  /** Longest sleep between looks at the outbox, ms (default 1 s). */
  pollMs?: number;
  /** How long a claim holds a row: should the hub die mid-request, it is due again after this (default timeoutMs + 1 s). */
  leaseMs?: number;
  now?: () => number;
  log: Logger;
}

export const DEFAULT_DELIVERY_TIMEOUT_MS = 10_000;
/** An error text kept in the outbox is cut to this. */
const MAX_ERROR_LENGTH = 500;
/** Of an answer's body, this much goes into the error text. */
const MAX_ERROR_BODY = 200;

/** Token bucket of one receiver. */
class Bucket {
  private tokens: number;
  private at: number;

  constructor(
    private count: number,
    private perMs: number,
    now: number,
  ) {
    this.tokens = count;
    this.at = now;
  }

  configure(count: number, perMs: number): void {
    if (count === this.count && perMs === this.perMs) return;
    this.count = count;
    this.perMs = perMs;
    this.tokens = Math.min(this.tokens, count);
  }

  /** 0 when a token was taken, else how long until one is there (ms). */
  take(now: number): number {
    const rate = this.count / this.perMs;
    this.tokens = Math.min(this.count, this.tokens + (now - this.at) * rate);
    this.at = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - this.tokens) / rate));
  }
}

interface InFlight {
  row: OutboxRow;
  abort: AbortController;
  done: Promise<void>;
}

export class Delivery {
  private readonly timeoutMs: number;
  private readonly retry: RetryOptions;
  private readonly random: () => number;
  private readonly pollMs: number;
  private readonly leaseMs: number;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly inFlight = new Map<string, InFlight>();
  private readonly buckets = new Map<string, Bucket>();
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private running = false;
  private again = false;
  private closed = false;
  private started = false;

  constructor(
    private readonly outbox: OutboxApi,
    private readonly target: (receiver: string) => DeliveryTarget | undefined,
    opts: DeliveryOptions,
  ) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS;
    this.retry = opts.retry ?? DEFAULT_RETRY;
    this.random = opts.random ?? Math.random;
    this.pollMs = opts.pollMs ?? 1000;
    this.leaseMs = opts.leaseMs ?? this.timeoutMs + 1000;
    this.now = opts.now ?? Date.now;
    this.log = opts.log;
  }

  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.wake();
  }

  /** Look at the outbox now. */
  wake(): void {
    if (!this.started || this.closed) return;
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.ticking = this.tick();
    }, Math.max(0, ms));
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    this.timer = null;
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    let wait = this.pollMs;
    try {
      wait = Math.min(wait, await this.sendDue());
    } catch (err) {
      this.log.error('alert delivery: reading the outbox failed', { err: String(err) });
    } finally {
      this.running = false;
    }
    this.schedule(this.again ? 0 : wait);
    this.again = false;
  }

  /** Starts the due heads; ms until the next one may be due. */
  private async sendDue(): Promise<number> {
    const now = this.now();
    let wait = Infinity;
    for (const row of await this.outbox.heads()) {
      if (this.closed) break;
      if (this.inFlight.has(row.receiver)) continue;
      if (row.nextAt > now) {
        wait = Math.min(wait, row.nextAt - now);
        continue;
      }
      const target = this.target(row.receiver);
      if (!target) {
        await this.outbox.markDead(row.id, `receiver ${JSON.stringify(row.receiver)} no longer exists`, now);
        this.log.warn('alert notification dropped: its receiver no longer exists', { id: row.id, receiver: row.receiver });
        wait = 0;
        continue;
      }
      const { count, perMs } = target.rateLimit;
      let bucket = this.buckets.get(row.receiver);
      if (!bucket) this.buckets.set(row.receiver, (bucket = new Bucket(count, perMs, now)));
      bucket.configure(count, perMs);
      const held = bucket.take(now);
      if (held > 0) {
        wait = Math.min(wait, held);
        continue;
      }
      // The lease: if the hub dies during the request, the row is due again after it.
      if (!(await this.outbox.claim(row, now + this.leaseMs))) {
        wait = 0;
        continue;
      }
      if (this.closed) {
        await this.outbox.markRetry(row.id, now, 'interrupted');
        break;
      }
      this.attempt({ ...row, attempts: row.attempts + 1 }, target);
    }
    return wait;
  }

  private attempt(row: OutboxRow, target: DeliveryTarget): void {
    const abort = new AbortController();
    const entry: InFlight = { row, abort, done: Promise.resolve() };
    const startedAt = Date.now();
    entry.done = this.post(row, target, abort)
      .then(({ result, error }) => this.settle(row, result, error, startedAt))
      .catch((err: unknown) => this.log.error('alert delivery failed unexpectedly', { id: row.id, err: String(err) }))
      .finally(() => {
        this.inFlight.delete(row.receiver);
        this.wake();
      });
    this.inFlight.set(row.receiver, entry);
  }

  private async post(row: OutboxRow, target: DeliveryTarget, abort: AbortController): Promise<{ result: AttemptResult; error: string | null }> {
    const req = deliveryRequest(target, row, this.now());
    const timer = setTimeout(() => abort.abort(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    try {
      const res = await fetch(req.url, { method: 'POST', headers: req.headers, body: req.body, redirect: 'manual', signal: abort.signal });
      let error: string | null = null;
      if (res.status >= 200 && res.status < 300) {
        await res.body?.cancel().catch(() => {});
      } else {
        const text = await res.text().catch(() => '');
        error = `HTTP ${res.status}${text ? `: ${text.slice(0, MAX_ERROR_BODY)}` : ''}`;
      }
      return { result: { status: res.status, retryAfter: res.headers.get('retry-after') }, error };
    } catch (err) {
      const reason = abort.signal.aborted ? String((abort.signal.reason as Error | undefined)?.message ?? 'aborted') : describeFetchError(err);
      return { result: { status: null }, error: reason };
    } finally {
      clearTimeout(timer);
    }
  }

  private async settle(row: OutboxRow, result: AttemptResult, error: string | null, startedAt: number): Promise<void> {
    const now = this.now();
    if (this.closed) {
      // Cut short by shutdown: due again as soon as the hub is back (the attempt still counts).
      if (result.status === null) return void (await this.outbox.markRetry(row.id, now, error ? cutError(`interrupted: ${error}`) : 'interrupted'));
    }
    const step = nextStep(row.attempts, result, now, this.retry, this.random);
    if (deliveryChannel.hasSubscribers) deliveryChannel.publish({ receiver: row.receiver, status: result.status, outcome: step.action, startedAt, ms: Date.now() - startedAt, error } satisfies DeliveryEvent);
    if (step.action === 'done') {
      await this.outbox.markDone(row.id, now);
      this.log.debug('alert notification delivered', { id: row.id, receiver: row.receiver, attempts: row.attempts });
    } else if (step.action === 'retry') {
      await this.outbox.markRetry(row.id, step.at, cutError(error ?? 'failed'));
      this.log.info('alert notification will be retried', { id: row.id, receiver: row.receiver, attempt: row.attempts, error, inMs: step.at - now });
    } else {
      await this.outbox.markDead(row.id, cutError(`${error ?? 'failed'} (${step.reason})`), now);
      this.log.warn('alert notification is a dead letter', { id: row.id, receiver: row.receiver, attempts: row.attempts, error, reason: step.reason });
    }
  }

  /** Stops: requests under way are cut short and stay pending, due at once on the next start. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.ticking;
    const flights = [...this.inFlight.values()];
    for (const f of flights) f.abort.abort(new Error('the hub is stopping'));
    await Promise.all(flights.map((f) => f.done));
  }
}

const cutError = (text: string) => (text.length <= MAX_ERROR_LENGTH ? text : text.slice(0, MAX_ERROR_LENGTH - 1) + '…');

function describeFetchError(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return cause ? `${e.message ?? 'fetch failed'} (${cause})` : (e.message ?? String(err));
}
