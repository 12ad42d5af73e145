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

/** Joins escaped parts with ":"; past 128 characters a readable prefix plus a hash of the full key. */
function keyOf(parts: readonly string[], prefix: readonly string[]): string {
  const id = parts.map(escapePart).join(':');
  if (id.length <= MAX_ID_LENGTH) return id;
  return `${prefix.map(escapePart).join(':')}:${hash128(JSON.stringify(parts))}`;
}

/**
 * The document id of a metric row: provider:account:campaign:date[:kind:segment...].
 * Re-fetching the same day overwrites the same document, so re-runs are idempotent.
 * Readable when it fits; otherwise a prefix plus a hash of the full key.
 */
export function metricRowId(row: MetricRow): string {
  return keyOf([row.provider, row.accountId, row.campaignId, row.date, ...breakdownParts(row)], [row.provider, row.date]);
}

/** A calendar month (YYYY-MM). */
export const isoMonthSchema = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month as YYYY-MM');
export const monthOf = (date: string): string => date.slice(0, 7);

/** A day's numbers, compact: [spend, impressions, clicks, conversions]. */
export const campaignDaySchema = z.tuple([z.number(), z.number(), z.number(), z.number()]);
export type CampaignDay = z.infer<typeof campaignDaySchema>;

export const dayValues = (row: MetricRow): CampaignDay => [row.spend, row.impressions, row.clicks, row.conversions];

/**
 * The key of a row's segment within its day: the breakdown values in a fixed order as a JSON
 * array ("[]" for campaign-daily, '["25-34","female"]' for demographics), unambiguous whatever
 * the values contain.
 */
export function segmentKey(row: MetricRow): string {
  switch (row.kind) {
    case 'campaign-daily':
      return '[]';
    case 'demographics':
      return JSON.stringify([row.breakdown.age, row.breakdown.gender]);
    case 'placement':
      return JSON.stringify([row.breakdown.publisherPlatform, row.breakdown.platformPosition]);
  }
}

function breakdownOf(kind: ReportKind, key: string): Record<string, unknown> {
  if (kind === 'campaign-daily') return {};
  const [a, b] = JSON.parse(key) as [string, string];
  return { breakdown: kind === 'demographics' ? { age: a, gender: b } : { publisherPlatform: a, platformPosition: b } };
}

/**
 * users/{uid}/metricMonths/{metricMonthId}: one campaign's days of one report kind in one
 * month, `days[YYYY-MM-DD][segmentKey]` the day's numbers (one segment "[]" for
 * campaign-daily, one per breakdown otherwise). Compact tuples because a year of Meta's three
 * kinds is 27,000 of them: object entries with named fields took twice as long to write. A sync writes only the days that changed, each replaced whole
 * (field-path merge), so two writers of the same month never lose each other's days.
 * `days` is exempt from indexing (firestore.indexes.json).
 */
export const metricMonthSchema = z.object({
  provider: providerIdSchema,
  accountId: z.string().min(1),
  kind: reportKindSchema,
  campaignId: z.string().min(1),
  campaignName: z.string(),
  currency: z.string().regex(/^[A-Z]{3}$/),
  month: isoMonthSchema,
  days: z.record(isoDateSchema, z.record(z.string(), campaignDaySchema)),
  fetchedAt: timestampSchema,
});
export type MetricMonth = z.infer<typeof metricMonthSchema>;

/**
 * users/{uid}/metricTotals/{metricTotalsId}: one account's campaign-daily numbers for one
 * month, `days[YYYY-MM-DD][campaignId]` and the campaigns' names: everything the Ads Hub's
 * chart and campaign table need, so 90 days are at most four documents. Compact, so a month of
 * hundreds of campaigns fits one document.
 */
export const metricTotalsSchema = z.object({
  provider: providerIdSchema,
  accountId: z.string().min(1),
  currency: z.string().regex(/^[A-Z]{3}$/),
  month: isoMonthSchema,
  campaigns: z.record(z.string(), z.string()),
  days: z.record(isoDateSchema, z.record(z.string(), campaignDaySchema)),
  fetchedAt: timestampSchema,
});
export type MetricTotals = z.infer<typeof metricTotalsSchema>;

export function metricMonthId(row: Pick<MetricRow, 'provider' | 'accountId' | 'kind' | 'campaignId' | 'date'>): string {
  const month = monthOf(row.date);
  return keyOf([row.provider, row.accountId, row.kind, row.campaignId, month], [row.provider, row.kind, month]);
}

export function metricTotalsId(row: Pick<MetricRow, 'provider' | 'accountId' | 'date'>): string {
  const month = monthOf(row.date);
  return keyOf([row.provider, row.accountId, month], [row.provider, month]);
}

/** The rows a month document holds, as the connector returned them (campaign name and currency as last stored). */
export function rowsOfMonth(doc: Omit<MetricMonth, 'fetchedAt'>): MetricRow[] {
  const { provider, accountId, kind, campaignId, campaignName, currency } = doc;
  return Object.entries(doc.days).flatMap(([date, segments]) =>
    Object.entries(segments).map(([key, [spend, impressions, clicks, conversions]]) =>
      metricRowSchema.parse({ provider, accountId, kind, campaignId, campaignName, currency, date, spend, impressions, clicks, conversions, ...breakdownOf(kind, key) }),
    ),
  );
}
