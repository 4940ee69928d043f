/**
 * The store interface the hub talks to. Async so an adapter may run in a worker thread or talk
 * to a remote database; the SQLite adapter is the embedded default.
 */
import type { ChipInfo, HostInfo, Sample } from '../../schema/sample.ts';
import type { RowColumns } from '../rollups/rollup-columns.ts';
import type { RollupBucket } from '../rollups/rollup-bucket.ts';
import type { RollupField, RollupTier } from '../rollups/rollup-fields.ts';
import type { AlertEvent } from '../alerts/alert-events.ts';
import type { StateWrite } from '../alerts/alert-store.ts';
import type { WorkReads, WorkWrite } from '../work/work-rows.ts';
import type { AgentEventRow, AgentEventWrite } from '../agent-events/agent-event-rows.ts';
import type { SampleKeys } from './unfolded-log-index.ts';

export interface AgentRegistration {
  agentId: string;
  agentVersion: string;
  intervalMs: number;
  host: HostInfo;
  chips: ChipInfo[];
  /**
   * The token of the connection that registers the agent: a new agent id is bound to it, and an id
   * bound to null is bound to it from now on (a bound id keeps its token). Absent (line-protocol
   * hosts) or null: the binding is left as it is, null for a new id.
   */
  tokenId?: string | null;
}

/** An agent id as stored: the token it is bound to, and whether it is a line-protocol host's. */
export interface StoredAgent {
  agentId: string;
  hostname: string;
  version: string;
  tokenId: string | null;
}

/** A chip as stored: inventory plus where it lives. */
export interface StoredChip extends ChipInfo {
  agentId: string;
  host: string;
  instanceType: string | null;
  intervalMs: number;
  lastSeen: number;
}

/** A batch already encoded as a sample record, and the chip id and ts of each of its samples. */
export interface RecordBatch {
  record: Uint8Array;
  keys: SampleKeys;
}

export interface InsertResult {
  /** Samples accepted. Duplicates of stored samples are accepted and dropped when the log is folded. */
  stored: number;
}

/** One batch to store: samples from an agent (seq null when the source has no sequence, e.g. HTTP writes). */
export interface BatchToStore {
  agentId: string;
  seq: number | null;
  samples: Sample[];
  /** Store them flagged as backfill (whatever flags the samples carry). */
  backfill?: boolean;
}

/** How long each tier keeps data (ms). */
export interface Retention {
  rawMs: number;
  m1Ms: number;
  h1Ms: number;
}

export const DEFAULT_RETENTION: Retention = {
  rawMs: 48 * 3_600_000,
  m1Ms: 30 * 86_400_000,
  h1Ms: 2 * 365 * 86_400_000,
};

export interface Store extends WorkReads {
  /** Retention in force. */
  readonly retention: Retention;
  /**
   * Record an agent's hello: host, agent and chip inventory (upsert). A chip already stored under
   * another agent is left with that agent (only `moveChip` moves chips).
   */
  registerAgent(reg: AgentRegistration, now: number): Promise<void>;
  /** The stored agent of this id, or null when the id was never registered. */
  getAgent(agentId: string): Promise<StoredAgent | null>;
  /** The token each stored agent id is bound to (null: none), one entry per agent id. */
  agentTokenIds(): Promise<(string | null)[]>;
  /** Give a chip to another (registered) agent, on that agent's host; the chip as now stored, or null when chip or agent is unknown. */
  moveChip(chipId: string, agentId: string, now: number): Promise<StoredChip | null>;
  /** Commit one batch atomically; idempotent: a (chip, ts) already stored is kept once. */
  insertBatch(agentId: string, seq: number, samples: Sample[], extra?: Pick<BatchToStore, 'backfill'>): Promise<InsertResult>;
  /**
   * Commit one batch given as a sample record (server/store/sample-records.ts) with its samples'
   * keys, as insertBatch would commit its samples. Optional: a store without it is given samples.
   */
  insertRecord?(agentId: string, seq: number, batch: RecordBatch): Promise<InsertResult>;
  /** Commit several batches all-or-nothing (one transaction); results in the same order. */
  insertBatches(batches: BatchToStore[]): Promise<InsertResult[]>;
  /** Sample rows handed to the writer and not yet committed (ingest withholds acks above a limit). */
  writeBacklog(): number;
  /**
   * What waits to be folded (self-observability, read when /metrics is scraped; cheap): samples
   * committed to the sample log and not yet folded into chunks and rollups, and when the oldest
   * of them was committed (epoch ms; null when none waits or it is not known). Optional.
   */
  foldBacklog?(): { samples: number; oldestMs: number | null };
  listChips(): Promise<StoredChip[]>;
  /** Latest stored sample of each chip. */
  latestSamples(): Promise<Map<string, Sample>>;
  /** Raw samples of one chip with from <= ts <= to, ascending, at most `limit`. */
  chipSamples(chipId: string, from: number, to: number, limit: number): Promise<Sample[]>;
  /**
   * Rollup buckets of a tier, per key (chip id, or fleetKey(vendor, model) for a fleet group),
   * with from <= bucket start <= to, ascending. Keys without data are absent from the map.
   * Includes samples not yet folded into the tiers. With `fields`, only those field stats are
   * filled in (others are null), and energy only when `energyJ` is among them.
   */
  rollups(tier: RollupTier, keys: readonly string[], from: number, to: number, fields?: readonly (RollupField | 'energyJ')[]): Promise<Map<string, RollupBucket[]>>;
  /**
   * The same buckets handed to `sink` column-wise, one stored row at a time, without building
   * bucket objects (long series). Buckets outside [from, to] may be passed, and a start may come
   * again (samples not yet folded, after the stored rows): the sink cuts and merges.
   */
  rollupsInto(tier: RollupTier, keys: readonly string[], from: number, to: number, fields: readonly (RollupField | 'energyJ')[] | undefined, sink: (key: string, cols: RowColumns) => void): Promise<void>;
  /** Drop data older than the retention of each tier now, in small steps (also runs periodically). */
  enforceRetention(now?: number): Promise<void>;
  /** Distinct samples stored (folds the log first). */
  countSamples(): Promise<number>;
  /**
   * Commit alerting's state rows and transitions (server/alerts/alert-writes.ts) on the writer's
   * connection, in turn with the sample commits, off the caller's event loop.
   */
  writeAlerts(states: readonly StateWrite[], events: readonly AlertEvent[], now: number): Promise<void>;
  /** Commit work counters' rows (server/work/work-rows.ts) in turn with the sample commits. */
  writeWork(work: WorkWrite): Promise<void>;
  /** Fold everything committed so far into long-term storage. */
  flush(): Promise<void>;
  close(): Promise<void>;
  /**
   * Record agent connection events (server/agent-events), in turn with the other writes (one
   * statement per call: the recorder hands over what arrived within ~100 ms together). Kept as
   * long as the 1-hour tier (`enforceRetention`).
   */
  recordAgentEvents(events: readonly AgentEventWrite[]): Promise<void>;
  /** An agent's connection events with from <= ts <= to, ascending (ties in the order recorded), at most `limit` (default 10,000). */
  agentEvents(agentId: string, from: number, to: number, limit?: number): Promise<AgentEventRow[]>;
}
