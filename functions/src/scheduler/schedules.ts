/**
 * The one definition of what runs when. The local scheduler loop (`npm start`) reads it,
 * and so does the script that creates the Cloud Scheduler jobs (`npm run scheduler`).
 */

/** Cloud Scheduler's retries of a failed call (a non-2xx answer or a missed deadline). */
export interface RetryPolicy {
  /** Further attempts after a failed one; Cloud Scheduler allows 0 to 5. */
  retryCount: number;
  /** The first wait, doubled after each failure up to `maxBackoffSeconds`. */
  minBackoffSeconds: number;
  maxBackoffSeconds: number;
  /** No retry starts later than this after the first attempt, so retries stay within the period. */
  maxRetryDurationSeconds: number;
}

export interface ScheduleDefinition {
  /** Cloud Scheduler job name. */
  name: string;
  /** Unix cron, evaluated in `timeZone`. */
  cron: string;
  timeZone: string;
  /** Function to call (POST, with the x-cron-key header). */
  endpoint: 'cron' | 'worker';
  body: Record<string, unknown>;
  description: string;
  /** Every endpoint a schedule calls is safe to run twice, so a failed call may be retried. */
  retry: RetryPolicy;
}

/**
 * Cloud Scheduler never runs two executions of one job at once, and retries belong to the
 * execution: retrying a frequent call only delays the next one, which comes anyway.
 */
const NO_RETRY: RetryPolicy = { retryCount: 0, minBackoffSeconds: 5, maxBackoffSeconds: 5, maxRetryDurationSeconds: 0 };
/** An hourly call lost to a transient error is retried within 20 minutes, well before the next. */
const HOURLY_RETRY: RetryPolicy = { retryCount: 3, minBackoffSeconds: 30, maxBackoffSeconds: 300, maxRetryDurationSeconds: 1_200 };

export const SCHEDULES: readonly ScheduleDefinition[] = [
  {
    // Every minute, each call running up to WORKER_BUDGET_MS (8 min) and 1,000 jobs: calls
    // overlap, so up to eight run at once while there is work, and an idle call costs a few
    // reads. Capacity 1,000 jobs a minute (docs/architecture.md, "Capacity").
    name: 'ads-hub-worker',
    cron: '* * * * *',
    timeZone: 'Etc/UTC',
    endpoint: 'worker',
    body: { maxJobs: 1000 },
    description: 'Run due sync jobs',
    retry: NO_RETRY,
  },
  {
    // Hourly rather than nightly: an integration on the hourly or every-6h cadence would
    // otherwise sync once a night. Daily and weekly ones are due only once per period.
    name: 'ads-hub-process-all-users',
    cron: '0 * * * *',
    timeZone: 'Etc/UTC',
    endpoint: 'cron',
    body: { operation: 'process_all_users' },
    description: 'Enqueue a sync for every integration that is due',
    retry: HOURLY_RETRY,
  },
  {
    // The one way back for a job whose worker died or whose outcome could not be written:
    // every 10 minutes, so such a job waits its lease plus at most 10 minutes, not an hour.
    // A lost call is not retried; the next one comes soon.
    name: 'ads-hub-reset-stale-jobs',
    cron: '5-55/10 * * * *',
    timeZone: 'Etc/UTC',
    endpoint: 'cron',
    body: { operation: 'reset_stale_jobs' },
    description: 'Requeue jobs whose worker died',
    retry: NO_RETRY,
  },
  {
    name: 'ads-hub-cleanup-old-jobs',
    cron: '0 3 * * 0',
    timeZone: 'Etc/UTC',
    endpoint: 'cron',
    body: { operation: 'cleanup_old_jobs' },
    description: 'Delete finished jobs and events past the retention',
    // A lost weekly run would wait a week: more attempts, spread over two hours.
    retry: { retryCount: 5, minBackoffSeconds: 60, maxBackoffSeconds: 900, maxRetryDurationSeconds: 7_200 },
  },
];
