/**
 * The worker branches on these. Anything else a handler throws counts as a transient
 * failure and is retried with backoff.
 */
export class PermanentJobError extends Error {
  override readonly name = 'PermanentJobError';
  constructor(
    message: string,
    /** Why, in a word the worker's report carries on (`reconnect`: its user must act); the queue does not read it. */
    readonly reason?: string,
  ) {
    super(message);
  }
}

export class RetryableJobError extends Error {
  override readonly name = 'RetryableJobError';
  constructor(
    message: string,
    /** Wait at least this long before the next attempt (a platform's reset hint). */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/**
 * A platform's rate limit is used up: the job waits for the reset without spending an
 * attempt, and with `pauseGroup` (an app-wide limit) every job of its group waits too.
 */
export class RateLimitJobError extends Error {
  override readonly name = 'RateLimitJobError';
  constructor(
    message: string,
    /** When the limit resets. */
    readonly resumeAt: Date,
    readonly pauseGroup = false,
  ) {
    super(message);
  }
}

/** The job's lease was taken over (stale reset, cancel): this worker must stop writing. */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
  constructor(readonly jobId: string) {
    super(`lease on job ${jobId} was lost; its newer state was kept`);
  }
}

export class JobTimeoutError extends Error {
  override readonly name = 'JobTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`job exceeded its ${timeoutMs} ms timeout`);
  }
}

export function errorMessage(error: unknown): string {
  const text = error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : String(error);
  return text.slice(0, 1000);
}
