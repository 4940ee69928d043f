/** Messages between the hub and its SQLite threads: the writer (commits) and the compactor (folding, retention). */
import type { Sample } from '../../../schema/sample.ts';
import type { Retention } from '../store.ts';

export interface WriteBatch {
  agentId: string;
  /** The agent's batch sequence number, or null (HTTP writes). */
  seq: number | null;
  /** JSON text of an object with a `samples` array: the agent's frame as received, or built by the hub. */
  json: string;
  /** Number of samples in it. */
  n: number;
  /** Store the samples with the backfill flag. */
  backfill: boolean;
}

/** One entry of a sample-log row's JSON array. */
export interface LogEntry {
  /** 1 = backfill */
  b: 0 | 1;
  f: { samples: Sample[] };
}

export type ToWriter =
  | { op: 'write'; id: number; batches: WriteBatch[] }
  /** Answered once everything sent before it is committed. */
  | { op: 'sync'; id: number }
  | { op: 'close'; id: number };

export type ToCompactor =
  /** Fold the whole sample log into chunks and rollups now. */
  | { op: 'fold'; id: number }
  /** Run retention to completion as of `now`. */
  | { op: 'retention'; id: number; now: number }
  /** Fold everything, then close. */
  | { op: 'close'; id: number };

/** Answers: requests answered together (one group commit) arrive in one message, so they resolve in one turn. */
export type Reply = { ids: number[]; ok: true; logId?: number } | { ids: number[]; ok: false; error: string };

export type FromWriter = Reply;

export type FromCompactor =
  | Reply
  /** Log rows up to this id are now in chunks and rollups; timing of the last step. */
  | { event: 'compacted'; upToLogId: number; planMs: number; writeMs: number }
  | { event: 'error'; error: string }
  /** A retention pass finished: rows deleted and pages given back. */
  | { event: 'retention'; deleted: number; freedPages: number };

export interface WriterSettings {
  path: string;
}

export interface CompactorSettings {
  path: string;
  /** Fold the log when its oldest row is this old (ms)... */
  compactAfterMs: number;
  /** ...or when it holds this many samples. */
  compactAtSamples: number;
  retention: Retention;
  /** How often the retention job runs (ms). */
  retentionEveryMs: number;
}
