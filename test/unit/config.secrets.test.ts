import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { cronKeyMatchesAny } from '../../functions/src/auth/index.js';
import { loadConfig, logConfiguration } from '../../functions/src/config/index.js';
import { SECRET_NAMES } from '../../functions/src/config/secrets.js';

const key = () => randomBytes(32).toString('base64url');

/** What the functions logger writes (stdout, and stderr for warnings and errors) while `fn` runs. */
function captureLog(fn: () => void): string {
  const chunks: string[] = [];
  const stdout = process.stdout.write.bind(process.stdout);
  const stderr = process.stderr.write.bind(process.stderr);
  const capture = (chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  };
  process.stdout.write = capture as typeof process.stdout.write;
  process.stderr.write = capture as typeof process.stderr.write;
  try {
    fn();
  } finally {
    process.stdout.write = stdout;
    process.stderr.write = stderr;
  }
  return chunks.join('');
}

describe('secrets in the configuration', () => {
  it('the cold-start log shows every setting, and none of the secret values', () => {
    const secrets = Object.fromEntries(SECRET_NAMES.map((name) => [name, key()]));
    const webhook = `https://hooks.slack.example/services/${key()}`;
    const config = loadConfig({
      ...secrets,
      SCHEDULER_ALERT_WEBHOOK_URL: webhook,
      ADMIN_EMAILS: 'ops@example.com',
      GOOGLE_OAUTH_CLIENT_ID: 'google-client',
      LINKEDIN_CLIENT_ID: 'linkedin-client',
      TIKTOK_APP_ID: 'tiktok-app',
      META_API_BASE_URL: 'http://user:password@127.0.0.1:8790/meta',
    });
    assert.deepEqual(config.problems, []);
    const output = captureLog(() => logConfiguration(config));

    for (const [name, value] of Object.entries(secrets)) assert.ok(!output.includes(value), `${name} appears in the log`);
    assert.ok(!output.includes(webhook.split('/').pop()!), 'the webhook URL appears in the log');
    assert.ok(!output.includes('password'));
    const lines = output.trim().split('\n');
    assert.equal(lines.length, 1);
    const entry = JSON.parse(lines[0]!) as { severity: string; message: string; configuration: Record<string, unknown> };
    assert.equal(entry.severity, 'INFO');
    assert.equal(entry.message, 'configuration loaded');
    assert.deepEqual(entry.configuration.cronKeys, { current: '<set>', next: '<set>' });
    assert.deepEqual(entry.configuration.adminEmails, ['ops@example.com']);
    assert.deepEqual(entry.configuration.alerts, { webhookUrl: '<set>', failureThreshold: 3 });
    assert.deepEqual(entry.configuration.platforms, {
      meta: { enabled: true, apiOrigin: 'http://127.0.0.1:8790' },
      google: { enabled: true, apiOrigin: 'default' },
      linkedin: { enabled: true, apiOrigin: 'default' },
      tiktok: { enabled: true, apiOrigin: 'default' },
    });
  });

  it('a configuration with problems is logged naming them', () => {
    const output = captureLog(() => logConfiguration(loadConfig({})));
    const entry = JSON.parse(output) as { severity: string; configuration: { problems: string[]; cronKeys: unknown } };
    assert.equal(entry.severity, 'INFO');
    assert.deepEqual(entry.configuration.problems, ['INTEGRATIONS_CRON_SECRET is not set']);
    assert.deepEqual(entry.configuration.cronKeys, { current: '<missing>', next: '<missing>' });
  });

  it('outside a rotation the next key equals the current one, and the log says so', () => {
    const current = key();
    const config = loadConfig({ INTEGRATIONS_CRON_SECRET: current, INTEGRATIONS_CRON_SECRET_NEXT: current });
    const entry = JSON.parse(captureLog(() => logConfiguration(config))) as { configuration: { cronKeys: unknown } };
    assert.deepEqual(entry.configuration.cronKeys, { current: '<set>', next: '<same as current>' });
  });
});

describe('cron key rotation', () => {
  it('accepts the current and the next key, and nothing else', () => {
    const current = key();
    const next = key();
    const config = loadConfig({ INTEGRATIONS_CRON_SECRET: current, INTEGRATIONS_CRON_SECRET_NEXT: next });
    const accepted = [config.cronSecret, config.cronSecretNext];
    assert.equal(cronKeyMatchesAny(current, accepted), true);
    assert.equal(cronKeyMatchesAny(next, accepted), true);
    assert.equal(cronKeyMatchesAny(`${current}${next}`, accepted), false);
    assert.equal(cronKeyMatchesAny(undefined, accepted), false);
    assert.equal(cronKeyMatchesAny(next, [config.cronSecret, null]), false);
  });

  it('a bad next key is named and ignored; the current key keeps working', () => {
    const current = key();
    const config = loadConfig({ INTEGRATIONS_CRON_SECRET: current, INTEGRATIONS_CRON_SECRET_NEXT: 'too-short' });
    assert.equal(config.cronSecret, current);
    assert.equal(config.cronSecretNext, null);
    assert.deepEqual(config.problems, ['INTEGRATIONS_CRON_SECRET_NEXT must be at least 24 characters']);
  });

  it('surrounding whitespace is dropped (as HTTP drops it); a key with a space inside is refused by name', () => {
    const current = key();
    assert.equal(loadConfig({ INTEGRATIONS_CRON_SECRET: `${current}\n` }).cronSecret, current);
    const config = loadConfig({ INTEGRATIONS_CRON_SECRET: `${current} ${key()}` });
    assert.equal(config.cronSecret, null);
    assert.deepEqual(config.problems, ['INTEGRATIONS_CRON_SECRET must be printable ASCII without spaces']);
  });
});
