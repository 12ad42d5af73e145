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
}

export const SCHEDULES: readonly ScheduleDefinition[] = [
  {
    name: 'ads-hub-worker',
    cron: '*/5 * * * *',
    timeZone: 'Etc/UTC',
    endpoint: 'worker',
    body: { maxJobs: 50 },
    description: 'Run due sync jobs',
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
  },
  {
    name: 'ads-hub-reset-stale-jobs',
    cron: '30 * * * *',
    timeZone: 'Etc/UTC',
    endpoint: 'cron',
    body: { operation: 'reset_stale_jobs' },
    description: 'Requeue jobs whose worker died',
  },
  {
    name: 'ads-hub-cleanup-old-jobs',
    cron: '0 3 * * 0',
    timeZone: 'Etc/UTC',
    endpoint: 'cron',
    body: { operation: 'cleanup_old_jobs' },
    description: 'Delete finished jobs and events past the retention',
  },
];
