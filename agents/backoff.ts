/** Capped exponential backoff with full jitter (pure: the random source is passed in). */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  factor: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 250, maxMs: 10_000, factor: 2 };

/** Delay before reconnect attempt `attempt` (0-based): uniform in [cap/2, cap]. */
export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxMs, policy.initialMs * policy.factor ** Math.min(attempt, 30));
  return Math.round(cap / 2 + random() * (cap / 2));
}
