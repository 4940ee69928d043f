/**
 * Fixed-resolution latency histogram (0.1 ms buckets up to 30 s) that load processes fill and the
 * bench merges: millions of latencies in constant memory, percentiles exact to the bucket.
 */

const RESOLUTION_MS = 0.1;
const BUCKETS = 300_000;

/** Sparse form for passing between processes: [bucket, count] pairs. */
export type SparseHistogram = [number, number][];

export class LatencyHistogram {
  private readonly buckets = new Uint32Array(BUCKETS);
  count = 0;
  /** Values below 0 (counted in bucket 0): clock or timestamp artefacts, reported separately. */
  negative = 0;
  max = 0;

  add(ms: number): void {
    if (ms < 0) this.negative++;
    if (ms > this.max) this.max = ms;
    const b = Math.min(BUCKETS - 1, Math.max(0, Math.floor(ms / RESOLUTION_MS)));
    this.buckets[b]++;
    this.count++;
  }

  /** The smallest bucket upper bound below which `p` % of the values lie (ms). */
  percentile(p: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.buckets[b];
      if (seen >= rank) return (b + 1) * RESOLUTION_MS;
    }
    return BUCKETS * RESOLUTION_MS;
  }

  toSparse(): { buckets: SparseHistogram; negative: number; max: number } {
    const buckets: SparseHistogram = [];
    for (let b = 0; b < BUCKETS; b++) if (this.buckets[b]) buckets.push([b, this.buckets[b]]);
    return { buckets, negative: this.negative, max: this.max };
  }

  merge(s: { buckets: SparseHistogram; negative: number; max: number }): this {
    for (const [b, n] of s.buckets) {
      this.buckets[b] += n;
      this.count += n;
    }
    this.negative += s.negative;
    this.max = Math.max(this.max, s.max);
    return this;
  }
}

/** Epoch ms with a sub-ms fraction; comparable across processes on one machine. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/** p50/p99/max of a histogram, rounded for reports. */
export function summary(h: LatencyHistogram): { n: number; p50: number; p99: number; max: number } {
  const r = (x: number) => Math.round(x * 10) / 10;
  return { n: h.count, p50: r(h.percentile(50)), p99: r(h.percentile(99)), max: r(h.max) };
}
