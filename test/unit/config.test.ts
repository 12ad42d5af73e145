import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig, redactedConfig } from '../../functions/src/config/index.js';
import { cronKeyMatches, isAdmin } from '../../functions/src/auth/index.js';
import type { DecodedIdToken } from 'firebase-admin/auth';

const SECRET = 'a-long-enough-cron-secret-value';

describe('loadConfig', () => {
  it('parses a complete environment with defaults', () => {
    const config = loadConfig({ INTEGRATIONS_CRON_SECRET: SECRET, ADMIN_EMAILS: ' Ops@Example.com, b@example.com ' });
    assert.equal(config.cronSecret, SECRET);
    assert.deepEqual(config.adminEmails, ['ops@example.com', 'b@example.com']);
    assert.equal(config.alerts.failureThreshold, 3);
    assert.equal(config.queue.retentionDays, 7);
    assert.equal(config.queue.maxAttempts, 3);
    assert.deepEqual(config.problems, []);
    assert.ok(Object.isFrozen(config));
  });

  it('a missing or short secret leaves it null and names the variable, never the value', () => {
    assert.equal(loadConfig({}).cronSecret, null);
    assert.deepEqual(loadConfig({}).problems, ['INTEGRATIONS_CRON_SECRET is not set']);
    const value = 'too-short-S3cr3t';
    const short = loadConfig({ INTEGRATIONS_CRON_SECRET: value });
    assert.equal(short.cronSecret, null);
    assert.match(short.problems[0]!, /^INTEGRATIONS_CRON_SECRET must be at least 24 characters$/);
    assert.equal(short.problems.length, 1);
    for (const text of [...short.problems, JSON.stringify(redactedConfig(short))]) assert.ok(!text.includes(value), `echoes the value: ${text}`);
  });

  it('reports a bad number by name and keeps the default', () => {
    const config = loadConfig({ INTEGRATIONS_CRON_SECRET: SECRET, JOB_MAX_ATTEMPTS: 'lots' });
    assert.equal(config.queue.maxAttempts, 3);
    assert.equal(config.problems.length, 1);
    assert.match(config.problems[0]!, /^JOB_MAX_ATTEMPTS /);
  });

  it('flags the Auth emulator variable outside the emulator', () => {
    const config = loadConfig({ INTEGRATIONS_CRON_SECRET: SECRET, FIREBASE_AUTH_EMULATOR_HOST: '127.0.0.1:9099' });
    assert.match(config.problems.join(), /FIREBASE_AUTH_EMULATOR_HOST/);
  });

  it('redacts secrets for logging', () => {
    const text = JSON.stringify(redactedConfig(loadConfig({ INTEGRATIONS_CRON_SECRET: SECRET, SCHEDULER_ALERT_WEBHOOK_URL: 'https://hooks.example.com/T/secret' })));
    assert.ok(!text.includes(SECRET));
    assert.ok(!text.includes('hooks.example.com'));
  });
});

describe('auth', () => {
  it('compares cron keys exactly, whatever their length', () => {
    assert.equal(cronKeyMatches(SECRET, SECRET), true);
    assert.equal(cronKeyMatches(`${SECRET}x`, SECRET), false);
    assert.equal(cronKeyMatches('', SECRET), false);
    assert.equal(cronKeyMatches(undefined, SECRET), false);
    assert.equal(cronKeyMatches(SECRET, null), false);
  });

  it('admin: claim, or a verified email on the list', () => {
    const token = (t: Partial<DecodedIdToken>) => t as DecodedIdToken;
    assert.equal(isAdmin(token({ admin: true }), []), true);
    assert.equal(isAdmin(token({ email: 'OPS@example.com', email_verified: true }), ['ops@example.com']), true);
    assert.equal(isAdmin(token({ email: 'ops@example.com', email_verified: false }), ['ops@example.com']), false);
    assert.equal(isAdmin(token({ email: 'x@example.com', email_verified: true }), ['ops@example.com']), false);
  });
});
