/**
 * The store interface the hub talks to. Async so an adapter may run in a worker thread or talk
 * to a remote database; the SQLite adapter is the embedded default.
 */
import type { ChipInfo, HostInfo, Sample } from '../../schema/sample.ts';

export interface AgentRegistration {
  agentId: string;
  agentVersion: string;
  intervalMs: number;
  host: HostInfo;
  chips: ChipInfo[];
}

/** A chip as stored: inventory plus where it lives. */
export interface StoredChip extends ChipInfo {
  agentId: string;
  host: string;
  instanceType: string | null;
  intervalMs: number;
  lastSeen: number;
}

export interface InsertResult {
  /** Rows newly written (a resent sample already stored is not counted). */
  stored: number;
}

export interface Store {
  /** Record an agent's hello: host, agent and chip inventory (upsert). */
  registerAgent(reg: AgentRegistration, now: number): Promise<void>;
  /** Commit one batch atomically; idempotent for samples already stored. */
  insertBatch(agentId: string, seq: number, samples: Sample[]): Promise<InsertResult>;
  listChips(): Promise<StoredChip[]>;
  /** Latest stored sample of each chip. */
  latestSamples(): Promise<Map<string, Sample>>;
  /** Raw samples of one chip with from <= ts <= to, ascending, at most `limit`. */
  chipSamples(chipId: string, from: number, to: number, limit: number): Promise<Sample[]>;
  countSamples(): Promise<number>;
  close(): Promise<void>;
}
