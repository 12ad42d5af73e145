import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { cronKeyMatchesAny } from '../../functions/src/auth/index.js';
import { loadConfig, logConfiguration } from '../../functions/src/config/index.js';
import { captureLog } from '../helpers/logs.js';
import { SECRET_NAMES, boundSecrets, type SecretName } from '../../functions/src/config/secrets.js';

const key = () => randomBytes(32).toString('base64url');

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
    assert.deepEqual(entry.configuration.adminEmails, { count: 1 }, 'personal data: counted, not listed');
    assert.ok(!output.includes('ops@example.com'));
    assert.deepEqual(entry.configuration.alerts, { webhookUrl: '<set>', failureThreshold: 3, throttleMinutes: 60, backlogMinutes: 60, timeoutMs: 3000, adminUrl: null });
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
    assert.deepEqual(config.problems, ['INTEGRATIONS_CRON_SECRET_NEXT must be at least 32 characters']);
  });

  it('weak keys are refused by rule: too short, or too few different characters', () => {
    for (const weak of ['x'.repeat(24), 'x'.repeat(64), 'abababababababababababababababababab', 'password-password-password-password']) {
      const config = loadConfig({ INTEGRATIONS_CRON_SECRET: weak });
      assert.equal(config.cronSecret, null, weak);
      assert.match(config.problems[0]!, /^INTEGRATIONS_CRON_SECRET must (be at least 32 characters|use at least 16 different characters \(a random key does; `npm run secret:generate` makes one\))$/);
    }
    assert.equal(loadConfig({ INTEGRATIONS_CRON_SECRET: 'x'.repeat(24) }).problems[0], 'INTEGRATIONS_CRON_SECRET must be at least 32 characters');
    const current = key();
    assert.equal(loadConfig({ INTEGRATIONS_CRON_SECRET: current }).cronSecret, current);
  });

  it('an empty or blank next key means no rotation: no problem, nothing else accepted', () => {
    const current = key();
    for (const blank of ['', ' ', '\n']) {
      const config = loadConfig({ INTEGRATIONS_CRON_SECRET: current, INTEGRATIONS_CRON_SECRET_NEXT: blank });
      assert.deepEqual(config.problems, [], JSON.stringify(blank));
      assert.equal(config.cronSecretNext, null);
      assert.equal(cronKeyMatchesAny('', [config.cronSecret, config.cronSecretNext]), false);
    }
  });

  it('surrounding whitespace is dropped (as HTTP drops it); a key with a space inside is refused by name', () => {
    const current = key();
    assert.equal(loadConfig({ INTEGRATIONS_CRON_SECRET: `${current}\n` }).cronSecret, current);
    const config = loadConfig({ INTEGRATIONS_CRON_SECRET: `${current} ${key()}` });
    assert.equal(config.cronSecret, null);
    assert.deepEqual(config.problems, ['INTEGRATIONS_CRON_SECRET must be printable ASCII without spaces']);
  });
});

describe('the cold-start log of one function', () => {
  const logged = (config: ReturnType<typeof loadConfig>, bound?: readonly SecretName[]) =>
    (JSON.parse(captureLog(() => logConfiguration(config, bound))) as { configuration: Record<string, unknown> }).configuration;

  it('a current key that is set but refused shows as invalid, not missing', () => {
    const shown = logged(loadConfig({ INTEGRATIONS_CRON_SECRET: 'short', INTEGRATIONS_CRON_SECRET_NEXT: 'also short' }));
    assert.deepEqual(shown.cronKeys, { current: '<invalid>', next: '<invalid>' });
    assert.deepEqual(logged(loadConfig({})).cronKeys, { current: '<missing>', next: '<missing>' });
  });

  it('names the secrets the function binds, and does not report the others as missing', () => {
    // `status` binds no secret: its instance has none of them in its environment.
    const status = logged(loadConfig({ GOOGLE_OAUTH_CLIENT_ID: 'g', LINKEDIN_CLIENT_ID: 'l', TIKTOK_APP_ID: 't' }), boundSecrets('status'));
    assert.deepEqual(status.secretsBound, []);
    assert.equal(status.cronKeys, '<not bound to this function>');
    assert.deepEqual(status.problems, []);
    assert.deepEqual(status.platforms, {
      meta: { enabled: true, apiOrigin: 'default' },
      google: { enabled: false, reason: 'its secrets are not bound to this function' },
      linkedin: { enabled: false, reason: 'its secrets are not bound to this function' },
      tiktok: { enabled: false, reason: 'its secrets are not bound to this function' },
    });
    // `cron` binds the cron keys only: a missing key is its problem, the platforms' secrets are not.
    const cron = logged(loadConfig({ TIKTOK_APP_ID: 't' }), boundSecrets('cron'));
    assert.deepEqual(cron.secretsBound, ['INTEGRATIONS_CRON_SECRET', 'INTEGRATIONS_CRON_SECRET_NEXT']);
    assert.deepEqual(cron.problems, ['INTEGRATIONS_CRON_SECRET is not set']);
    assert.deepEqual((cron.platforms as Record<string, unknown>).tiktok, { enabled: false, reason: 'its secrets are not bound to this function' });
    // `worker` binds everything: a platform without its secret is simply not enabled.
    const worker = logged(loadConfig({ TIKTOK_APP_ID: 't' }), boundSecrets('worker'));
    assert.deepEqual((worker.platforms as Record<string, unknown>).tiktok, { enabled: false });
    assert.deepEqual(boundSecrets(undefined), SECRET_NAMES);
  });
});
