import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { lockRef } from '../../functions/src/queue/index.js';
import { testFirebase } from '../helpers/firebase.js';
import { allJobs } from '../helpers/queue.js';
import { enqueueJob } from '../../functions/src/scheduler/jobs.js';

const fb = testFirebase('queue-enqueue');
before(() => fb.clear());
beforeEach(() => fb.clear());
after(() => fb.close());

describe('enqueueJob', () => {
  it('keeps exactly one active job per (user, provider) under 50 concurrent enqueues', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, () => enqueueJob(fb.db, { userId: 'u1', providerId: 'meta', jobType: 'scheduled-sync' })),
    );
    const created = results.filter((r) => !r.duplicate);
    assert.equal(created.length, 1);
    const duplicates = results.filter((r) => r.duplicate);
    assert.equal(duplicates.length, 49);
    assert.ok(duplicates.every((r) => r.jobId === created[0]!.jobId));
    const jobs = await allJobs(fb.db);
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0]!.id, created[0]!.jobId);
    assert.equal(jobs[0]!.status, 'queued');
    assert.equal((await lockRef(fb.db, 'sync:u1:meta').get()).get('jobId'), created[0]!.jobId);
  });

  it('keeps the backfill lane apart from the sync lane', async () => {
    const sync = await enqueueJob(fb.db, { userId: 'u1', providerId: 'google', jobType: 'scheduled-sync' });
    const backfill = await enqueueJob(fb.db, { userId: 'u1', providerId: 'google', jobType: 'initial-backfill' });
    const manual = await enqueueJob(fb.db, { userId: 'u1', providerId: 'google', jobType: 'manual-sync' });
    assert.equal(sync.duplicate, false);
    assert.equal(backfill.duplicate, false);
    assert.equal(manual.duplicate, true);
    assert.equal(manual.jobId, sync.jobId);
    const jobs = await allJobs(fb.db);
    assert.deepEqual(jobs.map((j) => j.jobType).sort(), ['initial-backfill', 'scheduled-sync']);
    assert.equal(jobs.find((j) => j.jobType === 'initial-backfill')!.priority, -10);
  });

  it('raises a queued job\'s priority when a person asks for the same sync', async () => {
    const scheduled = await enqueueJob(fb.db, { userId: 'u2', providerId: 'tiktok', jobType: 'scheduled-sync' });
    const manual = await enqueueJob(fb.db, { userId: 'u2', providerId: 'tiktok', jobType: 'manual-sync', priority: 10 });
    assert.deepEqual(manual, { jobId: scheduled.jobId, duplicate: true, priorityRaised: true });
    const [job] = await allJobs(fb.db);
    assert.equal(job!.priority, 10);
  });

  it('creates a new job for different users and providers', async () => {
    await Promise.all([
      enqueueJob(fb.db, { userId: 'a', providerId: 'meta', jobType: 'scheduled-sync' }),
      enqueueJob(fb.db, { userId: 'a', providerId: 'google', jobType: 'scheduled-sync' }),
      enqueueJob(fb.db, { userId: 'b', providerId: 'meta', jobType: 'scheduled-sync' }),
    ]);
    assert.equal((await allJobs(fb.db)).length, 3);
  });
});
