import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Timestamp } from 'firebase-admin/firestore';
import { pendingConnectionRef, selectAccount } from '../../functions/src/connect/flow.js';
import { runWorker } from '../../functions/src/queue/index.js';
import type { ProviderId } from '../../functions/src/schema/index.js';
import { accountProfile } from '../../scripts/sandbox/server.js';
import { testContext } from '../helpers/firebase.js';
import { allJobs, workerOptions } from '../helpers/queue.js';
import { connectIntegration, useSyncBed } from '../helpers/syncBed.js';
import { ACCOUNTS } from '../providers/helpers.js';
import { adsQueue, enqueueJob } from '../../functions/src/scheduler/jobs.js';

/** Picking an account again: the history of the account picked is always loaded, whatever ran before. */
const sb = useSyncBed('connect-reconnect', { backfillChunkDays: 30, backfillChunksPerRun: 1 });
const { fb } = sb;

async function pick(userId: string, providerId: ProviderId, accountId: string) {
  const issued = sb.bed.sandbox.issueCredentials(providerId);
  await pendingConnectionRef(fb.db, userId, providerId).set({
    userId,
    providerId,
    credentials: { accessToken: issued.accessToken, refreshToken: issued.refreshToken, expiresAt: issued.expiresAt },
    accounts: [{ id: accountId, name: 'Picked', currency: accountProfile(providerId, accountId).currency, timezone: 'UTC', managerId: null, managerName: null }],
    expiresAt: Timestamp.fromMillis(Date.now() + 600_000),
  });
  return selectAccount(testContext(fb), userId, { providerId, accountId, managerId: null });
}

const integration = async (userId: string, providerId: ProviderId) => (await fb.db.doc(`users/${userId}/integrations/${providerId}`).get()).data()!;

describe('reconnect and history', () => {
  it('another account while a backfill is under way: the old backfill is cancelled and the new account loads its own history from the start', async () => {
    await connectIntegration(fb.db, sb.bed.sandbox, 'u1', 'linkedin');
    const { jobId: oldBackfill } = await enqueueJob(fb.db, { userId: 'u1', providerId: 'linkedin', jobType: 'initial-backfill', payload: { timeframeDays: 90 } });
    const first = await runWorker(adsQueue(fb.db), workerOptions(sb.handlers, { maxJobs: 1 }));
    assert.equal(first.jobs[0]!.result, 'continued', 'the backfill is under way');

    const OTHER = '5559999';
    const picked = await pick('u1', 'linkedin', OTHER);
    assert.equal(picked.jobType, 'initial-backfill');
    assert.equal(picked.duplicate, false);
    assert.notEqual(picked.jobId, oldBackfill);
    const jobs = await allJobs(fb.db);
    assert.equal(jobs.find((j) => j.id === oldBackfill)!.status, 'cancelled');
    const fresh = jobs.find((j) => j.id === picked.jobId)!;
    assert.deepEqual([fresh.status, fresh.progress, fresh.payload.backfill], ['queued', null, undefined]);
    assert.equal(jobs.filter((j) => j.status === 'queued' && j.jobType === 'manual-sync').length, 1, 'the recent weeks of the new account too');
    assert.equal((await integration('u1', 'linkedin')).accountId, OTHER);
  });

  it('the same account after its backfill failed: the history is loaded again', async () => {
    await connectIntegration(fb.db, sb.bed.sandbox, 'u2', 'google');
    // The 30-day sync succeeded, the backfill did not finish.
    await fb.db.doc('users/u2/integrations/google').update({ accountId: ACCOUNTS.google.id, lastSyncedAt: Timestamp.now(), lastSyncStatus: 'succeeded', status: 'error' });
    const picked = await pick('u2', 'google', ACCOUNTS.google.id);
    assert.equal(picked.jobType, 'initial-backfill');
    assert.deepEqual((await allJobs(fb.db)).map((j) => j.jobType).sort(), ['initial-backfill', 'manual-sync']);
  });

  it('the same account once its backfill completed: only a catch-up sync', async () => {
    await connectIntegration(fb.db, sb.bed.sandbox, 'u3', 'google');
    await fb.db.doc('users/u3/integrations/google').update({ accountId: ACCOUNTS.google.id });
    await enqueueJob(fb.db, { userId: 'u3', providerId: 'google', jobType: 'initial-backfill', payload: { timeframeDays: 60 } });
    for (let run = 0; run < 5 && (await allJobs(fb.db)).some((j) => j.status === 'queued'); run++) await runWorker(adsQueue(fb.db), workerOptions(sb.handlers));
    assert.deepEqual((await allJobs(fb.db)).map((j) => j.status), ['succeeded']);
    assert.ok((await integration('u3', 'google')).historyLoadedAt instanceof Timestamp, 'the completed backfill is recorded');
    const picked = await pick('u3', 'google', ACCOUNTS.google.id);
    assert.equal(picked.jobType, 'manual-sync');
  });
});
