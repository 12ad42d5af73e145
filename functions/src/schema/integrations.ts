import { z } from 'zod';
import { providerIdSchema, timestampSchema } from './common.js';

export const CADENCES = ['hourly', 'every6h', 'daily', 'weekly'] as const;
export const cadenceSchema = z.enum(CADENCES);
export type Cadence = z.infer<typeof cadenceSchema>;

export const INTEGRATION_STATUSES = ['connected', 'disconnected', 'error'] as const;
export const integrationStatusSchema = z.enum(INTEGRATION_STATUSES);
export type IntegrationStatus = z.infer<typeof integrationStatusSchema>;

/** The only part of an integration its owner may change (firestore.rules enforces it). */
export const automationSchema = z.object({
  enabled: z.boolean(),
  cadence: cadenceSchema,
  /** Days re-fetched on every sync; null means the platform's restatement window. */
  lookbackDays: z.number().int().min(1).max(90).nullable(),
});
export type Automation = z.infer<typeof automationSchema>;

export const DEFAULT_AUTOMATION: Automation = { enabled: true, cadence: 'daily', lookbackDays: null };

export const integrationDocumentSchema = z.object({
  status: integrationStatusSchema,
  accountId: z.string().nullable(),
  /** The account's name on the platform, for people. */
  accountName: z.string().nullable().default(null),
  /** The ad account's timezone (IANA); the platforms date their rows in it. */
  timezone: z.string().default('UTC'),
  /**
   * The ad account's currency (ISO 4217), kept once a platform that reports it apart from the
   * rows (TikTok's advertiser info) has been asked; null until then.
   */
  currency: z.string().regex(/^[A-Z]{3}$/).nullable().default(null),
  /**
   * Google Ads: the manager account (10 digits, no dashes) through which the user reaches
   * this client account, chosen when the account is picked; null: direct access, or the
   * deployment's GOOGLE_ADS_LOGIN_CUSTOMER_ID.
   */
  loginCustomerId: z.string().regex(/^\d{10}$/).nullable().default(null),
  /**
   * This connection's generation, new at every account pick (null on integrations made
   * before it existed): a job writes to the integration and its tokens only while it holds.
   */
  connectionId: z.string().nullable().default(null),
  automation: automationSchema,
  nextRunAt: timestampSchema.nullable(),
  lastSyncedAt: timestampSchema.nullable(),
  lastSyncStatus: z.enum(['succeeded', 'failed']).nullable(),
  lastRequestedAt: timestampSchema.nullable(),
  /**
   * When this account's initial backfill completed; null while its history is not fully
   * loaded (a reconnect of the same account then loads it again, rows already stored are
   * not rewritten).
   */
  historyLoadedAt: timestampSchema.nullable().default(null),
  lastError: z.string().nullable(),
  /** Owner and provider, denormalized so collection-group queries need no extra reads. */
  userId: z.string(),
  providerId: providerIdSchema,
});
export type IntegrationDocument = z.infer<typeof integrationDocumentSchema>;

/**
 * An integration document with every field at its default (connected, automation on daily,
 * nothing synced yet): what the demo data, the tests and the benchmarks seed, each naming only
 * what differs.
 */
export function integrationDocument(fields: Pick<IntegrationDocument, 'userId' | 'providerId' | 'accountId'> & Partial<IntegrationDocument>): IntegrationDocument {
  return {
    status: 'connected',
    accountName: null,
    timezone: 'UTC',
    currency: null,
    loginCustomerId: null,
    connectionId: null,
    automation: DEFAULT_AUTOMATION,
    nextRunAt: null,
    lastSyncedAt: null,
    lastSyncStatus: null,
    lastRequestedAt: null,
    historyLoadedAt: null,
    lastError: null,
    ...fields,
  };
}
