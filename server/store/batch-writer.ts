/**
 * Writes sample batches through a dedicated SQLite writer thread (the embedded default) so that
 * commits never block the event loop that serves WebSockets and fan-out. Batches written in the
 * same turn share one transaction (group commit). The backlog is bounded by the callers' windows
 * and checked with `backlog()`; ingest withholds acks (and pauses sockets) above a high-water mark.
 */
import { Worker } from 'node:worker_threads';

export interface WriteItem {
  /** Rows in the insert statement's parameter order. */
  rows: unknown[][];
  /** Parameters of the agent-sequence update, or null. */
  mark: unknown[] | null;
}

export interface BatchWriter {
  /** Commit all items atomically (with whatever else is queued); resolves with rows stored per item. */
  write(items: WriteItem[]): Promise<number[]>;
  /** Rows queued or being committed. */
  backlog(): number;
  close(): Promise<void>;
}

export interface WriterSql {
  insertSampleSql: string;
  markSeqSql: string;
}

export function startWriterThread(path: string, sql: WriterSql): BatchWriter {
  const worker = new Worker(new URL('./sqlite-writer-worker.js', import.meta.url), { workerData: { path, ...sql } });
  const pending = new Map<number, { resolve(v: number[]): void; reject(e: Error): void; rows: number }>();
  let nextId = 1;
  let rowsInFlight = 0;
  let failed: Error | null = null;
  worker.on('message', (m: { id: number; ok: boolean; stored?: number[]; error?: string }) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    rowsInFlight -= p.rows;
    if (m.ok) p.resolve(m.stored!);
    else p.reject(new Error(`sqlite writer: ${m.error}`));
  });
  const failAll = (err: Error) => {
    failed = err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    rowsInFlight = 0;
  };
  worker.on('error', failAll);
  worker.on('exit', (code) => {
    if (pending.size) failAll(new Error(`sqlite writer thread exited (code ${code})`));
  });
  return {
    write(items) {
      if (failed) return Promise.reject(failed);
      const id = nextId++;
      const rows = items.reduce((n, it) => n + it.rows.length, 0);
      rowsInFlight += rows;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject, rows });
        worker.postMessage({ id, items });
      });
    },
    backlog: () => rowsInFlight,
    async close() {
      if (failed) return;
      const id = nextId++;
      await new Promise<void>((resolve) => {
        pending.set(id, { resolve: () => resolve(), reject: () => resolve(), rows: 0 });
        worker.postMessage({ op: 'close', id });
      });
      await worker.terminate();
    },
  };
}
