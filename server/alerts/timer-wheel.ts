/**
 * The one timer of alerting: a bucketed timer wheel holding, per key, one due time (a chip's
 * staleness deadline, an alert's `for` or `clear.for` expiry). `schedule` and `cancel` are O(1);
 * `advance(now)` visits only the buckets of the ticks since the last advance (all of them, once, after
 * a long jump) and returns the keys that fell due, in due order. A key due more than one turn of the
 * wheel ahead waits in its bucket until its turn. Pure: the caller supplies the clock.
 */

/** A key that fell due, and when it was due. */
export interface DueTimer<K> {
  key: K;
  at: number;
}

interface Entry<K> {
  key: K;
  at: number;
  bucket: number;
}

export interface TimerWheelOptions {
  /** Width of a bucket, ms (timers are due at their exact ms; this only sets the cost per advance). */
  tickMs: number;
  /** Buckets, a power of two; tickMs × slots is one turn. */
  slots: number;
  /** The clock when the wheel is made. */
  now: number;
}

export class TimerWheel<K = string> {
  private readonly tickMs: number;
  private readonly mask: number;
  private readonly buckets: Map<K, Entry<K>>[];
  private readonly index = new Map<K, Entry<K>>();
  /** The clock at the last advance, and its tick (that bucket is visited again next time). */
  private now: number;
  private tick: number;

  constructor({ tickMs, slots, now }: TimerWheelOptions) {
    if (!(tickMs > 0)) throw new Error(`tickMs must be positive, got ${tickMs}`);
    if (!Number.isInteger(slots) || slots < 1 || (slots & (slots - 1)) !== 0) throw new Error(`slots must be a power of two, got ${slots}`);
    this.tickMs = tickMs;
    this.mask = slots - 1;
    this.buckets = Array.from({ length: slots }, () => new Map());
    this.now = now;
    this.tick = Math.floor(now / tickMs);
  }

  /** Timers held. */
  get size(): number {
    return this.index.size;
  }

  /** The due time of `key`, or undefined when none is set. */
  dueAt(key: K): number | undefined {
    return this.index.get(key)?.at;
  }

  /** Set `key` due at `at` (replacing its earlier time). A time already past falls due at the next advance. */
  schedule(key: K, at: number): void {
    const held = this.index.get(key);
    if (held !== undefined && held.at === at) return;
    this.cancel(key);
    const bucket = Math.max(Math.floor(at / this.tickMs), this.tick) & this.mask;
    const entry: Entry<K> = { key, at, bucket };
    this.buckets[bucket]!.set(key, entry);
    this.index.set(key, entry);
  }

  /** Remove `key`'s timer; false when it had none. */
  cancel(key: K): boolean {
    const entry = this.index.get(key);
    if (!entry) return false;
    this.buckets[entry.bucket]!.delete(key);
    this.index.delete(key);
    return true;
  }

  /** Move the clock to `now` (never back) and take out the timers due at or before it, earliest first. */
  advance(now: number): DueTimer<K>[] {
    if (now < this.now) return [];
    const to = Math.floor(now / this.tickMs);
    const last = Math.min(to, this.tick + this.mask);
    const due: Entry<K>[] = [];
    for (let t = this.tick; t <= last; t++) {
      const bucket = this.buckets[t & this.mask]!;
      for (const entry of bucket.values()) {
        if (entry.at <= now) {
          due.push(entry);
          bucket.delete(entry.key);
          this.index.delete(entry.key);
        }
      }
    }
    this.now = now;
    this.tick = to;
    // Timers due at the same ms share a bucket, which keeps scheduling order; the sort is stable.
    return due.sort((a, b) => a.at - b.at).map(({ key, at }) => ({ key, at }));
  }
}
