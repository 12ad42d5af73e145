import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { Timestamp } from 'firebase-admin/firestore';
import { jobsCollection, LeaseLostError, lockRef, resetStaleJobs } from '../../functions/src/queue/index.js';
import { dumpDatabase, testFirebase } from '../helpers/firebase.js';
import { allJobs } from '../helpers/queue.js';
import { adsQueue, enqueueJob } from '../../functions/src/scheduler/jobs.js';

const fb = testFirebase('queue-stale');
beforeEach(() => fb.clear());
after(() => fb.close());

describe('resetStaleJobs', () => {
  it('requeues a job whose lease expired and refuses the old worker\'s late result', async () => {
    const { jobId } = await enqueueJob(fb.db, { userId: 'u', providerId: 'meta', jobType: 'scheduled-sync' });
    // A lease of 0 ms has run out by the time anyone looks: the worker claimed and died.
    const [lease] = await adsQueue(fb.db).jobs.claim({ workerId: 'w-dead', max: 1, leaseMs: 0 });
    assert.equal(lease!.job.id, jobId);

    const result = await resetStaleJobs(fb.db, { maxRunMs: 30 * 60_000 });
    assert.deepEqual(result, { reset: 1, failed: 0, jobIds: [jobId] });
    let job = (await allJobs(fb.db))[0]!;
    assert.equal(job.status, 'queued');
    assert.equal(job.lease, null);
    assert.match(job.lastError ?? '', /lease expired: worker w-dead/);

    await assert.rejects(lease!.succeed(), LeaseLostError);
    await assert.rejects(lease!.renew({ done: 1, total: 2 }), LeaseLostError);
    job = (await allJobs(fb.db))[0]!;
    assert.equal(job.status, 'queued', 'the newer state stands');
    assert.equal(job.progress, null);
    assert.equal((await lockRef(fb.db, 'sync:u:meta').get()).get('jobId'), jobId, 'the slot stays with the job');
  });

  it('fails a stale job that is out of attempts and frees its slot', async () => {
    await enqueueJob(fb.db, { userId: 'u', providerId: 'google', jobType: 'manual-sync', maxAttempts: 1 });
    await adsQueue(fb.db).jobs.claim({ workerId: 'w-dead', max: 1, leaseMs: 0 });
    const result = await resetStaleJobs(fb.db, { maxRunMs: 30 * 60_000 });
    assert.equal(result.failed, 1);
    assert.equal(result.reset, 0);
    const job = (await allJobs(fb.db))[0]!;
    assert.equal(job.status, 'failed');
    assert.ok(job.finishedAt);
    assert.equal((await lockRef(fb.db, 'sync:u:google').get()).exists, false);
  });

  it('resets a job running longer than the limit even with a live lease, and leaves fresh ones alone', async () => {
    await enqueueJob(fb.db, { userId: 'old', providerId: 'tiktok', jobType: 'scheduled-sync' });
    const [slow] = await adsQueue(fb.db).jobs.claim({ workerId: 'w-slow', max: 1, leaseMs: 3_600_000 });
    // It started 31 minutes ago; the limit is 30.
    await jobsCollection(fb.db).doc(slow!.job.id).update({ startedAt: Timestamp.fromMillis(Date.now() - 31 * 60_000) });
    await enqueueJob(fb.db, { userId: 'fresh', providerId: 'tiktok', jobType: 'scheduled-sync' });
    const [fresh] = await adsQueue(fb.db).jobs.claim({ workerId: 'w-ok', max: 1, leaseMs: 3_600_000 });
    const options = { maxRunMs: 30 * 60_000 };
    const result = await resetStaleJobs(fb.db, options);
    assert.deepEqual(result, { reset: 1, failed: 0, jobIds: [slow!.job.id] });
    const jobs = await allJobs(fb.db);
    assert.equal(jobs.find((j) => j.id === slow!.job.id)!.status, 'queued');
    const kept = jobs.find((j) => j.id === fresh!.job.id)!;
    assert.equal(kept.status, 'running');
    assert.equal(kept.lease?.workerId, 'w-ok');

    const before = await dumpDatabase(fb);
    const second = await resetStaleJobs(fb.db, options);
    assert.deepEqual(second, { reset: 0, failed: 0, jobIds: [] }, 'repeating the call changes nothing');
    assert.deepEqual(await dumpDatabase(fb), before, 'not one document written');
  });

  it('leaves a job with a live lease alone', async () => {
    await enqueueJob(fb.db, { userId: 'u', providerId: 'linkedin', jobType: 'scheduled-sync' });
    const [lease] = await adsQueue(fb.db).jobs.claim({ workerId: 'w', max: 1, leaseMs: 60_000 });
    const result = await resetStaleJobs(fb.db, { maxRunMs: 30 * 60_000 });
    assert.equal(result.reset, 0);
    await lease!.succeed();
    assert.equal((await allJobs(fb.db))[0]!.status, 'succeeded');
  });
});
