import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { runWorker } from '../../functions/src/queue/index.js';
import { loadConfig, type Config } from '../../functions/src/config/index.js';
import { ADMIN_EMAIL, AUTH_HOST, dumpDatabase, idTokenFor, serveEndpoints, TEST_CRON_KEY, testConfig, testContext, testFirebase, type TestServer } from '../helpers/firebase.js';
import { allJobs, workerOptions } from '../helpers/queue.js';
import { seedIntegrations } from '../helpers/seed.js';
import { adsQueue, enqueueJob } from '../../functions/src/scheduler/jobs.js';

const fb = testFirebase('http-security');
const servers: TestServer[] = [];
beforeEach(() => fb.clear());
after(async () => {
  for (const server of servers) await server.close();
  await fb.close();
});

async function serve(config: Config = testConfig()) {
  const server = await serveEndpoints(testContext(fb, { config }));
  servers.push(server);
  const call = async (endpoint: string, init: { method?: string; key?: string; token?: string; body?: unknown } = {}) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (init.key) headers['x-cron-key'] = init.key;
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    const method = init.method ?? 'POST';
    const response = await fetch(`${server.url}/${endpoint}`, { method, headers, body: method === 'GET' ? undefined : JSON.stringify(init.body ?? {}) });
    const text = await response.text();
    return { status: response.status, text, json: JSON.parse(text) as Record<string, unknown> };
  };
  return call;
}

describe('a user never sees another user\'s errors', () => {
  it('/status names a paused platform but not the error from someone else\'s job that paused it', async () => {
    const secret = 'campaign "Project Mercury" for owner-a@example.com was rejected';
    await enqueueJob(fb.db, { userId: 'owner-a', providerId: 'meta', jobType: 'scheduled-sync' });
    await runWorker(adsQueue(fb.db), workerOptions({ 'scheduled-sync': async () => Promise.reject(new Error(secret)) }, { circuit: { failureThreshold: 1, cooldownMs: 600_000 } }));
    const call = await serve();
    const other = await idTokenFor(fb, { email: 'someone-else@example.com' });
    await seedIntegrations(fb.db, [{ userId: other.uid, providerId: 'meta' }]);
    const response = await call('status', { method: 'GET', token: other.token });
    assert.equal(response.status, 200, response.text);
    assert.deepEqual((response.json.pausedProviders as { providerId: string }[]).map((p) => p.providerId), ['meta']);
    assert.ok(!response.text.includes('Mercury'), response.text);
    assert.ok(!response.text.includes('owner-a'), response.text);
  });
});

describe('FIREBASE_AUTH_EMULATOR_HOST outside the emulator', () => {
  it('refuses every token-authenticated call, forged admin claims included, and changes nothing', async () => {
    // The deployed shape with the variable left in: not FUNCTIONS_EMULATOR, but the Auth emulator host set.
    const call = await serve(loadConfig({ INTEGRATIONS_CRON_SECRET: TEST_CRON_KEY, ADMIN_EMAILS: ADMIN_EMAIL, FIREBASE_AUTH_EMULATOR_HOST: AUTH_HOST }));
    const user = await idTokenFor(fb, { email: 'user@example.com' });
    const forged = await idTokenFor(fb, { email: 'mallory@example.com', claims: { admin: true } });
    await seedIntegrations(fb.db, [{ userId: user.uid, providerId: 'google' }]);
    const before = await dumpDatabase(fb);
    const status = await call('status', { method: 'GET', token: user.token });
    assert.equal(status.status, 503, status.text);
    assert.match(status.json.error as string, /FIREBASE_AUTH_EMULATOR_HOST/);
    const schedule = await call('schedule', { token: forged.token, body: { userId: user.uid } });
    assert.equal(schedule.status, 503, schedule.text);
    assert.deepEqual(await dumpDatabase(fb), before);
    // The cron key does not depend on ID tokens and still works.
    assert.equal((await call('schedule', { key: TEST_CRON_KEY, body: { userId: user.uid } })).status, 202);
  });
});

describe('unsafe settings are refused with the setting named', () => {
  it('reset_stale_jobs with a maxRunMinutes shorter than a job\'s lease: 400, and a live job keeps running', async () => {
    const call = await serve();
    await enqueueJob(fb.db, { userId: 'u', providerId: 'tiktok', jobType: 'scheduled-sync' });
    await adsQueue(fb.db).jobs.claim({ workerId: 'alive', max: 1, leaseMs: 180_000 });
    // Started two minutes ago, well within its lease.
    const [job] = await allJobs(fb.db);
    await fb.db.doc(`syncJobs/${job!.id}`).update({ startedAt: new Date(Date.now() - 120_000) });
    const before = await dumpDatabase(fb);
    const response = await call('cron', { key: TEST_CRON_KEY, body: { operation: 'reset_stale_jobs', maxRunMinutes: 1 } });
    assert.equal(response.status, 400, response.text);
    assert.equal(response.json.field, 'maxRunMinutes');
    assert.match(response.json.error as string, /^maxRunMinutes: must be at least 3 \(JOB_TIMEOUT_MS plus JOB_LEASE_MARGIN_MS/);
    assert.deepEqual(await dumpDatabase(fb), before);
  });

  it('a worker whose job timeout exceeds its budget refuses to run (503 naming both) instead of claiming nothing', async () => {
    const call = await serve(testConfig({ JOB_TIMEOUT_MS: '600000', WORKER_BUDGET_MS: '480000' }));
    await enqueueJob(fb.db, { userId: 'u', providerId: 'tiktok', jobType: 'scheduled-sync' });
    const before = await dumpDatabase(fb);
    const response = await call('worker', { key: TEST_CRON_KEY, body: { maxJobs: 5 } });
    assert.equal(response.status, 503, response.text);
    assert.match(response.json.error as string, /JOB_TIMEOUT_MS \(600 s\) must not exceed WORKER_BUDGET_MS \(480 s\)/);
    assert.deepEqual(await dumpDatabase(fb), before);
    const health = await call('health', { method: 'GET' });
    assert.equal(health.status, 503);
    assert.match(health.text, /JOB_TIMEOUT_MS/);
  });
});
