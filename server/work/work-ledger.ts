/**
 * Work counters turned into work done: increments between a series' consecutive reports, spread
 * evenly over the time between them, cut into the 1-minute and 1-hour buckets, and the chip-job
 * spans worth writing. Pure: no I/O, no clock (the caller passes `now`).
 *
 * A series is one counter of one reporter: job + unit + who reported it (agent or line-protocol
 * host) + the chips it names. Its first report only sets the counter (what came before is unknown).
 * A report at or before the series' last one is a resend (a spool after a reconnect) and adds
 * nothing; a counter that went down was restarted, and its new value is the work since.
 */
import { TIERS, type RollupTier } from '../rollups/rollup-fields.ts';
import type { WorkReport } from '../../schema/work.ts';

/** The newest reading of one series. */
export interface CounterReading {
  ts: number;
  value: number;
}

/** Work done by a job on some chips between two reports of one series. */
export interface WorkIncrement {
  job: string;
  unit: string;
  /** The chips it names, sorted and joined by `,` (what rows store and group by). */
  chipsKey: string;
  fromTs: number;
  toTs: number;
  units: number;
}

/** An increment's share of one rollup bucket. */
export interface WorkBucketAdd {
  tier: RollupTier;
  start: number;
  job: string;
  unit: string;
  chipsKey: string;
  units: number;
  /** The part of the bucket the increment covered. */
  firstTs: number;
  lastTs: number;
}

/** A job seen on a chip at `ts` (with its labels when the report had some). */
export interface ChipJobSeen {
  chipId: string;
  job: string;
  ts: number;
  labels: Readonly<Record<string, string>> | null;
}

/** What one call of `apply` makes: rows to write, and how to take it back if the write fails. */
export interface LedgerOutcome {
  increments: WorkIncrement[];
  buckets: WorkBucketAdd[];
  counters: { key: string; reading: CounterReading }[];
  chipJobs: ChipJobSeen[];
  /** Newest job per chip among these reports (for the fleet view). */
  jobsNow: Map<string, string>;
  undo(): void;
}

/** Chip-job spans are written when new, and again at most this often while the job keeps reporting. */
export const CHIP_JOB_REWRITE_MS = 60_000;

export const chipsKeyOf = (chips: readonly string[]): string => [...chips].sort().join(',');

export function seriesKey(reporter: string, job: string, unit: string, chipsKey: string): string {
  // '|' is in none of the parts (job ids, units, agent and chip ids), and PostgreSQL text takes it (not NUL).
  return `${job}|${unit}|${reporter}|${chipsKey}`;
}

/** Split [fromTs, toTs] units over `bucketMs` buckets by overlap (an instant goes whole to its bucket). */
export function splitIntoBuckets(fromTs: number, toTs: number, units: number, bucketMs: number): { start: number; units: number; firstTs: number; lastTs: number }[] {
  const first = Math.floor(fromTs / bucketMs) * bucketMs;
  if (toTs <= fromTs) return [{ start: Math.floor(toTs / bucketMs) * bucketMs, units, firstTs: toTs, lastTs: toTs }];
  const out: { start: number; units: number; firstTs: number; lastTs: number }[] = [];
  const span = toTs - fromTs;
  for (let start = first; start < toTs; start += bucketMs) {
    const a = Math.max(start, fromTs);
    const b = Math.min(start + bucketMs, toTs);
    if (b <= a) continue;
    out.push({ start, units: (units * (b - a)) / span, firstTs: a, lastTs: b });
  }
  return out;
}

export class WorkLedger {
  private readonly counters: Map<string, CounterReading>;
  /** (chip, job) → when its span was last written. */
  private readonly spanWritten = new Map<string, number>();

  constructor(counters: Iterable<[string, CounterReading]> = []) {
    this.counters = new Map(counters);
  }

  get seriesCount(): number {
    return this.counters.size;
  }

  /** Forget series not heard from since `ts` (their next report starts them over), and their spans. */
  forgetBefore(ts: number): void {
    for (const [key, r] of this.counters) if (r.ts < ts) this.counters.delete(key);
    for (const [key, at] of this.spanWritten) if (at < ts) this.spanWritten.delete(key);
  }

  /**
   * Reports of one reporter (an agent id, or a line-protocol host's) whose chips default to
   * `defaultChips` when a report names none.
   */
  apply(reporter: string, defaultChips: readonly string[], reports: readonly WorkReport[]): LedgerOutcome {
    const increments: WorkIncrement[] = [];
    const buckets: WorkBucketAdd[] = [];
    const counters: { key: string; reading: CounterReading }[] = [];
    const chipJobs: ChipJobSeen[] = [];
    const jobsNow = new Map<string, string>();
    const jobTs = new Map<string, number>();
    const before = new Map<string, CounterReading | undefined>();
    const spansBefore = new Map<string, number | undefined>();
    for (const r of reports) {
      const chips = r.chips ?? defaultChips;
      if (chips.length === 0) continue;
      const chipsKey = chipsKeyOf(chips);
      for (const chipId of chips) {
        if ((jobTs.get(chipId) ?? -Infinity) <= r.ts) (jobsNow.set(chipId, r.job), jobTs.set(chipId, r.ts));
        const spanKey = `${chipId}\u0000${r.job}`;
        const written = this.spanWritten.get(spanKey);
        if (written === undefined || r.ts - written >= CHIP_JOB_REWRITE_MS || r.labels) {
          if (!spansBefore.has(spanKey)) spansBefore.set(spanKey, written);
          this.spanWritten.set(spanKey, r.ts);
          chipJobs.push({ chipId, job: r.job, ts: r.ts, labels: r.labels ?? null });
        }
      }
      for (const unit of Object.keys(r.counters)) {
        const value = r.counters[unit];
        const key = seriesKey(reporter, r.job, unit, chipsKey);
        const last = this.counters.get(key);
        if (last !== undefined && r.ts <= last.ts) continue;
        if (!before.has(key)) before.set(key, last);
        const reading = { ts: r.ts, value };
        this.counters.set(key, reading);
        counters.push({ key, reading });
        if (last === undefined) continue;
        const units = value >= last.value ? value - last.value : value;
        const inc: WorkIncrement = { job: r.job, unit, chipsKey, fromTs: last.ts, toTs: r.ts, units };
        increments.push(inc);
        for (const tier of Object.keys(TIERS) as RollupTier[]) {
          for (const b of splitIntoBuckets(inc.fromTs, inc.toTs, units, TIERS[tier].bucketMs)) {
            buckets.push({ tier, start: b.start, job: r.job, unit, chipsKey, units: b.units, firstTs: b.firstTs, lastTs: b.lastTs });
          }
        }
      }
    }
    const undo = () => {
      for (const [key, reading] of before) {
        if (reading === undefined) this.counters.delete(key);
        else this.counters.set(key, reading);
      }
      for (const [key, ts] of spansBefore) {
        if (ts === undefined) this.spanWritten.delete(key);
        else this.spanWritten.set(key, ts);
      }
    };
    return { increments, buckets, counters, chipJobs, jobsNow, undo };
  }
}
