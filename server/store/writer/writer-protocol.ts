/** Messages between the hub and its SQLite threads: the writer (commits) and the compactor (folding, retention). */
import type { Sample } from '../../../schema/sample.ts';
import type { AgentRegistration, Retention } from '../store.ts';
import type { AlertEvent } from '../../alerts/alert-events.ts';
import type { StateWrite } from '../../alerts/alert-store.ts';
import type { WorkWrite } from '../../work/work-rows.ts';
import type { AgentEventWrite } from '../../agent-events/agent-event-rows.ts';

export interface WriteBatch {
  agentId: string;
  /** The agent's batch sequence number, or null (HTTP writes). */
  seq: number | null;
  /** The samples as one binary sample record (sample-records.ts). */
  record: Uint8Array;
  /** Number of samples in it. */
  n: number;
}

/** Agents' batches per sample-log row, at most (writer-thread.ts). */
export const ROW_BATCHES = 16;

/** One write request inside a `write` message (its batches' records are in the message's `data`, `bytes` each, in order). */
export interface WriteRequest {
  id: number;
  /** Each batch's sample count and record length: all the writer needs of it. */
  batches: { n: number; bytes: number }[];
}

/** One entry of a sample-log row written as JSON text by earlier versions (still read when folding). */
export interface LegacyLogEntry {
  /** 1 = backfill */
  b: 0 | 1;
  f: { samples: Sample[] };
}

export type ToWriter =
  /** The write requests of one turn; `data` is their records back to back, in order. */
  | { op: 'write'; requests: WriteRequest[]; data: Uint8Array }
  /** An agent's inventory, committed after everything sent before it. */
  | { op: 'register'; id: number; reg: AgentRegistration; now: number }
  /** An admin's chip move (to `agentId`, on its host), committed after everything sent before it. */
  | { op: 'move-chip'; id: number; chipId: string; agentId: string; now: number }
  /** Alerting's state rows and transitions (alert-writes.ts), committed after everything sent before them. */
  | { op: 'alerts'; id: number; states: readonly StateWrite[]; events: readonly AlertEvent[]; now: number }
  /** Work counters' rows (server/work/work-rows.ts), committed after everything sent before them. */
  | { op: 'work'; id: number; work: WorkWrite }
  /** Agent connection events (server/agent-events), committed after everything sent before them. */
  | { op: 'agent-events'; id: number; events: readonly AgentEventWrite[] }
  /** Answered once everything sent before it is committed. */
  | { op: 'sync'; id: number }
  | { op: 'close'; id: number };

export type ToCompactor =
  /** Fold the whole sample log into chunks and rollups now. */
  | { op: 'fold'; id: number }
  /** Run retention to completion as of `now`. */
  | { op: 'retention'; id: number; now: number }
  /** Fold the whole sample log, then seal the hours of the 1-hour tier that are over at `now` (hour-seal.ts). */
  | { op: 'seal'; id: number; now: number }
  /** Fold everything, then close. */
  | { op: 'close'; id: number };

/**
 * Answers: requests answered together (one group commit) arrive in one message, so they resolve in
 * one turn. `rows` (writes): for each of `ids`, the sample-log row of each of its batches.
 * `spent`: the committed writes' record buffers, handed back to be freed on the hub's thread.
 */
export type Reply = { ids: number[]; ok: true; rows?: number[][]; spent?: ArrayBuffer[] } | { ids: number[]; ok: false; error: string };

export type FromWriter = Reply;

/** A folded chip's newest stored energy reading: [chipId, ts, joules]. */
export type FoldedReading = [string, number, number];

export type FromCompactor =
  | Reply
  /**
   * Log rows up to this id are now in chunks and rollups; the newest stored energy reading of
   * each chip folded since the last such event ([chipId, ts, joules]); timing of the last step.
   */
  | { event: 'compacted'; upToLogId: number; readings: FoldedReading[]; planMs: number; writeMs: number }
  | { event: 'error'; error: string }
  /** A retention pass finished: rows deleted and pages given back. */
  | { event: 'retention'; deleted: number; freedPages: number };

export interface WriterSettings {
  path: string;
  /** `WriteTurns` shared with the compactor. */
  writeTurns: SharedArrayBuffer;
}

export interface CompactorSettings {
  path: string;
  /** `WriteTurns` shared with the writer. */
  writeTurns: SharedArrayBuffer;
  /** Fold the log when its oldest row is this old (ms)... */
  compactAfterMs: number;
  /** ...or when it holds this many samples. */
  compactAtSamples: number;
  retention: Retention;
  /** How often the retention job runs (ms). */
  retentionEveryMs: number;
  /** OS niceness of the compactor thread (0 = as the hub; Linux only). */
  niceness: number;
}
