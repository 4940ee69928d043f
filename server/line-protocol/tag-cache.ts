/**
 * Validated tag sections of line-protocol lines, kept across requests by their raw text: a
 * collector sends every chip's same tags with each sample, so a hub that has seen a chip parses
 * and checks its tags once, and every later line of it reuses the same strings (whose hashes
 * Map lookups downstream then find computed). Two generations of at most `generation` entries
 * each: an entry read from the old one moves to the young one, and the old one is dropped when
 * the young one fills, so a fleet of up to `generation` chips stays cached whatever its order.
 * Entries are made only for the tag sections a hub is sent: at 10,000 chips it holds 10,000 of
 * them (a few MB) whatever the generation.
 */
export class TagCache<T> {
  private young = new Map<string, T>();
  private old = new Map<string, T>();

  constructor(private readonly generation = 65_536) {}

  get(raw: string): T | undefined {
    const hit = this.young.get(raw);
    if (hit !== undefined) return hit;
    const aged = this.old.get(raw);
    if (aged !== undefined) {
      this.old.delete(raw);
      this.set(raw, aged);
    }
    return aged;
  }

  /** Keeps `value` under a copy of `raw` (see detached). */
  set(raw: string, value: T): void {
    this.put(detached(raw), value);
  }

  get size(): number {
    return this.young.size + this.old.size;
  }

  private put(key: string, value: T): void {
    if (this.young.size >= this.generation) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, value);
  }
}

/**
 * A copy of `s` that holds no reference to the string it was cut from. A substring of a request
 * body is a view of the whole body in V8 (a sliced string); kept in a cache it would keep the
 * body alive. Concatenating and cutting again flattens the text into a string of its own.
 */
export function detached(s: string): string {
  return (s + ' ').slice(0, -1);
}
