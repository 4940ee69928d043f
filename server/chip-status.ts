/** Pure status derivation: live, stale (no sample for 3 intervals) or offline (agent gone). */
import type { ChipStatus } from '../schema/sample.ts';

export const STALE_AFTER_INTERVALS = 3;

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
