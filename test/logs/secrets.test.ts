import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { defaultHandlers } from '../../functions/src/context.js';
import { credentialsRef } from '../../functions/src/sync/store.js';
import { PROVIDER_IDS, type ProviderId } from '../../functions/src/schema/index.js';
import { DEMO_PLATFORM_SECRETS } from '../../scripts/localConfig.js';
import { startSandbox, type Sandbox } from '../../scripts/sandbox/server.js';
import { ADMIN_EMAIL, TEST_CRON_KEY, idTokenFor, serveEndpoints, testConfig, testContext, testFirebase, type TestServer } from '../helpers/firebase.js';
import { clickThrough, connectEnv, serveHub } from '../helpers/hub.js';
import { captureLogs, type LogEntry } from '../helpers/logs.js';
import { allJobs } from '../helpers/queue.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook.js';
import { connectIntegration } from '../helpers/syncBed.js';

/**
 * A whole working day of the functions, in process and over real HTTP, with every log line
 * captured: scheduled syncs through the sandbox with token refreshes, a revoked grant, a
 * connect flow, admin and user calls, refused calls. Then the log is searched for every
 * secret and token that took part.
 */
const fb = testFirebase('logs-secrets');
const NEXT_KEY = randomBytes(32).toString('base64url');
let receiver: WebhookReceiver;
let sandbox: Sandbox;
let endpoints: TestServer;
let hub: TestServer;

before(async () => {
  await fb.clear();
  sandbox = await startSandbox({ latencyMs: 1 });
  receiver = await startWebhookReceiver();
  const config = testConfig({
    ...connectEnv(sandbox),
    ...DEMO_PLATFORM_SECRETS,
    INTEGRATIONS_CRON_SECRET_NEXT: NEXT_KEY,
    SCHEDULER_ALERT_WEBHOOK_URL: receiver.url,
    SCHEDULER_ALERT_FAILURE_THRESHOLD: '1',
  });
  const ctx = testContext(fb, { config, handlers: defaultHandlers(fb.db, config) });
  endpoints = await serveEndpoints(ctx);
  hub = await serveHub(ctx);
});
after(async () => {
  await Promise.all([endpoints.close(), hub.close(), sandbox.close(), receiver.close()]);
  await fb.close();
});

