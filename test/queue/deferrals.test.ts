import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { Timestamp } from 'firebase-admin/firestore';
import { circuitsCollection, jobsCollection, runWorker, RateLimitJobError, type HandlerRegistry } from '../../functions/src/queue/index.js';
import { testFirebase } from '../helpers/firebase.js';
import { allJobs, workerOptions } from '../helpers/queue.js';
import { adsQueue, enqueueJob } from '../../functions/src/scheduler/jobs.js';

const fb = testFirebase('queue-deferrals');
beforeEach(() => fb.clear());
after(() => fb.close());

/** A platform whose short rate limit never lifts: every run is refused again. */
const alwaysLimited: HandlerRegistry = {
  'scheduled-sync': async () => {
    throw new RateLimitJobError('LinkedIn rate limit reached; retry in 1 s.', new Date(Date.now() + 1000));
  },
};

/** Makes the job due now instead of sleeping until its runAfter. */
const dueNow = (jobId: string) => jobsCollection(fb.db).doc(jobId).update({ runAfter: Timestamp.fromMillis(Date.now() - 1) });

describe('rate-limit deferrals are bounded', () => {
  it('past maxDeferrals a rate limit spends attempts and counts toward the circuit, and the job fails', async () => {
    const { jobId } = await enqueueJob(fb.db, { userId: 'u1', providerId: 'linkedin', jobType: 'scheduled-sync', maxAttempts: 3 });
    const options = workerOptions(alwaysLimited, { maxDeferrals: 2, retry: { baseMs: 10, maxMs: 10, maxAttempts: 3 } });
    const results: string[] = [];
    const seen: Array<[number, number]> = [];
    for (let run = 0; run < 8; run++) {
      await dueNow(jobId);
      const report = await runWorker(adsQueue(fb.db), options);
      if (report.jobs.length === 0) break;
      results.push(report.jobs[0]!.result);
      if (report.jobs[0]!.result === 'deferred') assert.equal(report.counts.deferred, 1);
      const [job] = await allJobs(fb.db);
      seen.push([job!.deferrals, job!.attempts]);
      if (job!.status === 'failed') break;
    }
    assert.deepEqual(results, ['deferred', 'deferred', 'retried', 'retried', 'failed']);
    assert.deepEqual(seen, [[1, 0], [2, 0], [2, 1], [2, 2], [2, 3]]);
    const circuit = await circuitsCollection(fb.db).doc('linkedin').get();
    assert.equal(circuit.get('consecutiveFailures'), 3, 'the three runs past the bound count as failures');
  });

  it('progress starts the count over: a checkpoint resets deferrals', async () => {
    let runs = 0;
    const handlers: HandlerRegistry = {
      'scheduled-sync': async ({ checkpoint }) => {
        runs++;
        if (runs === 2) await checkpoint({ done: 1, total: 2 }, {});
        throw new RateLimitJobError('rate limit reached', new Date(Date.now() + 1000));
      },
    };
    const { jobId } = await enqueueJob(fb.db, { userId: 'u1', providerId: 'google', jobType: 'scheduled-sync' });
    const options = workerOptions(handlers, { maxDeferrals: 2 });
    const results: string[] = [];
    for (let run = 0; run < 3; run++) {
      await dueNow(jobId);
      results.push((await runWorker(adsQueue(fb.db), options)).jobs[0]!.result);
    }
    assert.deepEqual(results, ['deferred', 'deferred', 'deferred']);
    const [job] = await allJobs(fb.db);
    assert.equal(job!.deferrals, 2, 'one before the checkpoint was forgotten');
  });
});
