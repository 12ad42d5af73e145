/**
 * Local configuration for the Functions emulator: every secret in functions/.secret.local
 * (the two cron keys made once and kept, demo platform credentials; git-ignored) and the
 * plain settings in functions/.env.<projectId> (one file per emulator profile, git-ignored),
 * with the platforms pointed at that profile's local provider sandbox.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SecretName } from '../functions/src/config/secrets.js';
import { generateCronKey } from './cronKey.js';
import { ROOT, type EmulatorProfile } from './emulators.js';

export const DEMO_ADMIN_EMAIL = 'admin@example.com';
export const DEMO_USER_EMAIL = 'demo@example.com';
export const DEMO_PASSWORD = 'demo-password';

const SANDBOX_BASE_PORT = 8790;

/** The sandbox port the profile's functions call: 8790 for `npm start`, shifted like the emulators for tests. */
export function sandboxPort(profile: EmulatorProfile): number {
  return SANDBOX_BASE_PORT + (Number(new URL(profile.functionsOrigin).port) - 5001);
}

/** The platforms as the Functions emulator sees them: the local provider sandbox. */
function platformEnv(sandbox: string): string[] {
  return [
    `META_API_BASE_URL=${sandbox}/meta`,
    `GOOGLE_ADS_API_BASE_URL=${sandbox}/google`,
    `GOOGLE_OAUTH_BASE_URL=${sandbox}/google`,
    `LINKEDIN_API_BASE_URL=${sandbox}/linkedin`,
    `LINKEDIN_OAUTH_BASE_URL=${sandbox}/linkedin`,
    `TIKTOK_API_BASE_URL=${sandbox}/tiktok`,
    `META_AUTHORIZE_BASE_URL=${sandbox}/meta`,
    `GOOGLE_AUTHORIZE_BASE_URL=${sandbox}/google`,
    'META_APP_ID=demo-meta-app',
    'GOOGLE_OAUTH_CLIENT_ID=demo-google-client',
    'LINKEDIN_CLIENT_ID=demo-linkedin-client',
    'TIKTOK_APP_ID=demo-tiktok-app',
  ];
}

/** The sandbox accepts any app credentials; these only have to be set. */
export const DEMO_PLATFORM_SECRETS = {
  META_APP_SECRET: 'demo-meta-secret',
  GOOGLE_ADS_DEVELOPER_TOKEN: 'demo-developer-token',
  GOOGLE_OAUTH_CLIENT_SECRET: 'demo-google-secret',
  LINKEDIN_CLIENT_SECRET: 'demo-linkedin-secret',
  TIKTOK_APP_SECRET: 'demo-tiktok-secret',
} as const;

/**
 * Every declared secret needs a value here: for one that is missing, the Functions emulator
 * asks Secret Manager on each runtime start. Locally the next cron key differs from the
 * current one, so both keys are exercised.
 */
function ensureLocalSecrets(): { cronKey: string; cronKeyNext: string } {
  const secretFile = join(ROOT, 'functions/.secret.local');
  const existing = new Map(
    (existsSync(secretFile) ? readFileSync(secretFile, 'utf8') : '')
      .split('\n')
      .map((line) => /^([A-Z0-9_]+)=(\S+)$/.exec(line.trim()))
      .filter((match) => match !== null)
      .map((match) => [match[1]!, match[2]!]),
  );
  const secrets: Record<SecretName, string> = {
    INTEGRATIONS_CRON_SECRET: existing.get('INTEGRATIONS_CRON_SECRET') ?? generateCronKey(),
    INTEGRATIONS_CRON_SECRET_NEXT: existing.get('INTEGRATIONS_CRON_SECRET_NEXT') ?? generateCronKey(),
    ...DEMO_PLATFORM_SECRETS,
  };
  const text = Object.entries(secrets).map(([name, value]) => `${name}=${value}\n`).join('');
  writeFileSync(secretFile, text, { mode: 0o600 });
  return { cronKey: secrets.INTEGRATIONS_CRON_SECRET, cronKeyNext: secrets.INTEGRATIONS_CRON_SECRET_NEXT };
}

export function ensureLocalConfig(profile: EmulatorProfile): { cronKey: string; cronKeyNext: string } {
  const keys = ensureLocalSecrets();
  // .env.local would apply to every emulated project; each profile has its own file instead.
  rmSync(join(ROOT, 'functions/.env.local'), { force: true });
  const sandbox = `http://127.0.0.1:${sandboxPort(profile)}`;
  writeFileSync(
    join(ROOT, `functions/.env.${profile.projectId}`),
    [
      `ADMIN_EMAILS=${DEMO_ADMIN_EMAIL}`,
      'WORKER_BUDGET_MS=240000',
      // Platforms send the user back to the Ads Hub that this profile's Hosting emulator serves.
      `OAUTH_REDIRECT_URI=${profile.hostingOrigin}/oauth/callback`,
      ...platformEnv(sandbox),
      '',
    ].join('\n'),
  );
  return keys;
}
