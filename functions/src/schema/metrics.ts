import { z } from 'zod';
import { providerIdSchema, timestampSchema } from './common.js';

export const REPORT_KINDS = ['campaign-daily', 'demographics', 'placement'] as const;
export const reportKindSchema = z.enum(REPORT_KINDS);
export type ReportKind = z.infer<typeof reportKindSchema>;

/** A calendar day (YYYY-MM-DD) in the ad account's timezone. */
export const isoDateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD')
  .refine((v) => {
    const ms = Date.parse(`${v}T00:00:00Z`);
    return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === v;
  }, 'must be a real calendar date');

/**
 * A report the platform is still preparing (a Meta async report run). It travels in the
 * sync job's payload, so a later run of the same job resumes it instead of asking again.
 */
export const pendingReportSchema = z.object({
  kind: reportKindSchema,
  window: z.object({ start: isoDateSchema, end: isoDateSchema }),
  reportRunId: z.string().min(1),
  /** Epoch ms of the latest submission. */
  submittedAt: z.number().int(),
  /** How often this part has been submitted: a report the platform fails is submitted again, a few times. */
  submissions: z.number().int().min(1),
});
export type PendingReport = z.infer<typeof pendingReportSchema>;

export const demographicsBreakdownSchema = z.object({ age: z.string().min(1), gender: z.string().min(1) });
export const placementBreakdownSchema = z.object({
  publisherPlatform: z.string().min(1),
  platformPosition: z.string().min(1),
});
export type DemographicsBreakdown = z.infer<typeof demographicsBreakdownSchema>;
export type PlacementBreakdown = z.infer<typeof placementBreakdownSchema>;

const metricFields = {
  provider: providerIdSchema,
  /** The platform's bare account id: Meta without "act_", Google without dashes, LinkedIn without the URN. */
  accountId: z.string().min(1),
  campaignId: z.string().min(1),
  campaignName: z.string(),
  date: isoDateSchema,
  impressions: z.number().int().nonnegative(),
  clicks: z.number().int().nonnegative(),
  /** In the account's currency, in major units (12.34 means 12.34 EUR). */
  spend: z.number().nonnegative().finite(),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code'),
  /** Fractional when the platform attributes fractions of a conversion (Google). */
  conversions: z.number().nonnegative().finite(),
};

export const metricRowSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('campaign-daily'), ...metricFields }),
  z.object({ kind: z.literal('demographics'), ...metricFields, breakdown: demographicsBreakdownSchema }),
  z.object({ kind: z.literal('placement'), ...metricFields, breakdown: placementBreakdownSchema }),
]);
export type MetricRow = z.infer<typeof metricRowSchema>;

/** A stored daily metric: the row as fetched plus when it was fetched. */
export const metricDocumentSchema = z.intersection(metricRowSchema, z.object({ fetchedAt: timestampSchema }));
export type MetricDocument = z.infer<typeof metricDocumentSchema>;

/** Breakdown values in a fixed order, so the same segment always yields the same id. */
function breakdownParts(row: MetricRow): string[] {
  switch (row.kind) {
    case 'campaign-daily':
      return [];
    case 'demographics':
      return [row.kind, row.breakdown.age, row.breakdown.gender];
    case 'placement':
      return [row.kind, row.breakdown.publisherPlatform, row.breakdown.platformPosition];
  }
}

/** Escapes everything outside [A-Za-z0-9._-] as @XX so distinct parts never join into the same id. */
function escapePart(part: string): string {
  return Array.from(new TextEncoder().encode(part))
    .map((byte) => {
      const ch = String.fromCharCode(byte);
      return /[A-Za-z0-9._-]/.test(ch) ? ch : `@${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

/** Two FNV-1a 64 passes with different offsets; plain code, so the web bundle can compute ids too. */
function hash128(text: string): string {
  const prime = 0x100000001b3n;
  const mask = (1n << 64n) - 1n;
  return [0xcbf29ce484222325n, 0x84222325cbf29ce4n]
    .map((basis) => {
      let h = basis;
      for (const byte of new TextEncoder().encode(text)) h = ((h ^ BigInt(byte)) * prime) & mask;
      return h.toString(16).padStart(16, '0');
    })
    .join('');
}

const MAX_ID_LENGTH = 128;

/**
 * The document id of a metric row: provider:account:campaign:date[:kind:segment...].
 * Re-fetching the same day overwrites the same document, so re-runs are idempotent.
 * Readable when it fits; otherwise a prefix plus a hash of the full key.
 */
export function metricRowId(row: MetricRow): string {
  const parts = [row.provider, row.accountId, row.campaignId, row.date, ...breakdownParts(row)];
  const id = parts.map(escapePart).join(':');
  if (id.length <= MAX_ID_LENGTH) return id;
  return `${escapePart(row.provider)}:${row.date}:${hash128(JSON.stringify(parts))}`;
}
