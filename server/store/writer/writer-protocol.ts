/** Messages between the hub and its SQLite writer thread. */
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
  /** Fold the whole sample log into chunks now. */
  | { op: 'flush'; id: number }
  | { op: 'close'; id: number }
  /** Run retention to completion now (tests, maintenance). */
  | { op: 'retention'; id: number; now: number };

export type FromWriter =
  /** Requests answered together (one group commit) arrive in one message, so they resolve in one turn. */
  | { ids: number[]; ok: true; logId?: number }
  | { ids: number[]; ok: false; error: string }
  /** Log rows up to this id are now in chunks. */
  | { event: 'compacted'; upToLogId: number }
  | { event: 'error'; error: string }
  /** A retention pass finished: rows deleted and pages given back. */
  | { event: 'retention'; deleted: number; freedPages: number };

export interface WriterSettings {
  path: string;
  /** Fold the log when its oldest row is this old (ms)... */
  compactAfterMs: number;
  /** ...or when it holds this many samples. */
  compactAtSamples: number;
  retention: Retention;
  /** How often the retention job runs (ms). */
  retentionEveryMs: number;
}
