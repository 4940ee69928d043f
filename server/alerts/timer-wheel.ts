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
  /** Where it lies in its bucket's array. */
  pos: number;
  /** When it was scheduled, in order: ties of `at` come out in this order. */
  seq: number;
}

export interface TimerWheelOptions {
  /** Width of a bucket, ms (timers are due at their exact ms; this only sets the cost per advance). */
  tickMs: number;
  /** Buckets, a power of two; tickMs × slots is one turn. */
  slots: number;
  /** The clock when the wheel is made. */
  now: number;
}

/**
 * Each bucket is an array its entries know their place in, and a key keeps its entry while it is
 * rescheduled: moving a timer (a chip's staleness deadline, moved on every couple of seconds for
 * each of 100,000 chips) takes one map lookup and no allocation.
 */
export class TimerWheel<K = string> {
  private readonly tickMs: number;
  private readonly mask: number;
  private readonly buckets: Entry<K>[][];
  private readonly index = new Map<K, Entry<K>>();
  /** The clock at the last advance, and its tick (that bucket is visited again next time). */
  private now: number;
  private tick: number;
  private seq = 0;

  constructor({ tickMs, slots, now }: TimerWheelOptions) {
    if (!(tickMs > 0)) throw new Error(`tickMs must be positive, got ${tickMs}`);
    if (!Number.isInteger(slots) || slots < 1 || (slots & (slots - 1)) !== 0) throw new Error(`slots must be a power of two, got ${slots}`);
    this.tickMs = tickMs;
    this.mask = slots - 1;
    this.buckets = Array.from({ length: slots }, () => []);
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
    const bucket = Math.max(Math.floor(at / this.tickMs), this.tick) & this.mask;
    const seq = this.seq++;
    if (held === undefined) {
      const list = this.buckets[bucket]!;
      const entry: Entry<K> = { key, at, bucket, pos: list.length, seq };
      list.push(entry);
      this.index.set(key, entry);
      return;
    }
    held.at = at;
    held.seq = seq;
    if (held.bucket === bucket) return;
    this.unlink(held);
    held.bucket = bucket;
    held.pos = this.buckets[bucket]!.push(held) - 1;
  }

  /** Remove `key`'s timer; false when it had none. */
  cancel(key: K): boolean {
    const entry = this.index.get(key);
    if (!entry) return false;
    this.unlink(entry);
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
      const list = this.buckets[t & this.mask]!;
      let kept = 0;
      for (let i = 0; i < list.length; i++) {
        const entry = list[i]!;
        if (entry.at <= now) {
          due.push(entry);
          this.index.delete(entry.key);
        } else {
          entry.pos = kept;
          list[kept++] = entry;
        }
      }
      list.length = kept;
    }
    this.now = now;
    this.tick = to;
    // A taken-out entry is never used again (scheduling its key anew makes a new one): it is the answer.
    return due.sort((a, b) => a.at - b.at || a.seq - b.seq);
  }

  /** Take an entry out of its bucket: the bucket's last entry takes its place. */
  private unlink(entry: Entry<K>): void {
    const list = this.buckets[entry.bucket]!;
    const moved = list.pop()!;
    if (moved === entry) return;
    list[entry.pos] = moved;
    moved.pos = entry.pos;
  }
}
