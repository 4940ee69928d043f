/**
 * Work counters into the store: reports from an agent's batches or from line-protocol `work`
 * lines are checked against the reporter's chips and the time window, turned into increments by
 * the ledger (work-ledger.ts) and written in turn with sample commits; the fleet view shows each
 * chip's current job. The ledger's counters are read back from the store at start, so a restart
 * neither loses nor double-counts work (a resent report is at or before its series' last one).
 */
import type { Logger } from '../../common/logger.ts';
import type { ChipView } from '../../schema/protocol.ts';
import type { WorkReport } from '../../schema/work.ts';
import type { FleetState } from '../fleet-state.ts';
import type { Store } from '../store/store.ts';
import { WorkLedger, type LedgerOutcome } from './work-ledger.ts';
import type { WorkWrite } from './work-rows.ts';

/** Work rows of calls this close together are written together. */
export const WRITE_GROUP_MS = 10;

/** A chip's job is shown while reports name it; after this long without one it is cleared. */
export const JOB_IDLE_MS = 5 * 60_000;

export interface WorkRecorderOptions {
  store: Store;
  fleet: FleetState;
  /** Changed chip views (a job started or ended on them) go to live subscribers. */
  publish: (views: ChipView[]) => void;
  log: Logger;
  /** Accepted report times around the hub's clock (default: at most 5 s ahead, within the raw retention). */
  maxFutureMs?: number;
}

/** What one call recorded: reports kept, and those left out with why. */
export interface WorkRecorded {
  kept: number;
  refused: { reason: 'foreign_chips' | 'out_of_range' | 'no_chips'; count: number }[];
}

export class WorkRecorder {
  private readonly ledger: WorkLedger;
  /** chipId → when a report last named its current job. */
  private readonly heardAt = new Map<string, number>();
  private readonly sweep: NodeJS.Timeout;
  /** The write being gathered (see write()). */
  private group: { rows: { [K in keyof WorkWrite]: WorkWrite[K][number][] }; undos: (() => void)[]; done: Promise<void> } | null = null;
  /** Reports kept and refused since start (for /metrics). */
  readonly counts = { reports: 0, increments: 0, refused: 0 };

  private constructor(
    private readonly opts: WorkRecorderOptions,
    counters: Iterable<[string, { ts: number; value: number }]>,
  ) {
    this.ledger = new WorkLedger(counters);
    this.sweep = setInterval(() => {
      const now = Date.now();
      this.clearIdle(now);
      // Series silent for longer than raw samples are kept go (as their stored counters do).
      this.ledger.forgetBefore(now - opts.store.retention.rawMs);
    }, 30_000);
    this.sweep.unref();
  }

  /** Reads the counters and current jobs back from the store. */
  static async start(opts: WorkRecorderOptions, now = Date.now()): Promise<WorkRecorder> {
    const r = new WorkRecorder(opts, await opts.store.workCounters());
    const jobs = new Map<string, string | null>();
    for (const j of await opts.store.currentChipJobs()) {
      if (now - j.lastTs > JOB_IDLE_MS) continue;
      jobs.set(j.chipId, j.job);
      r.heardAt.set(j.chipId, j.lastTs);
    }
    opts.fleet.setJobs(jobs);
    return r;
  }

  /**
   * Record `reports` of `reporter` (an agent id; a line-protocol host's push agent id). A report's
   * chips must be chips `mayName` allows (the reporter's own, or for line protocol the host's);
   * reports without chips name `defaultChips`. Resolves once the rows are committed.
   */
  async record(reporter: string, reports: readonly WorkReport[], defaultChips: readonly string[], mayName: (chipId: string) => boolean, now = Date.now()): Promise<WorkRecorded> {
    const kept: WorkReport[] = [];
    const refused = { foreign_chips: 0, out_of_range: 0, no_chips: 0 };
    const maxTs = now + (this.opts.maxFutureMs ?? 5000);
    const minTs = now - this.opts.store.retention.rawMs;
    for (const r of reports) {
      if (r.ts > maxTs || r.ts < minTs) refused.out_of_range++;
      else if (r.chips !== undefined && !r.chips.every(mayName)) refused.foreign_chips++;
      else if (r.chips === undefined && defaultChips.length === 0) refused.no_chips++;
      else kept.push(r);
    }
    const refusedList = (Object.keys(refused) as (keyof typeof refused)[]).filter((k) => refused[k] > 0).map((reason) => ({ reason, count: refused[reason] }));
    const nRefused = reports.length - kept.length;
    if (nRefused > 0) {
      this.counts.refused += nRefused;
      this.opts.log.warn('work reports left out', { reporter, ...refused });
    }
    if (kept.length === 0) return { kept: 0, refused: refusedList };
    const out = this.ledger.apply(reporter, defaultChips, kept);
    if (out.increments.length > 0 || out.counters.length > 0 || out.chipJobs.length > 0) await this.write(out);
    this.counts.reports += kept.length;
    this.counts.increments += out.increments.length;
    for (const chipId of out.jobsNow.keys()) this.heardAt.set(chipId, now);
    const changed = this.opts.fleet.setJobs(out.jobsNow);
    if (changed.length > 0) this.opts.publish(changed);
    return { kept: kept.length, refused: refusedList };
  }

  /**
   * Rows of the calls within WRITE_GROUP_MS go to the store in one write (at fleet shape every agent
   * batch carries work: one write each was ~625 writer transactions a second). When it fails, each
   * call's ledger changes are taken back, newest first, and every call fails.
   */
  private write(out: LedgerOutcome): Promise<void> {
    let g = this.group;
    if (g === null) {
      const rows: WorkWrite & { [K in keyof WorkWrite]: WorkWrite[K][number][] } = { increments: [], buckets: [], counters: [], chipJobs: [] };
      const undos: (() => void)[] = [];
      let settle!: (err: unknown) => void;
      const done = new Promise<void>((resolve, reject) => (settle = (err) => (err === undefined ? resolve() : reject(err))));
      g = this.group = { rows, undos, done };
      setTimeout(() => {
        this.group = null;
        this.opts.store.writeWork(rows).then(
          () => settle(undefined),
          (err: unknown) => {
            for (let i = undos.length - 1; i >= 0; i--) undos[i]();
            settle(err ?? new Error('work write failed'));
          },
        );
      }, WRITE_GROUP_MS);
    }
    g.rows.increments.push(...out.increments);
    g.rows.buckets.push(...out.buckets);
    g.rows.counters.push(...out.counters);
    g.rows.chipJobs.push(...out.chipJobs);
    g.undos.push(out.undo);
    return g.done;
  }

  /** Clear the job of chips no report named for JOB_IDLE_MS. */
  clearIdle(now: number): void {
    const jobs = new Map<string, string | null>();
    for (const [chipId, at] of this.heardAt) {
      if (now - at < JOB_IDLE_MS) continue;
      jobs.set(chipId, null);
      this.heardAt.delete(chipId);
    }
    const changed = this.opts.fleet.setJobs(jobs);
    if (changed.length > 0) this.opts.publish(changed);
  }

  close(): void {
    clearInterval(this.sweep);
  }
}
