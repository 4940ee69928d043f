/** The time ranges the chip detail offers, and how a history answer's step and tier are worded. */
import { LIVE_WINDOW_MS } from '../../schema/protocol-constants.ts';

export type RangeKey = 'live' | '1h' | '6h' | '24h' | '7d' | '30d';

export interface RangeChoice {
  key: RangeKey;
  /** How far back it reaches (ms). */
  ms: number;
  /** Button label. */
  label: string;
  /** Tooltip. */
  title: string;
}

export const RANGES: readonly RangeChoice[] = [
  { key: 'live', ms: LIVE_WINDOW_MS, label: `Live (${LIVE_WINDOW_MS / 60_000} min)`, title: `The last ${LIVE_WINDOW_MS / 60_000} minutes, streamed live` },
  { key: '1h', ms: 3_600_000, label: '1 h', title: 'The last hour, from history' },
  { key: '6h', ms: 6 * 3_600_000, label: '6 h', title: 'The last 6 hours, from history' },
  { key: '24h', ms: 24 * 3_600_000, label: '24 h', title: 'The last 24 hours, from history' },
  { key: '7d', ms: 7 * 86_400_000, label: '7 d', title: 'The last 7 days, from history' },
  { key: '30d', ms: 30 * 86_400_000, label: '30 d', title: 'The last 30 days, from history' },
];

export function isRangeKey(v: unknown): v is RangeKey {
  return typeof v === 'string' && RANGES.some((r) => r.key === v);
}

/** How far back a range reaches (ms). */
export function rangeMs(key: RangeKey): number {
  return RANGES.find((r) => r.key === key)?.ms ?? 0;
}

/** The label of a range key ("6 h"). */
export function rangeLabel(key: RangeKey): string {
  return RANGES.find((r) => r.key === key)?.label ?? key;
}

const UNITS: [number, string][] = [
  [86_400_000, 'day'],
  [3_600_000, 'hour'],
  [60_000, 'minute'],
  [1000, 'second'],
];

/** A step as an adjective: 30000 → "30-second", 60000 → "1-minute", 900000 → "15-minute". */
export function stepWords(stepMs: number): string {
  for (const [ms, unit] of UNITS) {
    if (stepMs >= ms && stepMs % ms === 0) return `${stepMs / ms}-${unit}`;
  }
  return `${stepMs} ms`;
}

/** "1m" → "1m tier"; "raw" → "raw tier". */
export function tierWords(tier: string): string {
  return `${tier} tier`;
}
