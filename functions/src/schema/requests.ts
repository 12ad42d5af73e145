import { z } from 'zod';
import { documentIdSchema, providerIdSchema } from './common.js';
import { DEFAULT_MAX_RUN_MINUTES } from '../config/limits.js';
import { syncJobTypeSchema } from './jobs.js';

/** Up to two years of history: the longest any platform keeps that we backfill. */
const timeframeDaysSchema = z.number().int().min(1).max(730);

export const processAllUsersBodySchema = z.strictObject({
  operation: z.literal('process_all_users'),
  /** Users per fan-out page. */
  maxUsers: z.number().int().min(1).max(1000).default(500),
  jobType: z.enum(['scheduled-sync', 'manual-sync']).default('scheduled-sync'),
  timeframeDays: timeframeDaysSchema.optional(),
});

export const cleanupOldJobsBodySchema = z.strictObject({
  operation: z.literal('cleanup_old_jobs'),
  /** Finished jobs and events older than this are deleted. Default from config. */
  retentionDays: z.number().int().min(1).max(365).optional(),
});

export const resetStaleJobsBodySchema = z.strictObject({
  operation: z.literal('reset_stale_jobs'),
  /** A running job older than this is stale even if its lease still looks alive; at least the lease (checked against the config). */
  maxRunMinutes: z.number().int().min(1).max(24 * 60).default(DEFAULT_MAX_RUN_MINUTES),
});

export const cronBodySchema = z.discriminatedUnion('operation', [
  processAllUsersBodySchema,
  cleanupOldJobsBodySchema,
  resetStaleJobsBodySchema,
]);
export type CronBody = z.infer<typeof cronBodySchema>;

export const workerBodySchema = z.strictObject({
  maxJobs: z.number().int().min(1).max(1000).default(50),
  maxUsers: z.number().int().min(1).max(1000).optional(),
});
export type WorkerBody = z.infer<typeof workerBodySchema>;

export const scheduleBodySchema = z
  .strictObject({
    userId: documentIdSchema.optional(),
    providerId: providerIdSchema.optional(),
    allUsers: z.boolean().optional(),
    jobType: syncJobTypeSchema.default('manual-sync'),
    timeframeDays: timeframeDaysSchema.optional(),
    priority: z.number().int().min(-100).max(100).optional(),
  })
  .superRefine((body, ctx) => {
    if (body.allUsers === true && body.userId !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['userId'], message: 'must not be set together with allUsers' });
    }
    if (body.allUsers === true && body.jobType === 'initial-backfill') {
      ctx.addIssue({ code: 'custom', path: ['jobType'], message: 'backfills are scheduled per user, not for all users' });
    }
    if (body.allUsers !== true && body.userId === undefined) {
      ctx.addIssue({ code: 'custom', path: ['userId'], message: 'is required unless allUsers is true' });
    }
  });
export type ScheduleBody = z.infer<typeof scheduleBodySchema>;

export const processBodySchema = z.strictObject({
  userId: documentIdSchema,
  maxJobs: z.number().int().min(1).max(100).default(20),
});
export type ProcessBody = z.infer<typeof processBodySchema>;
