import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { jobsCollection, runWorker } from '../../functions/src/queue/index.js';
import { withWriteFaults } from '../helpers/faults.js';
import { testFirebase } from '../helpers/firebase.js';
import { allJobs, workerOptions } from '../helpers/queue.js';
import { adsQueue, enqueueJob } from '../../functions/src/scheduler/jobs.js';

const fb = testFirebase('queue-claim');
beforeEach(() => fb.clear());
after(() => fb.close());

describe('a worker call settles every job it claimed', () => {
  it('an error while claiming one job keeps the leases taken beside it', async () => {
    const ids = (await Promise.all(['a', 'b', 'c', 'd', 'e'].map((u) => enqueueJob(fb.db, { userId: u, providerId: 'meta', jobType: 'scheduled-sync' })))).map((r) => r.jobId);
    const victim = `syncJobs/${ids[2]}`;
    const runs = new Map<string, number>();
    const { result: report, fired } = await withWriteFaults([{ op: 'update', when: (path, data) => path === victim && data?.status === 'running' }], () =>
      runWorker(
        adsQueue(fb.db),
        workerOptions({
          'scheduled-sync': async ({ job }) => {
            runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
            await sleep(20);
          },
        }),
      ),
    );
    assert.deepEqual(fired, [1], 'one claim update failed');
    const jobs = await allJobs(fb.db);
    assert.deepEqual(jobs.filter((j) => j.status !== 'succeeded'), [], 'nothing left running or queued');
    assert.ok(jobs.every((j) => j.attempts === 1));
    assert.deepEqual([...runs.values()], [1, 1, 1, 1, 1]);
    assert.equal(report.counts.succeeded, 5);
  });

  it('transient errors writing a failure and the circuit bookkeeping do not reject the call while others run', async () => {
    const failing = await enqueueJob(fb.db, { userId: 'fails', providerId: 'google', jobType: 'scheduled-sync' });
    const slow = await enqueueJob(fb.db, { userId: 'slow', providerId: 'meta', jobType: 'scheduled-sync' });
    const faults = [
      { op: 'update' as const, when: (path: string, data?: Record<string, unknown>) => path === `syncJobs/${failing.jobId}` && data?.status === 'queued' },
      { op: 'set' as const, when: (path: string) => path === 'admin/scheduler/circuits/google' },
    ];
    const { result: report, fired } = await withWriteFaults(faults, () =>
      runWorker(
        adsQueue(fb.db),
        workerOptions(
          {
            'scheduled-sync': async ({ job }) => {
              if (job.userId === 'fails') throw new Error('platform hiccup');
              await sleep(300);
            },
          },
          // The retry is not due again within this call.
          { retry: { baseMs: 60_000, maxMs: 60_000, maxAttempts: 3 } },
        ),
      ),
    );
    assert.deepEqual(fired, [1, 1]);
    const byId = new Map((await allJobs(fb.db)).map((j) => [j.id, j]));
    assert.equal(byId.get(failing.jobId)!.status, 'queued', 'the retry was written on the second try');
    assert.equal(byId.get(failing.jobId)!.lastError, 'platform hiccup');
    assert.equal(byId.get(slow.jobId)!.status, 'succeeded');
    assert.deepEqual(report.jobs.map((j) => j.result).sort(), ['retried', 'succeeded']);
    assert.equal((await jobsCollection(fb.db).where('status', '==', 'running').get()).size, 0);
  });
});
