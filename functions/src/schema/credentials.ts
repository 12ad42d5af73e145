import { z } from 'zod';

/**
 * An ad platform's OAuth credentials as the server stores them (never in a document a
 * client can read). Meta has no refresh token; TikTok's may be absent for long-lived tokens.
 */
export const providerCredentialsSchema = z.object({
  accessToken: z.string().min(1),
  refreshToken: z.string().min(1).nullable(),
  /** Epoch milliseconds; null when the platform did not say (long-lived tokens). */
  expiresAt: z.number().int().nullable(),
});
export type ProviderCredentials = z.infer<typeof providerCredentialsSchema>;
