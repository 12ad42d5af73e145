export interface RetryPolicy {
  /** Delay before the second attempt; doubles each attempt. Default 60 s. */
  baseMs: number;
  /** Upper bound for any delay. Default 1 h. */
  maxMs: number;
  /** Attempts before a job fails for good. Default 3. */
  maxAttempts: number;
}

/**
 * Exponential backoff with "equal jitter": half the delay is fixed, half random, so
 * retries spread out but never come back sooner than half the nominal delay.
 * `attempt` is the attempt that just failed (1 for the first run).
 */
export function backoffDelayMs(attempt: number, policy: Pick<RetryPolicy, 'baseMs' | 'maxMs'>, random = Math.random): number {
  const nominal = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(nominal / 2 + random() * (nominal / 2));
}

export function backoffBoundsMs(attempt: number, policy: Pick<RetryPolicy, 'baseMs' | 'maxMs'>): { min: number; max: number } {
  return { min: backoffDelayMs(attempt, policy, () => 0), max: backoffDelayMs(attempt, policy, () => 1) };
}
