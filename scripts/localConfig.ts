/**
 * Local configuration for the Functions emulator: a cron key in functions/.secret.local
 * (made once, kept, git-ignored) and non-secret settings in functions/.env.local.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './emulators.js';

export const DEMO_ADMIN_EMAIL = 'admin@example.com';
export const DEMO_USER_EMAIL = 'demo@example.com';
export const DEMO_PASSWORD = 'demo-password';

export function ensureLocalConfig(): { cronKey: string } {
  const secretFile = join(ROOT, 'functions/.secret.local');
  const existing = existsSync(secretFile) ? /INTEGRATIONS_CRON_SECRET=(\S+)/.exec(readFileSync(secretFile, 'utf8'))?.[1] : undefined;
  const cronKey = existing ?? randomBytes(24).toString('base64url');
  if (!existing) writeFileSync(secretFile, `INTEGRATIONS_CRON_SECRET=${cronKey}\n`, { mode: 0o600 });
  writeFileSync(join(ROOT, 'functions/.env.local'), `ADMIN_EMAILS=${DEMO_ADMIN_EMAIL}\nWORKER_BUDGET_MS=240000\n`);
  return { cronKey };
}
