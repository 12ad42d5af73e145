/**
 * Local configuration for the Functions emulator: a cron key in functions/.secret.local
 * (made once, kept, git-ignored) and the other settings in functions/.env.local, with the
 * platforms pointed at the local provider sandbox.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './emulators.js';

export const DEMO_ADMIN_EMAIL = 'admin@example.com';
export const DEMO_USER_EMAIL = 'demo@example.com';
export const DEMO_PASSWORD = 'demo-password';

export const SANDBOX_PORT = 8790;
const SANDBOX = `http://127.0.0.1:${SANDBOX_PORT}`;

/** The platforms as the Functions emulator sees them: the local provider sandbox. */
const PLATFORM_ENV = [
  `META_API_BASE_URL=${SANDBOX}/meta`,
  `GOOGLE_ADS_API_BASE_URL=${SANDBOX}/google`,
  `GOOGLE_OAUTH_BASE_URL=${SANDBOX}/google`,
  `LINKEDIN_API_BASE_URL=${SANDBOX}/linkedin`,
  `LINKEDIN_OAUTH_BASE_URL=${SANDBOX}/linkedin`,
  `TIKTOK_API_BASE_URL=${SANDBOX}/tiktok`,
  'GOOGLE_ADS_DEVELOPER_TOKEN=demo-developer-token',
  'GOOGLE_OAUTH_CLIENT_ID=demo-google-client',
  'GOOGLE_OAUTH_CLIENT_SECRET=demo-google-secret',
  'LINKEDIN_CLIENT_ID=demo-linkedin-client',
  'LINKEDIN_CLIENT_SECRET=demo-linkedin-secret',
  'TIKTOK_APP_ID=demo-tiktok-app',
  'TIKTOK_APP_SECRET=demo-tiktok-secret',
];

export function ensureLocalConfig(): { cronKey: string } {
  const secretFile = join(ROOT, 'functions/.secret.local');
  const existing = existsSync(secretFile) ? /INTEGRATIONS_CRON_SECRET=(\S+)/.exec(readFileSync(secretFile, 'utf8'))?.[1] : undefined;
  const cronKey = existing ?? randomBytes(24).toString('base64url');
  if (!existing) writeFileSync(secretFile, `INTEGRATIONS_CRON_SECRET=${cronKey}\n`, { mode: 0o600 });
  writeFileSync(join(ROOT, 'functions/.env.local'), [`ADMIN_EMAILS=${DEMO_ADMIN_EMAIL}`, 'WORKER_BUDGET_MS=240000', ...PLATFORM_ENV, ''].join('\n'));
  return { cronKey };
}
