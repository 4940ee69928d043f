/**
 * Group commit of the PostgreSQL sample log: insertBatches calls are not written one statement
 * each (a hub of 625 agents makes ~625 calls a second of 16 samples; one round trip each on a
 * pool of 8 connections cannot keep up, and calls wait for a connection until they time out).
 * Calls queue; at most `maxInFlight` statements run at once, each taking every call that waited
 * (up to `maxSamples` samples) into one unnest INSERT. Each call resolves once the statement
 * holding its samples committed, or rejects with that statement's error.
 */
import type { Sample } from '../../../schema/sample.ts';

/** Write these samples (backfill flags per sample) in one statement. */
export type LogWrite = (samples: readonly Sample[], backfill: readonly boolean[]) => Promise<void>;

interface Waiting {
  samples: readonly Sample[];
  backfill: readonly boolean[];
  resolve(): void;
  reject(err: unknown): void;
}

export class LogGroupCommit {
  private waiting: Waiting[] = [];
  private running = 0;
  private scheduled = false;

  constructor(
    private readonly write: LogWrite,
    private readonly maxInFlight = 3,
    private readonly maxSamples = 20_000,
  ) {}

  /** Statements running now. */
  get inFlight(): number {
    return this.running;
  }

  add(samples: readonly Sample[], backfill: readonly boolean[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ samples, backfill, resolve, reject });
      // Once the calls of this event-loop turn are in (several agents' batches come in one turn).
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  private pump(): void {
    while (this.running < this.maxInFlight && this.waiting.length > 0) {
      let n = 0;
      let k = 0;
      while (k < this.waiting.length && (k === 0 || n + this.waiting[k].samples.length <= this.maxSamples)) n += this.waiting[k++].samples.length;
      const group = this.waiting.splice(0, k);
      const samples = group.length === 1 ? group[0].samples : group.flatMap((g) => g.samples);
      const backfill = group.length === 1 ? group[0].backfill : group.flatMap((g) => g.backfill);
      this.running++;
      this.write(samples, backfill).then(
        () => {
          for (const g of group) g.resolve();
        },
        (err: unknown) => {
          for (const g of group) g.reject(err);
        },
      ).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }
}
