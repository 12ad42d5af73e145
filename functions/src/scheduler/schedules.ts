import { FUNCTION_TIMEOUT_SECONDS } from '../config/limits.js';

/**
 * The one definition of what runs when. The local scheduler loop (`npm start`) reads it,
 * and so does the script that creates the Cloud Scheduler jobs.
 */
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
  /**
   * Cloud Scheduler's attempt deadline for the call (its default is 180 s): at least the
   * function's timeout, so a long worker call is not recorded as failed and retried.
   */
  attemptDeadlineSeconds: number;
}

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
    attemptDeadlineSeconds: FUNCTION_TIMEOUT_SECONDS.worker,
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
    attemptDeadlineSeconds: FUNCTION_TIMEOUT_SECONDS.cron,
  },
  {
    name: 'ads-hub-reset-stale-jobs',
    cron: '30 * * * *',
    timeZone: 'Etc/UTC',
    endpoint: 'cron',
    body: { operation: 'reset_stale_jobs' },
    description: 'Requeue jobs whose worker died',
    attemptDeadlineSeconds: FUNCTION_TIMEOUT_SECONDS.cron,
  },
  {
    name: 'ads-hub-cleanup-old-jobs',
    cron: '0 3 * * 0',
    timeZone: 'Etc/UTC',
    endpoint: 'cron',
    body: { operation: 'cleanup_old_jobs' },
    description: 'Delete finished jobs and events past the retention',
    attemptDeadlineSeconds: FUNCTION_TIMEOUT_SECONDS.cron,
  },
];
