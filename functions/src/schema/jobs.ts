import { z } from 'zod';
import { queueJobDocumentSchema } from '../queue/job.js';
import { providerIdSchema } from './common.js';

export const SYNC_JOB_TYPES = ['scheduled-sync', 'manual-sync', 'initial-backfill'] as const;
export const syncJobTypeSchema = z.enum(SYNC_JOB_TYPES);
export type SyncJobType = z.infer<typeof syncJobTypeSchema>;

/** The fan-out job expands process_all_users in the background, one page per run. */
export const JOB_TYPES = [...SYNC_JOB_TYPES, 'fan-out'] as const;
export const jobTypeSchema = z.enum(JOB_TYPES);
export type JobType = z.infer<typeof jobTypeSchema>;

/** A job's failure reason when its integration moved to `error`: its user must reconnect (alerts count these). */
export const RECONNECT_REASON = 'reconnect';

export { ACTIVE_STATUSES, FINISHED_STATUSES, JOB_STATUSES, jobPayloadSchema, jobStatusSchema, progressSchema } from '../queue/job.js';
export type { JobPayload, JobStatus, Progress } from '../queue/job.js';

/**
 * Lanes keep dedupe separate: a long backfill never blocks the daily sync of the same
 * integration, and the system lane holds the process_all_users fan-out.
 */
export const LANES = ['sync', 'backfill', 'system'] as const;
export type Lane = (typeof LANES)[number];

/**
 * The ads domain's tasks on the queue: each job type's lane and default priority. A
 * person waiting beats the nightly run, which beats history.
 */
export const JOB_TASKS: Readonly<Record<JobType, { lane: Lane; priority: number }>> = {
  'fan-out': { lane: 'system', priority: 100 },
  'manual-sync': { lane: 'sync', priority: 10 },
  'scheduled-sync': { lane: 'sync', priority: 0 },
  'initial-backfill': { lane: 'backfill', priority: -10 },
};

export const laneOf = (jobType: JobType): Lane => JOB_TASKS[jobType].lane;

export const dateWindowSchema = z.object({
  start: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  end: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
});
export type DateWindow = z.infer<typeof dateWindowSchema>;

/** The queue's job document with this domain's task names, platforms, lanes and windows. */
export const jobDocumentSchema = queueJobDocumentSchema.extend({
  providerId: providerIdSchema.nullable(),
  jobType: jobTypeSchema,
  lane: z.enum(LANES),
  window: dateWindowSchema.nullable(),
});
export type JobDocument = z.infer<typeof jobDocumentSchema>;
export type Job = JobDocument & { id: string };

/**
 * Projects the finish from the progress rate so far. A job that runs in several
 * continuations (a backfill) keeps its first start in payload.firstStartedAt.
 */
export function estimateFinish(job: Pick<Job, 'status' | 'progress' | 'startedAt' | 'payload'>, now = Date.now()): Date | null {
  if ((job.status !== 'running' && job.status !== 'queued') || !job.progress) return null;
  const { done, total } = job.progress;
  if (done <= 0 || total <= 0 || done >= total) return null;
  const first = job.payload.firstStartedAt;
  const since = typeof first === 'number' ? first : job.startedAt?.toMillis();
  if (since === undefined) return null;
  return new Date(since + ((now - since) * total) / done);
}
