/**
 * Work reports waiting for the agent's next batch, coalesced by series. Counters are cumulative,
 * so between two batches only the newest report of a series matters: a series is a job, its
 * chips (sorted) and its set of units, and keeps one report with the newest value of each unit.
 * Memory is bounded by the number of series (and their size), not by the number of reports.
 */
import type { WorkReport } from '../../schema/work.ts';

/** Most series kept between two batches; a report of a new series beyond it is refused (busy). */
export const MAX_PENDING_SERIES = 1000;
/** Most bytes (as JSON) of pending reports; a report of a new series beyond it is refused (busy). */
export const MAX_PENDING_BYTES = 8 * 1024 * 1024;

interface Entry {
  report: WorkReport;
  /** Size of the report as JSON (characters). */
  bytes: number;
}

/** The key of a report's series: job, sorted chips and sorted units. */
export function seriesKey(r: Pick<WorkReport, 'job' | 'chips' | 'counters'>): string {
  const chips = r.chips ? [...r.chips].sort().join(',') : '*';
  return `${r.job}\u0000${chips}\u0000${Object.keys(r.counters).sort().join(',')}`;
}

export class PendingWork {
  private readonly series = new Map<string, Entry>();
  private bytesValue = 0;

  constructor(
    private readonly maxSeries = MAX_PENDING_SERIES,
    private readonly maxBytes = MAX_PENDING_BYTES,
  ) {}

  get size(): number {
    return this.series.size;
  }

  get bytes(): number {
    return this.bytesValue;
  }

  /**
   * Keep a (valid) report: merged into its series, or a new series if there is room. Returns
   * false when it is a new series and the pending set is full.
   */
  add(report: WorkReport): boolean {
    const key = seriesKey(report);
    const entry = this.series.get(key);
    if (entry) {
      const merged = merge(entry.report, report);
      const bytes = JSON.stringify(merged).length;
      if (this.bytesValue - entry.bytes + bytes > this.maxBytes) return false;
      this.bytesValue += bytes - entry.bytes;
      entry.report = merged;
      entry.bytes = bytes;
      return true;
    }
    const bytes = JSON.stringify(report).length;
    if (this.series.size >= this.maxSeries || this.bytesValue + bytes > this.maxBytes) return false;
    this.series.set(key, { report: { ...report, counters: { ...report.counters } }, bytes });
    this.bytesValue += bytes;
    return true;
  }

  /**
   * Take pending reports, oldest series first, and forget them: all of them, or at most
   * `maxReports` and about `maxBytes` (at least one); the rest wait for the next drain.
   */
  drain(maxReports = Infinity, maxBytes = Infinity): WorkReport[] {
    const out: WorkReport[] = [];
    let bytes = 0;
    for (const [key, e] of this.series) {
      if (out.length >= maxReports || (out.length > 0 && bytes + e.bytes > maxBytes)) break;
      out.push(e.report);
      bytes += e.bytes;
      this.bytesValue -= e.bytes;
      this.series.delete(key);
    }
    return out;
  }
}

/** A series' report merged with a newer (or late, older) one: the newest value of each unit. */
function merge(old: WorkReport, next: WorkReport): WorkReport {
  const newer = next.ts >= old.ts;
  const counters = newer ? { ...old.counters, ...next.counters } : { ...next.counters, ...old.counters };
  const base = newer ? next : old;
  return { ...base, ts: Math.max(old.ts, next.ts), counters };
}
