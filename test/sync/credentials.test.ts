import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Timestamp } from 'firebase-admin/firestore';
import { jobsCollection, runWorker } from '../../functions/src/queue/index.js';
import { createSyncHandlers } from '../../functions/src/sync/handler.js';
import { credentialsRef } from '../../functions/src/sync/store.js';
import { allJobs, workerOptions } from '../helpers/queue.js';
import { connectIntegration, useSyncBed } from '../helpers/syncBed.js';
import { REFRESH_PATHS } from '../providers/helpers.js';
import { adsQueue, enqueueJob } from '../../functions/src/scheduler/jobs.js';

const test = useSyncBed('sync-credentials');
const { fb } = test;
const storedToken = async (userId: string, providerId: 'google' | 'tiktok') => (await credentialsRef(fb.db, userId, providerId).get()).get('accessToken') as string;

describe('refreshed credentials', () => {
  it('are stored the moment they are issued: a token that rotates survives a failure later in the sync', async () => {
    const { sandbox, connectors } = test.bed;
    await connectIntegration(fb.db, sandbox, 'u1', 'google');
    const original = await storedToken('u1', 'google');
    // The stored token has expired; the refresh spends the refresh token; the next request is refused for a long while.
    sandbox.setFaults('google', { expiredTokens: true, rotateRefreshTokens: true, rateLimit: { after: 1, count: 1, retryAfterSeconds: 600 } });
    await enqueueJob(fb.db, { userId: 'u1', providerId: 'google', jobType: 'scheduled-sync' });
    const handlers = createSyncHandlers(fb.db, { connectors });
    const options = workerOptions(handlers, { retry: { baseMs: 1, maxMs: 1, maxAttempts: 3 }, maxJobs: 1 });
    const first = await runWorker(adsQueue(fb.db), options);
    assert.equal(first.jobs[0]!.result, 'deferred', first.jobs[0]!.error);
    assert.equal(sandbox.requests('google').byPath[REFRESH_PATHS.google!], 1);
    assert.notEqual(await storedToken('u1', 'google'), original, 'the new token was stored although the sync failed');

    // The platform's wait has passed (moved forward here instead of waited), the limit is gone.
    sandbox.setFaults('google', { rotateRefreshTokens: true });
    await jobsCollection(fb.db).doc(first.jobs[0]!.id).update({ runAfter: Timestamp.now() });
    const second = await runWorker(adsQueue(fb.db), options);
    assert.equal(second.jobs[0]!.result, 'succeeded', second.jobs[0]!.error);
    assert.equal(sandbox.requests('google').byPath[REFRESH_PATHS.google!], 1, 'no second refresh with the spent refresh token');
    assert.equal((await fb.db.doc('users/u1/integrations/google').get()).get('status'), 'connected');
  });

  it('the sync and backfill lanes refreshing one credential at once converge on one refresh', async () => {
    const { sandbox, connectors } = test.bed;
    await connectIntegration(fb.db, sandbox, 'u2', 'tiktok');
    sandbox.setFaults('tiktok', { expiredTokens: true, rotateRefreshTokens: true });
    await enqueueJob(fb.db, { userId: 'u2', providerId: 'tiktok', jobType: 'scheduled-sync' });
    await enqueueJob(fb.db, { userId: 'u2', providerId: 'tiktok', jobType: 'initial-backfill', payload: { timeframeDays: 20 } });
    const handlers = createSyncHandlers(fb.db, { connectors, backfillChunkDays: 30 });
    const report = await runWorker(adsQueue(fb.db), workerOptions(handlers, { concurrency: 2, retry: { baseMs: 60_000, maxMs: 60_000, maxAttempts: 3 } }));
    assert.deepEqual(report.jobs.map((j) => j.result).sort(), ['succeeded', 'succeeded'], JSON.stringify(report.jobs));
    assert.equal(sandbox.requests('tiktok').byPath[REFRESH_PATHS.tiktok!], 1);
    assert.ok((await allJobs(fb.db)).every((j) => j.status === 'succeeded'));
    const stored = (await credentialsRef(fb.db, 'u2', 'tiktok').get()).data()!;
    assert.equal(stored.refreshingUntil, undefined, 'the refresh lease is released');
    assert.equal((await fb.db.doc('users/u2/integrations/tiktok').get()).get('status'), 'connected');
  });
});
