/** A chip's recent samples for plotting: ascending by ts, deduplicated, bounded. */
import type { Sample } from '../../schema/sample.ts';
import { summarizeBackfill, type BackfillSummary } from './backfill-bands.ts';

/** Samples kept and plotted: the newest 15 minutes. */
export const WINDOW_MS = 15 * 60_000;
/** Hard cap on kept samples, whatever the sampling rate. */
export const MAX_SAMPLES = 50_000;

/** Inserts `s` into `buf` (ascending by ts), replacing a sample with the same ts. */
export function insertSample(buf: Sample[], s: Sample): void {
  const n = buf.length;
  if (n === 0 || s.ts > buf[n - 1].ts) {
    buf.push(s);
    return;
  }
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (buf[mid].ts < s.ts) lo = mid + 1;
    else hi = mid;
  }
  if (buf[lo]?.ts === s.ts) buf[lo] = s;
  else buf.splice(lo, 0, s);
}

/** Plot columns: x in seconds since epoch, one array per series. */
export interface SampleColumns {
  xs: number[];
  util: (number | null)[];
  power: (number | null)[];
  limit: (number | null)[];
  temp: (number | null)[];
}

export class SampleWindow {
  /** Ascending by ts; do not mutate. */
  readonly samples: Sample[] = [];
  /** Increments on every change. */
  version = 0;
  private backfillAt = -1;
  private backfillSummary: BackfillSummary | null = null;

  constructor(
    readonly windowMs = WINDOW_MS,
    readonly maxSamples = MAX_SAMPLES,
  ) {}

  get last(): Sample | null {
    return this.samples[this.samples.length - 1] ?? null;
  }

  /** The backfilled (late) samples kept: their count and time bands (recomputed once per change). */
  get backfill(): BackfillSummary {
    if (this.backfillAt !== this.version || !this.backfillSummary) {
      this.backfillSummary = summarizeBackfill(this.samples);
      this.backfillAt = this.version;
    }
    return this.backfillSummary;
  }

  /**
   * Adds the samples of `chipId` (others are ignored) merging by ts: a sample with the
   * ts of a kept one replaces it, so re-delivered samples never duplicate. Then trims
   * to the window.
   */
  add(chipId: string, samples: readonly Sample[]): void {
    const buf = this.samples;
    for (const s of samples) if (s.chipId === chipId) insertSample(buf, s);
    if (buf.length) {
      const cutoff = buf[buf.length - 1].ts - this.windowMs;
      let drop = 0;
      while (drop < buf.length && buf[drop].ts < cutoff) drop++;
      drop = Math.max(drop, buf.length - this.maxSamples);
      if (drop > 0) buf.splice(0, drop);
    }
    this.version++;
  }

  /**
   * Adds a history block (chip-history, HTTP) as authoritative for its time span:
   * kept samples inside [first ts, last ts] of `samples` are replaced by it.
   */
  addHistory(chipId: string, samples: readonly Sample[]): void {
    const own = samples.filter((s) => s.chipId === chipId);
    if (own.length) {
      let lo = Infinity;
      let hi = -Infinity;
      for (const s of own) {
        if (s.ts < lo) lo = s.ts;
        if (s.ts > hi) hi = s.ts;
      }
      const keep = this.samples.filter((s) => s.ts < lo || s.ts > hi);
      this.samples.length = 0;
      this.samples.push(...keep);
    }
    this.add(chipId, own);
  }

  clear(): void {
    this.samples.length = 0;
    this.version++;
  }

  /** Columns for uPlot; `limit` falls back to `ratedW` where the sample has no power limit. */
  columns(ratedW: number | null): SampleColumns {
    const buf = this.samples;
    const n = buf.length;
    const c: SampleColumns = {
      xs: new Array<number>(n),
      util: new Array<number | null>(n),
      power: new Array<number | null>(n),
      limit: new Array<number | null>(n),
      temp: new Array<number | null>(n),
    };
    for (let i = 0; i < n; i++) {
      const s = buf[i];
      c.xs[i] = s.ts / 1000;
      c.util[i] = s.utilPct;
      c.power[i] = s.powerW;
      c.limit[i] = s.powerLimitW ?? ratedW;
      c.temp[i] = s.tempC;
    }
    return c;
  }
}
