import { z } from 'zod';
import { cadenceSchema } from './integrations.js';
import { providerIdSchema, timestampSchema } from './common.js';

/** A budget day: the UTC date, YYYY-MM-DD. */
export const budgetDaySchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

/**
 * quotaUsage/{providerId}_{day}_{shard}: requests sent to one platform on one UTC day, in one of
 * QUOTA_USAGE_SHARDS counters (every sync adds to a random one, so none takes more than about
 * the 1 write/s a document sustains). Server-only: the rules deny clients.
 */
export const quotaUsageDocumentSchema = z.object({
  providerId: providerIdSchema,
  day: budgetDaySchema,
  /** Requests sent (Google Ads: operations), every job and attempt included. */
  calls: z.number().int().min(0).default(0),
  /** Sync runs that ended, whatever their outcome: calls ÷ syncs is the cost of a sync. */
  syncs: z.number().int().min(0).default(0),
  expireAt: timestampSchema.nullable().default(null),
});
export type QuotaUsageDocument = z.infer<typeof quotaUsageDocumentSchema>;

export const QUOTA_USAGE_SHARDS = 16;

/** DAILY_API_BUDGETS and BUDGET_RETRY_RESERVE, parsed. */
export interface BudgetSettings {
  /** Requests a day per platform; a platform without one is not budgeted. */
  daily: Readonly<Partial<Record<z.infer<typeof providerIdSchema>, number>>>;
  /** Fraction of each budget kept back from scheduled syncs and retries, for first runs. */
  reserveShare: number;
}

/**
 * platformBudgets/{providerId}: the scheduler's plan for one platform's daily request budget,
 * written by the hourly run of process_all_users. Signed-in users may read it: the Ads Hub's
 * cards say when their syncs run less often than set, and why. No secrets, no user data.
 */
export const platformBudgetDocumentSchema = z.object({
  providerId: providerIdSchema,
  day: budgetDaySchema,
  /** Requests a day (DAILY_API_BUDGETS). */
  budget: z.number().int().min(1),
  /** Kept back from scheduled syncs and from every retry: first runs (Sync now, backfills) only. */
  reserve: z.number().int().min(0),
  /** Requests counted so far today when the plan was made. */
  spent: z.number().int().min(0),
  /** Requests one sync costs, from today's counts (or the platform's estimate before any). */
  callsPerSync: z.number().min(0),
  /** Requests the scheduled syncs of the rest of the day would take at the cadences set. */
  demand: z.number().min(0),
  /** The slowest a scheduled sync runs today: null when every cadence is kept. */
  stretchedTo: cadenceSchema.nullable(),
  /** Scheduled syncs the runs of this hour may start, together; the rest wait for a later hour. */
  hourAllowance: z.number().int().min(0),
  /** The hour the allowance is for: every run in it (a repeated delivery, a retried page) shares it. */
  hourStart: timestampSchema,
  /** Only the reserve is left: scheduled syncs wait for the next budget day (midnight UTC). */
  reserveReached: z.boolean(),
  planAt: timestampSchema,
});
export type PlatformBudgetDocument = z.infer<typeof platformBudgetDocumentSchema>;
