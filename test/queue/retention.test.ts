import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { Timestamp } from 'firebase-admin/firestore';
import { PermanentJobError, jobFromSnapshot, jobsCollection, resetStaleJobs, retryJob, runWorker } from '../../functions/src/queue/index.js';
import { eventsCollection, recordEvent } from '../../functions/src/scheduler/events.js';
import { emptyCounts, type Job } from '../../functions/src/schema/index.js';
import { testFirebase } from '../helpers/firebase.js';
import { allJobs, workerOptions } from '../helpers/queue.js';
import { adsQueue, enqueueJob } from '../../functions/src/scheduler/jobs.js';

const fb = testFirebase('queue-retention');
beforeEach(() => fb.clear());
after(() => fb.close());

const DAY = 86_400_000;
/** expireAt is set beside finishedAt (server time) in the same write: they agree to within a few seconds. */
function assertExpiresAfter(job: Job, days: number) {
  assert.ok(job.finishedAt, `job ${job.id} has finished`);
  assert.ok(job.expireAt, `job ${job.id} (${job.status}) has no expireAt`);
  const gap = job.expireAt.toMillis() - job.finishedAt.toMillis();
  assert.ok(Math.abs(gap - days * DAY) < 5_000, `expireAt is ${gap} ms after finishedAt, not ${days} days`);
}

const enqueue = (userId: string) => enqueueJob(fb.db, { userId, providerId: 'meta', jobType: 'manual-sync' });

describe('expiry of finished jobs and events', () => {
  it('queued and running jobs carry expireAt null; succeeded and failed ones their finish plus the retention', async () => {
    const ok = await enqueue('ok');
    const broken = await enqueue('broken');
    assert.equal(jobFromSnapshot(await jobsCollection(fb.db).doc(ok.jobId).get()).expireAt, null);
    await runWorker(
      adsQueue(fb.db, { retentionDays: 3 }),
      workerOptions(
        {
          'manual-sync': async ({ job }) => {
            if (job.userId === 'broken') throw new PermanentJobError('bad data');
          },
        },
      ),
    );
    const jobs = await allJobs(fb.db);
    assert.deepEqual(jobs.map((j) => j.status).sort(), ['failed', 'succeeded']);
    for (const job of jobs) assertExpiresAfter(job, 3);

    // A retried job is active again: no expiry.
    await retryJob(fb.db, broken.jobId);
    assert.equal(jobFromSnapshot(await jobsCollection(fb.db).doc(broken.jobId).get()).expireAt, null);
  });

  it('a cancelled job and one failed by the stale reset expire too', async () => {
    const cancelled = await enqueue('cancelled');
    await adsQueue(fb.db, { retentionDays: 5 }).jobs.cancel(cancelled.jobId, 'not wanted');
    const stale = await enqueue('stale');
    const long = Timestamp.fromMillis(Date.now() - 3_600_000);
    await jobsCollection(fb.db).doc(stale.jobId).update({ status: 'running', attempts: 3, startedAt: long, lease: { workerId: 'gone', expiresAt: long } });
    await resetStaleJobs(fb.db, { maxRunMs: 1_800_000, retentionDays: 5 });
    const jobs = await allJobs(fb.db);
    assert.deepEqual(jobs.map((j) => [j.userId, j.status]).sort(), [['cancelled', 'cancelled'], ['stale', 'failed']]);
    for (const job of jobs) assertExpiresAfter(job, 5);
  });

  it('an event expires its retention after it was recorded', async () => {
    const id = await recordEvent(fb.db, { source: 'cron', operation: 'reset_stale_jobs', counts: emptyCounts(), durationMs: 1, retentionDays: 7 });
    const event = await eventsCollection(fb.db).doc(id).get();
    const at = event.get('at') as Timestamp;
    const expireAt = event.get('expireAt') as Timestamp;
    assert.equal(expireAt.toMillis() - at.toMillis(), 7 * DAY);
  });
});
