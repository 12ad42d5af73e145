import { z } from 'zod';
import { providerIdSchema, timestampSchema } from './common.js';

export const SYNC_JOB_TYPES = ['scheduled-sync', 'manual-sync', 'initial-backfill'] as const;
export const syncJobTypeSchema = z.enum(SYNC_JOB_TYPES);
export type SyncJobType = z.infer<typeof syncJobTypeSchema>;

/** The fan-out job expands process_all_users in the background, one page per run. */
export const JOB_TYPES = [...SYNC_JOB_TYPES, 'fan-out'] as const;
export const jobTypeSchema = z.enum(JOB_TYPES);
export type JobType = z.infer<typeof jobTypeSchema>;

/** A job's failure reason when its integration moved to `error`: its user must reconnect (alerts count these). */
export const RECONNECT_REASON = 'reconnect';

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export const jobStatusSchema = z.enum(JOB_STATUSES);
export type JobStatus = z.infer<typeof jobStatusSchema>;
export const ACTIVE_STATUSES: readonly JobStatus[] = ['queued', 'running'];
export const FINISHED_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled'];

/**
 * Lanes keep dedupe separate: a long backfill never blocks the daily sync of the same
 * integration, and the system lane holds the process_all_users fan-out.
 */
export const LANES = ['sync', 'backfill', 'system'] as const;
export type Lane = (typeof LANES)[number];

export function laneOf(jobType: JobType): Lane {
  if (jobType === 'initial-backfill') return 'backfill';
  if (jobType === 'fan-out') return 'system';
  return 'sync';
}

/** Defaults: a person waiting beats the nightly run, which beats history. */
export const DEFAULT_PRIORITY: Record<JobType, number> = {
  'fan-out': 100,
  'manual-sync': 10,
  'scheduled-sync': 0,
  'initial-backfill': -10,
};

export const dateWindowSchema = z.object({
  start: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  end: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
});
export type DateWindow = z.infer<typeof dateWindowSchema>;

export const progressSchema = z.object({ done: z.number().int().min(0), total: z.number().int().min(0) });
export type Progress = z.infer<typeof progressSchema>;

export const leaseSchema = z.object({
  workerId: z.string(),
  expiresAt: timestampSchema,
});

/** Free-form inputs a handler needs (timeframe, fan-out cursor, ...). Plain JSON only. */
export const jobPayloadSchema = z.record(z.string(), z.json());
export type JobPayload = z.infer<typeof jobPayloadSchema>;

export const jobDocumentSchema = z.object({
  userId: z.string(),
  providerId: providerIdSchema.nullable(),
  jobType: jobTypeSchema,
  lane: z.enum(LANES),
  dedupeKey: z.string(),
  status: jobStatusSchema,
  priority: z.number().int(),
  runAfter: timestampSchema,
  attempts: z.number().int().min(0),
  maxAttempts: z.number().int().min(1),
  /**
   * Rate-limit deferrals since the job last made progress. A deferral gives the attempt
   * back, so this bounds them: past the worker's maxDeferrals a rate limit counts as a
   * failure (attempt spent, circuit counted).
   */
  deferrals: z.number().int().min(0).default(0),
  lease: leaseSchema.nullable(),
  window: dateWindowSchema.nullable(),
  progress: progressSchema.nullable(),
  payload: jobPayloadSchema,
  lastError: z.string().nullable(),
  createdAt: timestampSchema,
  startedAt: timestampSchema.nullable(),
  finishedAt: timestampSchema.nullable(),
  /** Finished jobs: when Firestore's TTL policy may delete it (finish time plus JOB_RETENTION_DAYS); null while active. */
  expireAt: timestampSchema.nullable().default(null),
  updatedAt: timestampSchema,
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
