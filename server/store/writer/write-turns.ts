/**
 * Turns at SQLite's write lock between the store's threads. SQLite lets a connection that finds
 * the lock taken sleep and retry (1, 2, 5, 10, 15, 20, 25 … ms): a commit that arrives while the
 * compactor writes would wait up to ~20 ms past the moment the lock frees. Both threads take a
 * turn here first; a waiting thread sleeps on the shared word and wakes as soon as the holder
 * lets go, so SQLite never sees the lock taken and a commit waits only for the write before it.
 */

const FREE = 0;
const HELD = 1;
/** Longest single sleep before the word is checked again (a safety net, should a wake-up be missed). */
const RECHECK_MS = 100;

export class WriteTurns {
  private readonly word: Int32Array;

  /** `shared` from `WriteTurns.create()`, passed to every thread that writes. */
  constructor(readonly shared: SharedArrayBuffer) {
    this.word = new Int32Array(shared, 0, 1);
  }

  static create(): WriteTurns {
    return new WriteTurns(new SharedArrayBuffer(4));
  }

  /** Runs `fn` holding the turn (waits for it first). Not reentrant. */
  run<T>(fn: () => T): T {
    while (Atomics.compareExchange(this.word, 0, FREE, HELD) !== FREE) Atomics.wait(this.word, 0, HELD, RECHECK_MS);
    try {
      return fn();
    } finally {
      Atomics.store(this.word, 0, FREE);
      Atomics.notify(this.word, 0);
    }
  }
}
