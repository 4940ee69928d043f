/**
 * What the notifier and the delivery worker need of an outbox, met by the SQLite Outbox
 * (outbox.ts, synchronous) and the PostgreSQL one (pg-outbox.ts, promises): `Maybe<T>` is either.
 * `after` continues with a value at once when it is one, so the SQLite path stays synchronous.
 */
import type { NewNotification, OutboxRow } from './outbox.ts';

export type Maybe<T> = T | Promise<T>;

export interface OutboxApi {
  /** Its id, or null when this (receiver, key) is there already. */
  enqueue(n: NewNotification, now?: number): Maybe<number | null>;
  /** Replaces the body of a row not yet attempted; false once it is being sent. */
  updateOpen(id: number, body: string): Maybe<boolean>;
  /** The oldest pending row of each receiver, whether due or not. */
  heads(): Maybe<OutboxRow[]>;
  /** Takes a row for an attempt (attempts + 1, due again at `leaseUntil`); false when another took it. */
  claim(row: Pick<OutboxRow, 'id' | 'attempts'>, leaseUntil: number): Maybe<boolean>;
  markDone(id: number, now?: number): Maybe<void>;
  markRetry(id: number, at: number, error: string | null): Maybe<void>;
  markDead(id: number, error: string, now?: number): Maybe<void>;
  deadLetters(limit?: number): Maybe<OutboxRow[]>;
  retryDead(id: number, now?: number): Maybe<OutboxRow | null>;
  /** Pending rows of a receiver (PostgreSQL: as of the last look at the outbox). */
  pendingCount(receiver: string): number;
  prune(doneBefore: number, deadBefore: number): Maybe<number>;
  close(): Maybe<void>;
}

/** `f(v)`, at once when `v` is no promise. */
export function after<T, R>(v: Maybe<T>, f: (t: T) => R): R | Promise<Awaited<R>> {
  return v instanceof Promise ? (v.then(f) as Promise<Awaited<R>>) : f(v);
}

/** `f` on each item in turn, waiting for the ones that return a promise; synchronous while none does. */
export function eachInTurn<T>(items: readonly T[], f: (t: T) => unknown, from = 0): void | Promise<void> {
  for (let i = from; i < items.length; i++) {
    const r = f(items[i]!);
    if (r instanceof Promise) return r.then(() => eachInTurn(items, f, i + 1));
  }
}
