/**
 * A min-heap of (deadline, key) pairs: push in O(log n), take every pair due by `now` in order.
 * The same key may be in the heap more than once; callers check what a popped pair still means.
 * Pure: no clock.
 */
export class DeadlineHeap<K> {
  private readonly at: number[] = [];
  private readonly keys: K[] = [];

  get size(): number {
    return this.at.length;
  }

  push(deadline: number, key: K): void {
    const { at, keys } = this;
    let i = at.length;
    at.push(deadline);
    keys.push(key);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (at[parent]! <= deadline) break;
      at[i] = at[parent]!;
      keys[i] = keys[parent]!;
      i = parent;
    }
    at[i] = deadline;
    keys[i] = key;
  }

  /** The earliest deadline held, or Infinity. */
  peek(): number {
    return this.at.length ? this.at[0]! : Infinity;
  }

  /** Removes and returns the key of the earliest pair if it is due at or before `now`; undefined when none is. */
  popDue(now: number): K | undefined {
    return this.at.length && this.at[0]! <= now ? this.pop() : undefined;
  }

  private pop(): K {
    const { at, keys } = this;
    const top = keys[0]!;
    const lastAt = at.pop()!;
    const lastKey = keys.pop()!;
    const n = at.length;
    if (n === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && at[r]! < at[l]! ? r : l;
      if (at[c]! >= lastAt) break;
      at[i] = at[c]!;
      keys[i] = keys[c]!;
      i = c;
    }
    at[i] = lastAt;
    keys[i] = lastKey;
    return top;
  }
}
