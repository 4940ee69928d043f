/** Pure status derivation: live, stale (no sample for 3 intervals) or offline (agent gone). */
import type { ChipStatus } from '../schema/sample.ts';

export const STALE_AFTER_INTERVALS = 3;

/**
 * The interval assumed for push agents (line-protocol hosts, `lp-<host>`): they hold no
 * connection, so they count as connected and a chip turns stale after
 * STALE_AFTER_INTERVALS x 10 s = 30 s without writes (10 s is Telegraf's default interval).
 */
export const PUSH_AGENT_INTERVAL_MS = 10_000;

export interface StatusInput {
  /** Is the chip's agent connected right now? */
  agentConnected: boolean;
  /** When the hub last received a sample for the chip (hub clock, ms), or null. */
  lastSampleAt: number | null;
  intervalMs: number;
}

export function deriveStatus(input: StatusInput, now: number): ChipStatus {
  if (!input.agentConnected) return 'offline';
  if (input.lastSampleAt === null) return 'stale';
  return now - input.lastSampleAt > STALE_AFTER_INTERVALS * input.intervalMs ? 'stale' : 'live';
}
