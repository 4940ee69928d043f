/**
 * The hub's handle on its SQLite threads: the writer commits batches (resolving with the
 * sample-log rows that hold them), the compactor folds the log into chunks and rollups and tells
 * when it has. Bounded: `backlog()` counts samples handed over and not yet committed.
 */
import type { Logger } from '../../../common/logger.ts';
import type { AgentRegistration } from '../store.ts';
import type { AlertEvent } from '../../alerts/alert-events.ts';
import type { StateWrite } from '../../alerts/alert-store.ts';
import type { WorkWrite } from '../../work/work-rows.ts';
import type { AgentEventWrite } from '../../agent-events/agent-event-rows.ts';
import { loadStoreThread } from './load-store-thread.ts';
import { ThreadRequests } from './thread-requests.ts';
import type { CompactorSettings, FoldedReading, FromCompactor, ToCompactor, ToWriter, WriteBatch, WriteRequest, WriterSettings } from './writer-protocol.ts';
import { WriteTurns } from './write-turns.ts';
import { foldChannel, type FoldEvent } from '../../telemetry/telemetry-channels.ts';

export interface WriterClient {
  /** Commit an agent's inventory (after the writes sent before it). */
  registerAgent(reg: AgentRegistration, now: number): Promise<void>;
  /** Commit an admin's chip move (after the writes sent before it). */
  moveChip(chipId: string, agentId: string, now: number): Promise<void>;
  /** Commit alerting's state rows and transitions (after the writes sent before them). */
  writeAlerts(states: readonly StateWrite[], events: readonly AlertEvent[], now: number): Promise<void>;
  /** Work counters' rows, committed in turn with everything sent before. */
  writeWork(work: WorkWrite): Promise<void>;
  /** Agent connection events, committed in turn with everything sent before. */
  writeAgentEvents(events: readonly AgentEventWrite[]): Promise<void>;
  /** Commit the batches all-or-nothing; resolves with the log row that holds each. */
  write(batches: WriteBatch[]): Promise<number[]>;
  /** Commit everything sent so far, then fold the whole log into chunks and rollups. */
  flush(): Promise<void>;
  /** Run retention to completion as of `now`. */
  enforceRetention(now: number): Promise<void>;
  /** Fold the whole log, then seal the hours of the 1-hour tier that are over at `now`. */
  sealHours(now: number): Promise<void>;
  backlog(): number;
  onCompacted(listener: (upToLogId: number, readings: FoldedReading[]) => void): void;
  close(): Promise<void>;
}

export async function startWriter(settings: Omit<CompactorSettings, 'writeTurns'>, log: Logger): Promise<WriterClient> {
  const writeTurns = WriteTurns.create().shared;
  const [writerWorker, compactorWorker] = await Promise.all([
    loadStoreThread('writer', { path: settings.path, writeTurns } satisfies WriterSettings),
    loadStoreThread('compactor', { ...settings, writeTurns } satisfies CompactorSettings),
  ]);
  const compactedListeners: ((id: number, readings: FoldedReading[]) => void)[] = [];
  const writer = new ThreadRequests(writerWorker, 'writer', log, () => {});
  const compactor = new ThreadRequests(compactorWorker, 'compactor', log, (e) => {
    const m = e as Exclude<FromCompactor, { ids: number[] }>;
    if (m.event === 'compacted') {
      log.debug('log folded', { upToLogId: m.upToLogId, lastStepPlanMs: m.planMs, lastStepWriteMs: m.writeMs });
      for (const l of compactedListeners) l(m.upToLogId, m.readings);
      if (foldChannel.hasSubscribers) foldChannel.publish({ upToLogId: m.upToLogId, planMs: m.planMs, writeMs: m.writeMs } satisfies FoldEvent);
    }
    else if (m.event === 'retention') log.info('retention pass', { deletedRows: m.deleted, freedPages: m.freedPages });
    else log.error('sqlite compactor', { err: m.error });
  });

  // Writes of one turn travel to the writer in one message, their records in one buffer:
  // posting each batch on its own (a structured clone per record) costs the event loop more than
  // encoding it. Anything else sent to the writer goes after the writes queued before it.
  let queued: { request: WriteRequest; records: Uint8Array[] }[] = [];
  const sendQueued = () => {
    if (!queued.length) return;
    // One buffer of its own (never a slice of Node's shared pool), moved to the writer, not copied.
    let bytes = 0;
    for (const q of queued) for (const r of q.records) bytes += r.byteLength;
    const data = new Uint8Array(bytes);
    let at = 0;
    for (const q of queued) for (const r of q.records) (data.set(r, at), (at += r.byteLength));
    writer.post({ op: 'write', requests: queued.map((q) => q.request), data } satisfies ToWriter, [data.buffer]);
    queued = [];
  };

  return {
    write(batches) {
      const { id, answered } = writer.expect(batches.reduce((n, b) => n + b.n, 0));
      if (!queued.length) setImmediate(sendQueued);
      queued.push({
        request: { id, batches: batches.map((b) => ({ n: b.n, bytes: b.record.byteLength })) },
        records: batches.map((b) => b.record),
      });
      return answered;
    },
    async registerAgent(reg, now) {
      sendQueued();
      await writer.request<Extract<ToWriter, { op: 'register' }>>({ op: 'register', reg, now });
    },
    async moveChip(chipId, agentId, now) {
      sendQueued();
      await writer.request<Extract<ToWriter, { op: 'move-chip' }>>({ op: 'move-chip', chipId, agentId, now });
    },
    async writeAlerts(states, events, now) {
      sendQueued();
      await writer.request<Extract<ToWriter, { op: 'alerts' }>>({ op: 'alerts', states, events, now });
    },
    async writeWork(work) {
      sendQueued();
      // Only the rows cross to the thread (a caller's object may carry more, e.g. a ledger's undo).
      const { increments, buckets, counters, chipJobs } = work;
      await writer.request<Extract<ToWriter, { op: 'work' }>>({ op: 'work', work: { increments, buckets, counters, chipJobs } });
    },
    async writeAgentEvents(events) {
      sendQueued();
      await writer.request<Extract<ToWriter, { op: 'agent-events' }>>({ op: 'agent-events', events });
    },
    async flush() {
      sendQueued();
      await writer.request<Extract<ToWriter, { op: 'sync' }>>({ op: 'sync' });
      await compactor.request<Extract<ToCompactor, { op: 'fold' }>>({ op: 'fold' });
    },
    async enforceRetention(now) {
      await compactor.request<Extract<ToCompactor, { op: 'retention' }>>({ op: 'retention', now });
    },
    async sealHours(now) {
      await compactor.request<Extract<ToCompactor, { op: 'seal' }>>({ op: 'seal', now });
    },
    backlog: () => writer.inFlight,
    onCompacted: (l) => compactedListeners.push(l),
    async close() {
      sendQueued();
      if (writer.alive) await writer.request<Extract<ToWriter, { op: 'close' }>>({ op: 'close' });
      if (compactor.alive) await compactor.request<Extract<ToCompactor, { op: 'close' }>>({ op: 'close' });
      await Promise.all([writerWorker.terminate(), compactorWorker.terminate()]);
    },
  };
}
