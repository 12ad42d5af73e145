import { z } from 'zod';
import { timestampSchema } from './common.js';

export const EVENT_SOURCES = ['cron', 'worker', 'schedule', 'process'] as const;
export type EventSource = (typeof EVENT_SOURCES)[number];

export const eventCountsSchema = z.object({
  processed: z.number().int(),
  succeeded: z.number().int(),
  queued: z.number().int(),
  duplicates: z.number().int(),
  failed: z.number().int(),
  retried: z.number().int(),
  /** Jobs sent back to wait for a platform's rate limit to reset (no attempt spent). */
  deferred: z.number().int().default(0),
  reset: z.number().int(),
  deleted: z.number().int(),
  /** Metric rows written (in the days that changed), the documents holding them, and platform API calls made by the run's sync jobs. */
  rowsWritten: z.number().int(),
  /** Absent from events recorded before metrics were grouped into month documents. */
  documentsWritten: z.number().int().default(0),
  apiCalls: z.number().int(),
});
export type EventCounts = z.infer<typeof eventCountsSchema>;

export function emptyCounts(): EventCounts {
  return { processed: 0, succeeded: 0, queued: 0, duplicates: 0, failed: 0, retried: 0, deferred: 0, reset: 0, deleted: 0, rowsWritten: 0, documentsWritten: 0, apiCalls: 0 };
}

export const schedulerEventSchema = z.object({
  source: z.enum(EVENT_SOURCES),
  operation: z.string(),
  counts: eventCountsSchema,
  durationMs: z.number(),
  at: timestampSchema,
  error: z.string().nullable(),
  /** Providers whose circuit this run opened. */
  circuitsOpened: z.array(z.string()),
  workerId: z.string().nullable(),
  /** When Firestore's TTL policy may delete it: recorded time plus JOB_RETENTION_DAYS. */
  expireAt: timestampSchema.nullable().default(null),
});
export type SchedulerEvent = z.infer<typeof schedulerEventSchema>;
