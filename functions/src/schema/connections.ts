import { z } from 'zod';
import { providerIdSchema, timestampSchema } from './common.js';
import { providerCredentialsSchema } from './credentials.js';
import { adAccountSchema } from './hub.js';

/**
 * An authorization in flight (`oauthStates/{state}`, server-only): the state parameter
 * ties the platform's redirect to the user who started it, once, within its lifetime.
 */
export const oauthStateDocumentSchema = z.object({
  userId: z.string(),
  providerId: providerIdSchema,
  redirectUri: z.string(),
  expiresAt: timestampSchema,
});
export type OAuthStateDocument = z.infer<typeof oauthStateDocumentSchema>;

/**
 * Tokens from a completed authorization and the accounts they reach, kept server-side
 * (`pendingConnections/{uid}__{provider}`) until the user picks one.
 */
export const pendingConnectionDocumentSchema = z.object({
  userId: z.string(),
  providerId: providerIdSchema,
  credentials: providerCredentialsSchema,
  accounts: z.array(adAccountSchema),
  expiresAt: timestampSchema,
});
export type PendingConnectionDocument = z.infer<typeof pendingConnectionDocumentSchema>;

/** `admin/access`: ADMIN_EMAILS as the security rules can read it. */
export const adminAccessDocumentSchema = z.object({ emails: z.array(z.string()) });
