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

/**
 * The secrets each function binds (functions/src/index.ts declares them from here), so an
 * instance's cold-start log can tell "not bound to this function" from "missing".
 */
export const SECRETS_BY_FUNCTION = {
  cron: CRON_KEY_SECRETS,
  worker: SECRET_NAMES,
  schedule: CRON_KEY_SECRETS,
  process: SECRET_NAMES,
  health: CRON_KEY_SECRETS,
  status: [],
  hub: PLATFORM_SECRETS,
  admin: [],
  startRequestedJobs: PLATFORM_SECRETS,
} as const satisfies Record<string, readonly SecretName[]>;
export type FunctionName = keyof typeof SECRETS_BY_FUNCTION;

/** The secrets of the function this instance serves (FUNCTION_TARGET, set by the runtime and the emulator); all of them when unknown. */
export function boundSecrets(functionTarget: string | undefined): readonly SecretName[] {
  return functionTarget && functionTarget in SECRETS_BY_FUNCTION ? SECRETS_BY_FUNCTION[functionTarget as FunctionName] : SECRET_NAMES;
}
