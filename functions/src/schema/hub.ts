import { z } from 'zod';
import { documentIdSchema, providerIdSchema } from './common.js';
import { automationSchema } from './integrations.js';
import { syncJobTypeSchema } from './jobs.js';

/** Google Ads customer ids: 10 digits, no dashes. */
export const googleCustomerIdSchema = z.string().regex(/^\d{10}$/, 'must be 10 digits');

/** An ad account the connected platform user can reach, as the account picker shows it. */
export const adAccountSchema = z.object({
  /** The platform's bare account id (Meta without "act_", LinkedIn without the URN). */
  id: z.string().min(1),
  name: z.string(),
  currency: z.string(),
  timezone: z.string(),
  /** Google: the manager account access goes through (sent as login-customer-id); null for direct access. */
  managerId: googleCustomerIdSchema.nullable(),
  managerName: z.string().nullable(),
});
export type AdAccount = z.infer<typeof adAccountSchema>;

export const providerBodySchema = z.strictObject({ providerId: providerIdSchema });
export type ProviderBody = z.infer<typeof providerBodySchema>;

export const connectStartResponseSchema = z.object({ authorizeUrl: z.string() });
export type ConnectStartResponse = z.infer<typeof connectStartResponseSchema>;

/** The platform's redirect back to the Ads Hub carries these. */
export const connectCompleteBodySchema = z.strictObject({
  providerId: providerIdSchema,
  state: z.string().min(16).max(128),
  code: z.string().min(1).max(4096),
});
export type ConnectCompleteBody = z.infer<typeof connectCompleteBodySchema>;

export const connectCompleteResponseSchema = z.object({
  providerId: providerIdSchema,
  accounts: z.array(adAccountSchema),
});
export type ConnectCompleteResponse = z.infer<typeof connectCompleteResponseSchema>;

export const selectAccountBodySchema = z.strictObject({
  providerId: providerIdSchema,
  accountId: z.string().min(1).max(64),
  managerId: googleCustomerIdSchema.nullable().default(null),
});
export type SelectAccountBody = z.infer<typeof selectAccountBodySchema>;

/** What a request that enqueued (or found) a job answers. */
export const enqueuedJobResponseSchema = z.object({
  jobId: z.string(),
  jobType: syncJobTypeSchema,
  /** True when an active job of the same kind already existed: this is that job. */
  duplicate: z.boolean(),
  /** The platform is paused for a limit of its own until then (ISO time): the job starts after it. */
  pausedUntil: z.string().nullable().default(null),
});
export type EnqueuedJobResponse = z.infer<typeof enqueuedJobResponseSchema>;

export const meResponseSchema = z.object({
  uid: z.string(),
  email: z.string().nullable(),
  admin: z.boolean(),
});
export type MeResponse = z.infer<typeof meResponseSchema>;

export const jobIdBodySchema = z.strictObject({ jobId: documentIdSchema });
export type JobIdBody = z.infer<typeof jobIdBodySchema>;

export const jobActionResponseSchema = z.object({
  jobId: z.string(),
  status: z.enum(['queued', 'cancelled']),
});
export type JobActionResponse = z.infer<typeof jobActionResponseSchema>;

/** An admin changes a user's automation on their behalf. */
export const adminAutomationBodySchema = z.strictObject({
  userId: documentIdSchema,
  providerId: providerIdSchema,
  automation: automationSchema,
});
export type AdminAutomationBody = z.infer<typeof adminAutomationBodySchema>;

export const automationResponseSchema = z.object({
  automation: automationSchema,
  /** ISO time of the next scheduled run; null while automation is off. */
  nextRunAt: z.string().nullable(),
});
export type AutomationResponse = z.infer<typeof automationResponseSchema>;

/** The error body every endpoint answers with. */
export const errorBodySchema = z.object({ error: z.string(), field: z.string().optional() });
export type ErrorBody = z.infer<typeof errorBodySchema>;
