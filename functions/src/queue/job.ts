import { z } from 'zod';

/**
 * The job document as the queue stores it. Task names, lanes and group keys are the
 * caller's strings; a caller narrows them with its own schema (`extend`) where it knows
 * its tasks. Zod only, so the shared schema module (and the web app through it) can
 * build on it.
 */

/** A Firestore Timestamp as both the Admin and the web SDK expose it. */
interface TimestampLike {
  toMillis(): number;
  toDate(): Date;
}
const timestamp = z.custom<TimestampLike>(
  (v) => typeof v === 'object' && v !== null && typeof (v as TimestampLike).toMillis === 'function',
  'must be a Firestore Timestamp',
);

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export const jobStatusSchema = z.enum(JOB_STATUSES);
export type JobStatus = z.infer<typeof jobStatusSchema>;
export const ACTIVE_STATUSES: readonly JobStatus[] = ['queued', 'running'];
export const FINISHED_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled'];

export const progressSchema = z.object({ done: z.number().int().min(0), total: z.number().int().min(0) });
export type Progress = z.infer<typeof progressSchema>;

export const leaseSchema = z.object({
  workerId: z.string(),
  expiresAt: timestamp,
});

/** Free-form inputs a handler needs (timeframe, a cursor, ...). Plain JSON only. */
export const jobPayloadSchema = z.record(z.string(), z.json());
export type JobPayload = z.infer<typeof jobPayloadSchema>;

export const queueJobDocumentSchema = z.object({
  userId: z.string(),
  /**
   * The job's group key (stored as `providerId`, the field the Ads Hub, the rules and
   * /status read): circuits pause a group, a half-open group runs one trial job, and claims
   * can leave groups out. Null: the job belongs to no group (never paused).
   */
  providerId: z.string().nullable(),
  /** The task name: which handler runs the job. */
  jobType: z.string().min(1),
  /** Dedupe keeps lanes apart: one active job per (lane, user, group). */
  lane: z.string().min(1),
  dedupeKey: z.string(),
  status: jobStatusSchema,
  priority: z.number().int(),
  runAfter: timestamp,
  attempts: z.number().int().min(0),
  maxAttempts: z.number().int().min(1),
  /**
   * Rate-limit deferrals since the job last made progress. A deferral gives the attempt
   * back, so this bounds them: past the worker's maxDeferrals a rate limit counts as a
   * failure (attempt spent, circuit counted).
   */
  deferrals: z.number().int().min(0).default(0),
  lease: leaseSchema.nullable(),
  /** What the job covers, for people reading it (the Ads Hub shows a date window); the queue does not read it. */
  window: z.json().nullable(),
  progress: progressSchema.nullable(),
  payload: jobPayloadSchema,
  lastError: z.string().nullable(),
  createdAt: timestamp,
  startedAt: timestamp.nullable(),
  finishedAt: timestamp.nullable(),
  /** Finished jobs: when Firestore's TTL policy may delete it (finish time plus the retention); null while active. */
  expireAt: timestamp.nullable().default(null),
  updatedAt: timestamp,
});
export type QueueJobDocument = z.infer<typeof queueJobDocumentSchema>;
export type QueueJob = QueueJobDocument & { id: string };
