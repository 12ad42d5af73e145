import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import type { Timestamp } from 'firebase-admin/firestore';
import { createConnectors } from '../../functions/src/providers/index.js';
import { circuitsCollection, runWorker } from '../../functions/src/queue/index.js';
import { runCronOperation, scheduleSyncs } from '../../functions/src/scheduler/operations.js';
import { createSyncHandlers } from '../../functions/src/sync/handler.js';
import { credentialsRef } from '../../functions/src/sync/store.js';
import { testConfig, testContext, testFirebase } from '../helpers/firebase.js';
import { allJobs, workerOptions } from '../helpers/queue.js';
import { seedIntegrations } from '../helpers/seed.js';
import { adsQueue, enqueueJob } from '../../functions/src/scheduler/jobs.js';

const fb = testFirebase('scheduler-fanout');
beforeEach(() => fb.clear());
after(() => fb.close());

/** Google and Meta configured (nothing is ever sent to them here); LinkedIn and TikTok not. */
const partialConfig = (env: Record<string, string> = {}) =>
  testConfig({ GOOGLE_ADS_DEVELOPER_TOKEN: 'dev', GOOGLE_OAUTH_CLIENT_ID: 'id', GOOGLE_OAUTH_CLIENT_SECRET: 'secret', ...env });

async function processAllUsers(ctx: ReturnType<typeof testContext>) {
  await runCronOperation(ctx, { operation: 'process_all_users', maxUsers: 500, jobType: 'scheduled-sync' });
  // Only the fan-out runs here: the sync jobs it creates stay queued for the assertions.
  await runWorker(adsQueue(fb.db), workerOptions({ 'fan-out': ctx.handlers['fan-out'] }, { maxJobs: 10, concurrency: 1 }));
  return (await allJobs(fb.db)).filter((j) => j.jobType !== 'fan-out');
}

describe('process_all_users fan-out', () => {
  it('an integration without nextRunAt is due, and gets a real nextRunAt', async () => {
    await seedIntegrations(fb.db, [
      { userId: 'never-scheduled', providerId: 'google', nextRunAt: null },
      { userId: 'never-scheduled-off', providerId: 'google', nextRunAt: null, enabled: false },
      { userId: 'due', providerId: 'meta' },
      { userId: 'later', providerId: 'meta', nextRunAt: new Date(Date.now() + 3_600_000) },
    ]);
    const jobs = await processAllUsers(testContext(fb, { config: partialConfig() }));
    assert.deepEqual(jobs.map((j) => j.userId).sort(), ['due', 'never-scheduled']);
    const integration = await fb.db.doc('users/never-scheduled/integrations/google').get();
    assert.ok((integration.get('nextRunAt') as Timestamp).toMillis() > Date.now(), 'a real nextRunAt, in the future');
    assert.equal((await fb.db.doc('users/never-scheduled-off/integrations/google').get()).get('nextRunAt'), null);
  });

  it('skips the platforms whose app credentials are not configured', async () => {
    await seedIntegrations(fb.db, ['google', 'meta', 'linkedin', 'tiktok'].flatMap((providerId) => [
      { userId: 'a', providerId: providerId as 'google' },
      { userId: 'b', providerId: providerId as 'google', nextRunAt: null },
    ]));
    const jobs = await processAllUsers(testContext(fb, { config: partialConfig() }));
    assert.deepEqual(jobs.map((j) => `${j.userId}/${j.providerId}`).sort(), ['a/google', 'a/meta', 'b/google', 'b/meta']);
  });

  it('a job for a platform that is not configured fails at once, naming the missing settings', async () => {
    const config = partialConfig();
    await seedIntegrations(fb.db, [{ userId: 'u', providerId: 'tiktok' }]);
    await credentialsRef(fb.db, 'u', 'tiktok').set({ accessToken: 'at', refreshToken: 'rt', expiresAt: null });
    await enqueueJob(fb.db, { userId: 'u', providerId: 'tiktok', jobType: 'manual-sync' });
    const handlers = createSyncHandlers(fb.db, { connectors: createConnectors({}), missingSettings: config.missingProviderSettings });
    const report = await runWorker(adsQueue(fb.db), workerOptions(handlers, { retry: { baseMs: 1, maxMs: 1, maxAttempts: 3 } }));
    assert.equal(report.counts.failed, 1);
    assert.equal(report.counts.retried, 0);
    const [job] = await allJobs(fb.db);
    assert.equal(job!.status, 'failed');
    assert.equal(job!.attempts, 1);
    assert.equal(job!.lastError, 'PermanentJobError: TikTok Ads is not configured on the server: set TIKTOK_APP_ID, TIKTOK_APP_SECRET');
    assert.equal((await circuitsCollection(fb.db).doc('tiktok').get()).exists, false, 'the circuit is not tripped');
  });

  it('JOB_MAX_ATTEMPTS applies to the fan-out job and to every job it enqueues', async () => {
    await seedIntegrations(fb.db, [{ userId: 'u1', providerId: 'google' }, { userId: 'u2', providerId: 'meta' }]);
    const ctx = testContext(fb, { config: partialConfig({ JOB_MAX_ATTEMPTS: '7' }) });
    const result = await runCronOperation(ctx, { operation: 'process_all_users', maxUsers: 500, jobType: 'scheduled-sync' });
    const fanOut = (await allJobs(fb.db)).find((j) => j.id === (result.operation === 'process_all_users' ? result.jobId : ''))!;
    assert.equal(fanOut.maxAttempts, 7);
    const jobs = await processAllUsers(ctx);
    assert.equal(jobs.length, 2);
    assert.deepEqual(jobs.map((j) => j.maxAttempts), [7, 7]);

    const scheduled = await scheduleSyncs(ctx, { allUsers: true, jobType: 'manual-sync' });
    const allUsersFanOut = (await allJobs(fb.db)).find((j) => j.id === scheduled.jobs[0]!.jobId)!;
    assert.equal(allUsersFanOut.maxAttempts, 7);
  });
});
