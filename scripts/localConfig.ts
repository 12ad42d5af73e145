/**
 * Local configuration for the Functions emulator: every secret in functions/.secret.local
 * (the two cron keys made once and kept, demo platform credentials unless set otherwise; git-ignored) and the
 * plain settings in functions/.env.<projectId> (one file per emulator profile, git-ignored),
 * with the platforms pointed at that profile's local provider sandbox.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, linkSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SecretName } from '../functions/src/config/secrets.js';
import { generateCronKey } from './generateKey.js';
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

const parseSecrets = (text: string) => {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([A-Z0-9_]+)=(\S+)$/.exec(line.trim());
    // The first line for a name wins, as for every reader of the file.
    if (match && !values.has(match[1]!)) values.set(match[1]!, match[2]!);
  }
  return values;
};

/**
 * Every declared secret needs a value here: for one that is missing, the Functions emulator
 * asks Secret Manager on each runtime start. Values already in the file are kept (and every
 * other line with them); only missing ones are added. Locally the next cron key differs from
 * the current one, so both keys are exercised. Safe when several runs start at once: the
 * file is created whole or not at all (link of a finished temporary file), and every run
 * returns what the file holds afterwards.
 */
export function ensureLocalSecrets(secretFile = join(ROOT, 'functions/.secret.local')): { cronKey: string; cronKeyNext: string } {
  for (;;) {
    const text = existsSync(secretFile) ? readFileSync(secretFile, 'utf8') : null;
    const existing = parseSecrets(text ?? '');
    const wanted: [SecretName, () => string][] = [
      ['INTEGRATIONS_CRON_SECRET', generateCronKey],
      ['INTEGRATIONS_CRON_SECRET_NEXT', generateCronKey],
      ...(Object.entries(DEMO_PLATFORM_SECRETS) as [SecretName, string][]).map(([name, value]): [SecretName, () => string] => [name, () => value]),
    ];
    const missing = wanted.filter(([name]) => !existing.has(name));
    if (missing.length === 0) {
      return { cronKey: existing.get('INTEGRATIONS_CRON_SECRET')!, cronKeyNext: existing.get('INTEGRATIONS_CRON_SECRET_NEXT')! };
    }
    const lines = missing.map(([name, make]) => `${name}=${make()}\n`).join('');
    if (text === null) {
      const temporary = `${secretFile}.${process.pid}.${randomUUID()}.tmp`;
      writeFileSync(temporary, lines, { mode: 0o600 });
      try {
        linkSync(temporary, secretFile);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      } finally {
        unlinkSync(temporary);
      }
    } else {
      appendFileSync(secretFile, `${text === '' || text.endsWith('\n') ? '' : '\n'}${lines}`);
    }
  }
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
