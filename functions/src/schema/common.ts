import { z } from 'zod';

export const PROVIDER_IDS = ['google', 'meta', 'linkedin', 'tiktok'] as const;
export const providerIdSchema = z.enum(PROVIDER_IDS);
export type ProviderId = z.infer<typeof providerIdSchema>;

export const PROVIDER_LABELS: Record<ProviderId, string> = {
  google: 'Google Ads',
  meta: 'Meta Ads',
  linkedin: 'LinkedIn Ads',
  tiktok: 'TikTok Ads',
};

/**
 * Days each platform keeps restating (late attribution, conversion windows): the default
 * lookback of an incremental sync, and what the Ads Hub says a sync re-fetches when the
 * lookback is left to the platform. The user's lookback setting wins.
 */
export const RESTATEMENT_DAYS: Readonly<Record<ProviderId, number>> = { meta: 28, google: 14, linkedin: 30, tiktok: 3 };

/** Firestore document ids: no slashes, not "." or "..", at most 1,500 bytes. */
export const documentIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_\-:.@]+$/, 'must contain only letters, digits and _ - : . @')
  .refine((v) => v !== '.' && v !== '..', 'must not be "." or ".."');

/** Firestore Timestamp as both the Admin and the web SDK expose it. */
export interface TimestampLike {
  toMillis(): number;
  toDate(): Date;
}
export const timestampSchema = z.custom<TimestampLike>(
  (v) => typeof v === 'object' && v !== null && typeof (v as TimestampLike).toMillis === 'function',
  'must be a Firestore Timestamp',
);