const post = async (base: string, path: string, body: unknown, headers: Record<string, string>) => {
  const response = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

describe('structured logs', () => {
  it('one line per endpoint call and per job outcome, with ids and durations; no key, secret or token anywhere', async () => {
    const tokens = new Set<string>();
    const remember = async (userId: string, providerId: ProviderId) => {
      const stored = (await credentialsRef(fb.db, userId, providerId).get()).data() ?? {};
      for (const value of [stored.accessToken, stored.refreshToken]) if (typeof value === 'string') tokens.add(value);
    };
    for (const providerId of PROVIDER_IDS) {
      await connectIntegration(fb.db, sandbox, 'alice', providerId);
      await remember('alice', providerId);
    }
    await connectIntegration(fb.db, sandbox, 'bob', 'tiktok');
    await remember('bob', 'tiktok');
    // Google's access tokens have expired: each sync refreshes with the refresh token and the client secret.
    sandbox.setFaults('google', { expiredTokens: true });
    const admin = await idTokenFor(fb, { email: ADMIN_EMAIL });
    const user = await idTokenFor(fb, { email: 'carol@example.com' });
    const key = { 'x-cron-key': TEST_CRON_KEY };
    const next = { 'x-cron-key': NEXT_KEY };
    const calls: { path: string; status: number }[] = [];
    const call = async (base: string, path: string, body: unknown, headers: Record<string, string>) => {
      const response = await post(base, path, body, headers);
      calls.push({ path, status: response.status });
      return response;
    };

    const capture = captureLogs();
    try {
      assert.equal((await call(endpoints.url, '/cron', { operation: 'process_all_users' }, key)).status, 202);
      assert.equal((await call(endpoints.url, '/worker', { maxJobs: 50 }, next)).status, 200);
      assert.equal((await call(endpoints.url, '/worker', { maxJobs: 50 }, key)).status, 200);
      sandbox.revokeGrants('tiktok');
      assert.equal((await call(endpoints.url, '/schedule', { userId: 'bob', providerId: 'tiktok' }, { authorization: `Bearer ${admin.token}` })).status, 202);
      assert.equal((await call(endpoints.url, '/process', { userId: 'bob' }, key)).status, 200);
      // A person connects Meta: the code exchange sends the app secret to the platform.
      const started = await call(hub.url, '/hub/connect', { providerId: 'meta' }, { authorization: `Bearer ${user.token}` });
      const back = await clickThrough(String(started.body.authorizeUrl));
      const complete = await call(hub.url, '/hub/complete', { providerId: 'meta', state: back.searchParams.get('state'), code: back.searchParams.get('code') }, { authorization: `Bearer ${user.token}` });
      assert.equal(complete.status, 200);
      // Refused calls: a wrong key, a bad body, a non-admin.
      assert.equal((await call(endpoints.url, '/worker', {}, { 'x-cron-key': `${TEST_CRON_KEY}x` })).status, 401);
      assert.equal((await call(endpoints.url, '/cron', { operation: 'drop_everything' }, key)).status, 400);
      assert.equal((await call(endpoints.url, '/schedule', { allUsers: true }, { authorization: `Bearer ${user.token}` })).status, 403);
      const health = await fetch(`${endpoints.url}/health`);
      calls.push({ path: '/health', status: health.status });
      await health.body?.cancel();
    } finally {
      capture.stop();
    }

    for (const userId of ['alice', 'bob']) for (const providerId of PROVIDER_IDS) await remember(userId, providerId);
    for (const doc of (await fb.db.collection('pendingConnections').get()).docs) {
      for (const value of Object.values(doc.data())) if (typeof value === 'string' && value.length > 20) tokens.add(value);
    }
    const secrets: Record<string, string> = {
      'the cron key': TEST_CRON_KEY,
      'the next cron key': NEXT_KEY,
      "the webhook URL's secret path": new URL(receiver.url).pathname,
      "an admin's ID token": admin.token,
      "a user's ID token": user.token,
      ...DEMO_PLATFORM_SECRETS,
      ...Object.fromEntries([...tokens].map((token, i) => [`platform token ${i}`, token])),
    };
    assert.ok(tokens.size >= 10, `tokens issued, refreshed and exchanged: ${tokens.size}`);
    const text = capture.text();
    for (const [what, value] of Object.entries(secrets)) assert.ok(!text.includes(value), `${what} is in the log`);
    // The revoked grant reached Slack as a reconnect alert, naming the platform and no credential.
    assert.ok(receiver.headers().includes('Alert: Integrations need a reconnect, TikTok Ads'), receiver.headers().join(', '));
    const posted = JSON.stringify(receiver.received);
    for (const [what, value] of Object.entries(secrets)) assert.ok(!posted.includes(value), `${what} was posted to the webhook`);

    const entries = capture.entries();
    const endpointLines = entries.filter((e) => typeof e.endpoint === 'string' && typeof e.status === 'number');
    assert.deepEqual(
      endpointLines.map((e) => [e.endpoint, e.status]),
      calls.map((c) => [c.path, c.status]),
      'one line per call, in order',
    );
    for (const e of endpointLines) {
      assert.equal(typeof e.durationMs, 'number');
      assert.equal(e.severity, (e.status as number) >= 500 ? 'ERROR' : (e.status as number) >= 400 ? 'WARNING' : 'INFO');
    }
    assert.equal(endpointLines.find((e) => e.status === 401)?.error, 'x-cron-key is not valid');

    const jobLines = entries.filter((e): e is LogEntry & { jobId: string } => typeof e.jobId === 'string' && typeof e.result === 'string');
    const jobs = await allJobs(fb.db);
    const finished = jobs.filter((job) => job.status === 'succeeded' || job.status === 'failed');
    assert.ok(finished.length >= 6, `jobs: ${jobs.map((j) => `${j.jobType}/${j.providerId}/${j.status}`).join(', ')}`);
    for (const job of finished) {
      const line = jobLines.find((e) => e.jobId === job.id && e.result === job.status);
      assert.ok(line, `no line for job ${job.id} (${job.status})`);
      assert.deepEqual([line.userId, line.platform, line.jobType, line.attempts], [job.userId, job.providerId, job.jobType, job.attempts]);
      assert.equal(typeof line.durationMs, 'number');
      assert.equal(line.severity, job.status === 'failed' ? 'ERROR' : 'INFO');
    }
    const revoked = jobLines.find((e) => e.userId === 'bob' && e.result === 'failed');
    assert.match(String(revoked?.error), /TikTok Ads/);
  });
});
