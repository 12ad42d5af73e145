/**
 * The settings that are secrets: each is declared with `defineSecret` (functions/src/index.ts),
 * so production reads it from Secret Manager and the emulator from functions/.secret.local.
 * Everything else is plain configuration from functions/.env.<projectId>.
 */

/**
 * The current cron key and the next one. Both are accepted, so callers can move to a new
 * key before the old one is retired; outside a rotation both hold the same value.
 */
export const CRON_KEY_SECRETS = ['INTEGRATIONS_CRON_SECRET', 'INTEGRATIONS_CRON_SECRET_NEXT'] as const;

/** Platform app credentials: bound only to the functions that sync or connect accounts. */
export const PLATFORM_SECRETS = [
  'META_APP_SECRET',
  'GOOGLE_ADS_DEVELOPER_TOKEN',
  'GOOGLE_OAUTH_CLIENT_SECRET',
  'LINKEDIN_CLIENT_SECRET',
  'TIKTOK_APP_SECRET',
] as const;

export const SECRET_NAMES = [...CRON_KEY_SECRETS, ...PLATFORM_SECRETS] as const;
export type SecretName = (typeof SECRET_NAMES)[number];
