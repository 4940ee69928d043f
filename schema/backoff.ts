/**
 * Capped exponential backoff: the one retry pacing of fleetscope. Agents and dashboards reconnect
 * to the hub with it (after a hub restart they all come back at once, so the jitter spreads them),
 * and agents restart their source children with it. Pure: the random source is passed in.
 */
export interface BackoffPolicy {
  /** Delay ceiling of the first attempt (ms). */
  initialMs: number;
  /** Largest ceiling (ms). */
  maxMs: number;
  /** Growth of the ceiling per attempt. */
  factor: number;
  /**
   * `equal`: uniform in [ceiling/2, ceiling] (spread out, never sooner than half the ceiling);
   * `none`: the ceiling itself.
   */
  jitter: 'equal' | 'none';
}

/** Reconnects to the hub. */
export const RECONNECT_BACKOFF: BackoffPolicy = { initialMs: 250, maxMs: 10_000, factor: 2, jitter: 'equal' };

/** The ceiling of attempt `attempt` (0-based): `initialMs · factor^attempt`, at most `maxMs` (an attempt that is not a number counts as the first). */
export function backoffCeiling(attempt: number, policy: BackoffPolicy): number {
  const n = Number.isNaN(attempt) ? 0 : Math.min(Math.max(attempt, 0), 30);
  return Math.min(policy.maxMs, policy.initialMs * policy.factor ** n);
}

/** Delay before attempt `attempt` (0-based). */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = backoffCeiling(attempt, policy);
  return policy.jitter === 'none' ? ceiling : Math.round(ceiling / 2 + random() * (ceiling / 2));
}
