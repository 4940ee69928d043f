/**
 * Write-behind for the hub's small PostgreSQL tables (tokens, rules, receivers, silences): their
 * readers answer from memory at once, the writes go to the server one after another, in order.
 * `flush()` resolves once every write queued so far is committed (rejects when the last failed);
 * `generation` and `pending` let a reload of the cache tell whether local writes raced it.
 */
export class WriteQueue {
  private tail: Promise<void> = Promise.resolve();
  private last: Promise<unknown> = Promise.resolve();
  /** Writes queued and not finished. */
  pending = 0;
  /** Bumped by every write queued. */
  generation = 0;

  constructor(private readonly onError: (err: unknown) => void) {}

  push(op: () => Promise<unknown>): void {
    this.pending++;
    this.generation++;
    const run = this.tail.then(op);
    this.last = run;
    this.tail = run.then(
      () => {
        this.pending--;
      },
      (err: unknown) => {
        this.pending--;
        this.onError(err);
      },
    );
  }

  async flush(): Promise<void> {
    await this.last;
  }

  /** Every queued write finished (failed ones included). */
  settled(): Promise<void> {
    return this.tail;
  }
}
