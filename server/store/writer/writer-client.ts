/**
 * The hub's handle on its SQLite writer thread: sends batches, resolves when they are committed
 * (with the sample-log id that holds them), and tells when log rows have been folded into chunks.
 * Bounded: `backlog()` counts samples handed over and not yet committed.
 */
import type { Worker } from 'node:worker_threads';
import type { Logger } from '../../logger.ts';
import { loadWriterThread } from './load-writer-thread.ts';
import type { FromWriter, ToWriter, WriteBatch, WriterSettings } from './writer-protocol.ts';

export interface WriterClient {
  /** Commit the batches all-or-nothing; resolves with the log id that holds them. */
  write(batches: WriteBatch[]): Promise<number>;
  /** Fold the whole log into chunks now. */
  flush(): Promise<void>;
  /** Run retention to completion as of `now`. */
  enforceRetention(now: number): Promise<void>;
  backlog(): number;
  onCompacted(listener: (upToLogId: number) => void): void;
  close(): Promise<void>;
}

export async function startWriter(settings: WriterSettings, log: Logger): Promise<WriterClient> {
  const worker: Worker = await loadWriterThread({ ...settings });
  const pending = new Map<number, { resolve(logId: number): void; reject(e: Error): void; samples: number }>();
  const compactedListeners: ((id: number) => void)[] = [];
  let nextId = 1;
  let inFlight = 0;
  let dead: Error | null = null;

  worker.on('message', (m: FromWriter) => {
    if ('event' in m) {
      if (m.event === 'compacted') for (const l of compactedListeners) l(m.upToLogId);
      else if (m.event === 'retention') log.info('retention pass', { deletedRows: m.deleted, freedPages: m.freedPages });
      else log.error('sqlite writer', { err: m.error });
      return;
    }
    for (const id of m.ids) {
      const p = pending.get(id);
      if (!p) continue;
      pending.delete(id);
      inFlight -= p.samples;
      if (m.ok) p.resolve(m.logId ?? 0);
      else p.reject(new Error(`sqlite writer: ${m.error}`));
    }
  });
  const fail = (err: Error) => {
    dead = err;
    log.error('sqlite writer thread failed', { err: err.message });
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    inFlight = 0;
  };
  worker.on('error', fail);
  worker.on('exit', (code) => {
    if (!dead && pending.size) fail(new Error(`sqlite writer thread exited with code ${code}`));
  });

  const request = (msg: ToWriter, samples: number): Promise<number> => {
    if (dead) return Promise.reject(dead);
    inFlight += samples;
    return new Promise((resolve, reject) => {
      pending.set(msg.id, { resolve, reject, samples });
      worker.postMessage(msg);
    });
  };

  return {
    write: (batches) => request({ op: 'write', id: nextId++, batches }, batches.reduce((n, b) => n + b.n, 0)),
    flush: async () => {
      await request({ op: 'flush', id: nextId++ }, 0);
    },
    enforceRetention: async (now) => {
      await request({ op: 'retention', id: nextId++, now }, 0);
    },
    backlog: () => inFlight,
    onCompacted: (l) => compactedListeners.push(l),
    async close() {
      if (!dead) await request({ op: 'close', id: nextId++ }, 0);
      await worker.terminate();
    },
  };
}
