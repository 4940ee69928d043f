/**
 * Turns at SQLite's write lock between the store's threads. SQLite lets a connection that finds
 * the lock taken sleep and retry (1, 2, 5, 10, 15, 20, 25 … ms): a commit that arrives while the
 * compactor writes would wait up to ~20 ms past the moment the lock frees. Both threads take a
 * turn here first; a waiting thread sleeps on the shared word and wakes as soon as the holder
 * lets go, so SQLite never sees the lock taken and a commit waits only for the write before it.
 * A thread that had the last turn and wants another while the other one waits steps back
 * briefly first, so a run of short transactions (a fold's) lets commits in between.
 */

const FREE = 0;
const HELD = 1;
/** Word indexes: the turn, and how many threads wait for it. */
const TURN = 0;
const WAITERS = 1;
/** Longest single sleep before the word is checked again (a safety net, should a wake-up be missed). */
const RECHECK_MS = 100;
/** How long a thread that just had the turn lets a waiting one go first. */
const STEP_BACK_MS = 1;

export class WriteTurns {
  private readonly word: Int32Array;
  private releasedAt = Number.NEGATIVE_INFINITY;

  /** `shared` from `WriteTurns.create()`, passed to every thread that writes. */
  constructor(readonly shared: SharedArrayBuffer) {
    this.word = new Int32Array(shared, 0, 2);
  }

  static create(): WriteTurns {
    return new WriteTurns(new SharedArrayBuffer(8));
  }

  /** Runs `fn` holding the turn (waits for it first). Not reentrant. */
  run<T>(fn: () => T): T {
    const w = this.word;
    if (Atomics.load(w, WAITERS) > 0 && performance.now() - this.releasedAt < STEP_BACK_MS) Atomics.wait(w, TURN, FREE, STEP_BACK_MS);
    if (Atomics.compareExchange(w, TURN, FREE, HELD) !== FREE) {
      Atomics.add(w, WAITERS, 1);
      while (Atomics.compareExchange(w, TURN, FREE, HELD) !== FREE) Atomics.wait(w, TURN, HELD, RECHECK_MS);
      Atomics.sub(w, WAITERS, 1);
    }
    try {
      return fn();
    } finally {
      Atomics.store(w, TURN, FREE);
      this.releasedAt = performance.now();
      Atomics.notify(w, TURN);
    }
  }
}
