/**
 * Request/answer bookkeeping over one store thread: each request gets an id, answers resolve
 * them (several per message for a group commit), and a thread that dies rejects all pending.
 */
import type { Worker } from 'node:worker_threads';
import type { Logger } from '../../../common/logger.ts';
import type { Reply } from './writer-protocol.ts';

const NO_ROWS: number[] = [];

export class ThreadRequests {
  private readonly pending = new Map<number, { resolve(rows: number[]): void; reject(e: Error): void; samples: number }>();
  private nextId = 1;
  /** Samples in requests not yet answered. */
  inFlight = 0;
  private dead: Error | null = null;

  constructor(
    private readonly worker: Worker,
    private readonly name: string,
    log: Logger,
    onEvent: (m: object) => void,
  ) {
    worker.on('message', (m: Reply | { event: string }) => {
      if ('event' in m) return onEvent(m);
      for (let i = 0; i < m.ids.length; i++) {
        const p = this.pending.get(m.ids[i]);
        if (!p) continue;
        this.pending.delete(m.ids[i]);
        this.inFlight -= p.samples;
        if (m.ok) p.resolve(m.rows?.[i] ?? NO_ROWS);
        else p.reject(new Error(`sqlite ${name}: ${m.error}`));
      }
    });
    const fail = (err: Error) => {
      this.dead = err;
      log.error(`sqlite ${name} thread failed`, { err: err.message });
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      this.inFlight = 0;
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (!this.dead && this.pending.size) fail(new Error(`sqlite ${name} thread exited with code ${code}`));
    });
  }

  get alive(): boolean {
    return this.dead === null;
  }

  /** Send `msg` with a fresh id; resolves with the answer's log rows (none but for writes). */
  request<M extends { id: number }>(msg: Omit<M, 'id'>, samples = 0): Promise<number[]> {
    const { id, answered } = this.expect(samples);
    if (!this.dead) this.worker.postMessage({ ...msg, id });
    return answered;
  }

  /**
   * A fresh id whose answer is awaited, for a request the caller sends itself (several can
   * travel in one message, see `post`).
   */
  expect(samples = 0): { id: number; answered: Promise<number[]> } {
    const id = this.nextId++;
    if (this.dead) return { id, answered: Promise.reject(this.dead) };
    this.inFlight += samples;
    const answered = new Promise<number[]>((resolve, reject) => this.pending.set(id, { resolve, reject, samples }));
    return { id, answered };
  }

  /** Post a message carrying requests made with `expect`; `transfer` moves buffers instead of copying them. */
  post(msg: object, transfer?: ArrayBuffer[]): void {
    if (!this.dead) this.worker.postMessage(msg, transfer);
  }
}
