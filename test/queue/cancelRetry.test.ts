import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { retryJob, runWorker, type JobHandler } from '../../functions/src/queue/index.js';
import { testFirebase } from '../helpers/firebase.js';
import { allJobs, workerOptions } from '../helpers/queue.js';
import { adsQueue, enqueueJob } from '../../functions/src/scheduler/jobs.js';

const fb = testFirebase('queue-cancel-retry');
before(() => fb.clear());
after(() => fb.close());

/** A handler that reports progress step by step, each step released by the test. */
function steppedHandler(steps: number) {
  const reached: Array<() => void> = [];
  const released: Array<() => void> = [];
  const reachedStep = Array.from({ length: steps + 1 }, (_, i) => new Promise<void>((resolve) => (reached[i] = resolve)));
  const releaseStep = Array.from({ length: steps + 1 }, (_, i) => new Promise<void>((resolve) => (released[i] = resolve)));
  const progressWritten: number[] = [];
  const handler: JobHandler = async ({ reportProgress }) => {
    for (let step = 1; step <= steps; step++) {
      reached[step]!();
      await releaseStep[step];
      await reportProgress({ done: step, total: steps });
      progressWritten.push(step);
    }
    return { progress: { done: steps, total: steps } };
  };
  return { handler, reachedStep, release: (step: number) => released[step]!(), progressWritten };
}

describe('cancel and retry', () => {
  it('a running job stops at its next fenced write after a cancel; the cancel stands', async () => {
    const { jobId } = await enqueueJob(fb.db, { userId: 'u1', providerId: 'tiktok', jobType: 'initial-backfill' });
    const stepped = steppedHandler(3);
    const run = runWorker(adsQueue(fb.db), workerOptions({ 'initial-backfill': stepped.handler }, { maxJobs: 1 }));
    stepped.release(1);
    await stepped.reachedStep[2];
    await adsQueue(fb.db).jobs.cancel(jobId, 'cancelled by ops@example.com');
    stepped.release(2);
    stepped.release(3);
    const report = await run;

    assert.deepEqual(report.jobs.map((j) => j.result), ['lease-lost']);
    assert.deepEqual(stepped.progressWritten, [1], 'the write after the cancel was refused');
    const [job] = await allJobs(fb.db);
    assert.equal(job!.status, 'cancelled');
    assert.deepEqual(job!.progress, { done: 1, total: 3 });
    assert.equal(job!.lastError, 'cancelled by ops@example.com');
    assert.equal((await fb.db.collection('syncJobLocks').get()).size, 0);
    // The lane is free again: a new backfill can be enqueued.
    assert.equal((await enqueueJob(fb.db, { userId: 'u1', providerId: 'tiktok', jobType: 'initial-backfill' })).duplicate, false);
  });

  it('a retried job runs again from its payload and succeeds', async () => {
    await fb.clear();
    const { jobId } = await enqueueJob(fb.db, { userId: 'u2', providerId: 'meta', jobType: 'manual-sync', payload: { timeframeDays: 3 }, maxAttempts: 1 });
    const seen: unknown[] = [];
    let failing = true;
    const handler: JobHandler = async ({ job }) => {
      seen.push(job.payload.timeframeDays);
      if (failing) throw new Error('Meta Ads is temporarily unavailable');
    };
    await runWorker(adsQueue(fb.db), workerOptions({ 'manual-sync': handler }));
    assert.equal((await allJobs(fb.db))[0]!.status, 'failed');

    failing = false;
    await retryJob(fb.db, jobId);
    const report = await runWorker(adsQueue(fb.db), workerOptions({ 'manual-sync': handler }));
    assert.deepEqual(report.jobs.map((j) => [j.id, j.result]), [[jobId, 'succeeded']]);
    const [job] = await allJobs(fb.db);
    assert.deepEqual([job!.status, job!.attempts, job!.lastError], ['succeeded', 1, null]);
    assert.deepEqual(seen, [3, 3]);
    assert.equal((await fb.db.collection('syncJobLocks').get()).size, 0);
  });

  it('concurrent cancels of one job: both answer, one cancellation, one freed lock', async () => {
    await fb.clear();
    const { jobId } = await enqueueJob(fb.db, { userId: 'u3', providerId: 'google', jobType: 'manual-sync' });
    const results = await Promise.allSettled([adsQueue(fb.db).jobs.cancel(jobId, 'a'), adsQueue(fb.db).jobs.cancel(jobId, 'b')]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.equal((rejected.reason as Error).name, 'ConflictError');
    assert.equal((await allJobs(fb.db))[0]!.status, 'cancelled');
    assert.equal((await fb.db.collection('syncJobLocks').get()).size, 0);
  });
});
