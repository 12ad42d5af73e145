import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { Timestamp } from 'firebase-admin/firestore';
import { jobsCollection, lockRef, releaseOrphanedLocks } from '../../functions/src/queue/index.js';
import { runCronOperation } from '../../functions/src/scheduler/operations.js';
import { testContext, testFirebase } from '../helpers/firebase.js';
import { allJobs } from '../helpers/queue.js';
import { adsQueue, enqueueJob } from '../../functions/src/scheduler/jobs.js';

const fb = testFirebase('queue-locks');
beforeEach(() => fb.clear());
after(() => fb.close());

const HOUR = 3_600_000;

describe('a lock whose job is gone is noticed and freed', () => {
  it('enqueue: a job document deleted by hand no longer makes every enqueue a duplicate', async () => {
    const first = await enqueueJob(fb.db, { userId: 'u', providerId: 'meta', jobType: 'scheduled-sync' });
    await jobsCollection(fb.db).doc(first.jobId).delete();
    const again = await enqueueJob(fb.db, { userId: 'u', providerId: 'meta', jobType: 'scheduled-sync' });
    assert.equal(again.duplicate, false);
    assert.notEqual(again.jobId, first.jobId);
    assert.equal((await lockRef(fb.db, 'sync:u:meta').get()).get('jobId'), again.jobId);
    assert.deepEqual((await allJobs(fb.db)).map((j) => j.id), [again.jobId]);
  });

  it('enqueue: a lock left behind by a finished job is freed too', async () => {
    const first = await enqueueJob(fb.db, { userId: 'u', providerId: 'google', jobType: 'manual-sync' });
    await jobsCollection(fb.db).doc(first.jobId).update({ status: 'failed', finishedAt: Timestamp.now() });
    const again = await enqueueJob(fb.db, { userId: 'u', providerId: 'google', jobType: 'manual-sync' });
    assert.equal(again.duplicate, false);
    const still = await enqueueJob(fb.db, { userId: 'u', providerId: 'google', jobType: 'manual-sync' });
    assert.deepEqual([still.duplicate, still.jobId], [true, again.jobId], 'an active job keeps its slot');
  });

  it('reset_stale_jobs frees old locks whose job is gone and leaves the locks of queued and running jobs', async () => {
    const gone = await enqueueJob(fb.db, { userId: 'gone', providerId: 'tiktok', jobType: 'scheduled-sync' });
    await jobsCollection(fb.db).doc(gone.jobId).delete();
    const queued = await enqueueJob(fb.db, { userId: 'queued', providerId: 'tiktok', jobType: 'initial-backfill', priority: -50 });
    await enqueueJob(fb.db, { userId: 'running', providerId: 'tiktok', jobType: 'scheduled-sync' });
    await adsQueue(fb.db).jobs.claim({ workerId: 'w', max: 1, leaseMs: 10 * HOUR });
    // All three locks are two hours old, past the one-hour limit below.
    const old = Timestamp.fromMillis(Date.now() - 2 * HOUR);
    for (const key of ['sync:gone:tiktok', 'backfill:queued:tiktok', 'sync:running:tiktok']) await lockRef(fb.db, key).update({ createdAt: old });

    const result = await runCronOperation(testContext(fb), { operation: 'reset_stale_jobs', maxRunMinutes: 60 });
    assert.deepEqual(result.operation === 'reset_stale_jobs' && [result.reset, result.failed, result.locksFreed], [0, 0, 1]);
    assert.equal((await lockRef(fb.db, 'sync:gone:tiktok').get()).exists, false);
    assert.equal((await lockRef(fb.db, 'backfill:queued:tiktok').get()).get('jobId'), queued.jobId);
    assert.equal((await lockRef(fb.db, 'sync:running:tiktok').get()).exists, true);
    const event = (await fb.db.collection('admin/scheduler/events').get()).docs[0]!;
    assert.equal(event.get('counts.deleted'), 1);
    assert.equal((await enqueueJob(fb.db, { userId: 'gone', providerId: 'tiktok', jobType: 'scheduled-sync' })).duplicate, false);
  });
});

describe('orphaned locks behind a page of live ones', () => {
  it('are found: the check pages past old locks whose jobs are still waiting', async () => {
    const live = await Promise.all(['a', 'b', 'c'].map((u) => enqueueJob(fb.db, { userId: u, providerId: 'linkedin', jobType: 'scheduled-sync' })));
    const gone = await enqueueJob(fb.db, { userId: 'd', providerId: 'linkedin', jobType: 'scheduled-sync' });
    // The live locks are the oldest (a day-long pause keeps their jobs queued); the orphan is newer.
    for (const [i, { jobId }] of live.entries()) {
      const job = (await jobsCollection(fb.db).doc(jobId).get()).data()!;
      await lockRef(fb.db, job.dedupeKey as string).update({ createdAt: Timestamp.fromMillis(Date.now() - 10 * HOUR - i) });
    }
    await lockRef(fb.db, 'sync:d:linkedin').update({ createdAt: Timestamp.fromMillis(Date.now() - 2 * HOUR) });
    await jobsCollection(fb.db).doc(gone.jobId).delete();
    const freed = await releaseOrphanedLocks(fb.db, { olderThanMs: HOUR, limit: 2 });
    assert.equal(freed, 1);
    assert.equal((await lockRef(fb.db, 'sync:d:linkedin').get()).exists, false);
    for (const u of ['a', 'b', 'c']) assert.equal((await lockRef(fb.db, `sync:${u}:linkedin`).get()).exists, true);
  });
});
