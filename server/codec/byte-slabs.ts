/**
 * Slices of large buffers for many small byte strings that live about as long as each other (a
 * fold step's encoded rows): one allocation per slab instead of one per string. Node's own pool
 * for small buffers is 8 KB, so a fold step's 100,000 rows of ~700 B made ~10,000 pools, whose
 * allocation was ~5 % of the fold. A slab is freed once no slice of it is held.
 */
export class ByteSlabs {
  private slab: Buffer = Buffer.alloc(0);
  private used = 0;

  constructor(private readonly slabBytes = 256 * 1024) {}

  /** `n` bytes, uninitialized (from a new buffer of its own when over a quarter of a slab). */
  take(n: number): Buffer {
    if (n > this.slabBytes / 4) return Buffer.allocUnsafeSlow(n);
    if (this.used + n > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(this.slabBytes);
      this.used = 0;
    }
    const out = this.slab.subarray(this.used, this.used + n);
    this.used += n;
    return out;
  }
}
