/**
 * The hub's handle on its SQLite threads: the writer commits batches (resolving with the
 * sample-log id that holds them), the compactor folds the log into chunks and rollups and tells
 * when it has. Bounded: `backlog()` counts samples handed over and not yet committed.
 */
import type { Logger } from '../../logger.ts';
import { loadStoreThread } from './load-store-thread.ts';
import { ThreadRequests } from './thread-requests.ts';
import type { CompactorSettings, FromCompactor, ToCompactor, ToWriter, WriteBatch } from './writer-protocol.ts';

export interface WriterClient {
  /** Commit the batches all-or-nothing; resolves with the log id that holds them. */
  write(batches: WriteBatch[]): Promise<number>;
  /** Commit everything sent so far, then fold the whole log into chunks and rollups. */
  flush(): Promise<void>;
  /** Run retention to completion as of `now`. */
  enforceRetention(now: number): Promise<void>;
  backlog(): number;
  onCompacted(listener: (upToLogId: number) => void): void;
  close(): Promise<void>;
}

export async function startWriter(settings: CompactorSettings, log: Logger): Promise<WriterClient> {
  const [writerWorker, compactorWorker] = await Promise.all([
    loadStoreThread('writer', { path: settings.path }),
    loadStoreThread('compactor', { ...settings }),
  ]);
  const compactedListeners: ((id: number) => void)[] = [];
  const writer = new ThreadRequests(writerWorker, 'writer', log, () => {});
  const compactor = new ThreadRequests(compactorWorker, 'compactor', log, (e) => {
    const m = e as Exclude<FromCompactor, { ids: number[] }>;
    if (m.event === 'compacted') {
      log.debug('log folded', { upToLogId: m.upToLogId, lastStepPlanMs: m.planMs, lastStepWriteMs: m.writeMs });
      for (const l of compactedListeners) l(m.upToLogId);
    }
    else if (m.event === 'retention') log.info('retention pass', { deletedRows: m.deleted, freedPages: m.freedPages });
    else log.error('sqlite compactor', { err: m.error });
  });

  return {
    write: (batches) => writer.request<Extract<ToWriter, { op: 'write' }>>({ op: 'write', batches }, batches.reduce((n, b) => n + b.n, 0)),
    async flush() {
      await writer.request<Extract<ToWriter, { op: 'sync' }>>({ op: 'sync' });
      await compactor.request<Extract<ToCompactor, { op: 'fold' }>>({ op: 'fold' });
    },
    async enforceRetention(now) {
      await compactor.request<Extract<ToCompactor, { op: 'retention' }>>({ op: 'retention', now });
    },
    backlog: () => writer.inFlight,
    onCompacted: (l) => compactedListeners.push(l),
    async close() {
      if (writer.alive) await writer.request<Extract<ToWriter, { op: 'close' }>>({ op: 'close' });
      if (compactor.alive) await compactor.request<Extract<ToCompactor, { op: 'close' }>>({ op: 'close' });
      await Promise.all([writerWorker.terminate(), compactorWorker.terminate()]);
    },
  };
}
