/**
 * Time limits that only make sense together: the functions' timeouts (index.ts reads them
 * from here), the worker's budget, one job's timeout and lease, and how long a job may run
 * before reset_stale_jobs takes it back. Checked at startup (config problems, health 503,
 * worker refuses) and for request bodies that carry one of them.
 */

/** Cloud Functions timeouts, seconds. */
export const FUNCTION_TIMEOUT_SECONDS = { cron: 120, worker: 540, schedule: 60, process: 540, health: 30, status: 30, hub: 60, admin: 60, startRequestedJobs: 540 } as const;

/**
 * Instances at most of the functions that call the platforms. Platform pacing (requests in
 * flight and per second) is kept per instance, so these bound the platform-wide load: at
 * most 2 + 2 + 4 = 8 instances, 8 × 4 = 32 requests in flight per platform (docs/architecture.md,
 * "Capacity"). Each instance serves up to 80 concurrent calls, so the worker's eight
 * overlapping calls fit in one or two.
 */
export const FUNCTION_MAX_INSTANCES = { worker: 2, process: 2, startRequestedJobs: 4 } as const;

/** Left of the worker function's timeout after the budget: finishing writes and the event. */
export const WORKER_TIMEOUT_MARGIN_MS = 30_000;

/** reset_stale_jobs' default limit (its body may override it). */
export const DEFAULT_MAX_RUN_MINUTES = 30;

export interface QueueTimes {
  jobTimeoutMs: number;
  workerBudgetMs: number;
  leaseMarginMs: number;
}

/** The lease a job is claimed with: its timeout plus a margin for the outcome write. */
export const leaseMsOf = (q: QueueTimes) => q.jobTimeoutMs + q.leaseMarginMs;

/** The shortest maxRunMinutes that never takes back a job that is still within its lease. */
export const minMaxRunMinutes = (q: QueueTimes) => Math.ceil(leaseMsOf(q) / 60_000);

/** Each unsafe combination, naming the settings; empty when they fit together. */
export function queueTimeProblems(q: QueueTimes): string[] {
  const problems: string[] = [];
  const s = (ms: number) => `${ms / 1000} s`;
  if (q.jobTimeoutMs > q.workerBudgetMs) {
    problems.push(`JOB_TIMEOUT_MS (${s(q.jobTimeoutMs)}) must not exceed WORKER_BUDGET_MS (${s(q.workerBudgetMs)}): the worker would never have time to claim a job`);
  }
  const ceiling = FUNCTION_TIMEOUT_SECONDS.worker * 1000 - WORKER_TIMEOUT_MARGIN_MS;
  if (q.workerBudgetMs > ceiling) {
    problems.push(`WORKER_BUDGET_MS (${s(q.workerBudgetMs)}) must be at most ${s(ceiling)}: the worker function times out after ${FUNCTION_TIMEOUT_SECONDS.worker} s and would be killed mid-job`);
  }
  if (minMaxRunMinutes(q) > DEFAULT_MAX_RUN_MINUTES) {
    problems.push(
      `JOB_TIMEOUT_MS plus JOB_LEASE_MARGIN_MS (${s(leaseMsOf(q))}) must fit within reset_stale_jobs' default maxRunMinutes (${DEFAULT_MAX_RUN_MINUTES}): live jobs would be reset and run twice`,
    );
  }
  return problems;
}

/** Null when a reset_stale_jobs maxRunMinutes is safe; otherwise why not. */
export function maxRunMinutesProblem(maxRunMinutes: number, q: QueueTimes): string | null {
  const min = minMaxRunMinutes(q);
  if (maxRunMinutes >= min) return null;
  return `must be at least ${min} (JOB_TIMEOUT_MS plus JOB_LEASE_MARGIN_MS is ${leaseMsOf(q) / 1000} s): a shorter limit resets jobs that are still running, and they run twice`;
}
