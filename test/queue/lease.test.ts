import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { Timestamp } from 'firebase-admin/firestore';
import { LeaseLostError, circuitsCollection, jobFromSnapshot, jobsCollection, lockRef, runWorker } from '../../functions/src/queue/index.js';
import { failOrRetry } from '../../functions/src/queue/worker.js';
import { withWriteFaults } from '../helpers/faults.js';
import { testFirebase } from '../helpers/firebase.js';
import { allJobs, workerOptions } from '../helpers/queue.js';
import { newJobDocument } from '../../functions/src/queue/enqueue.js';
import { adsQueue, enqueueJob } from '../../functions/src/scheduler/jobs.js';
import { JOB_TASKS } from '../../functions/src/schema/index.js';

const fb = testFirebase('queue-lease');
beforeEach(() => fb.clear());
after(() => fb.close());

/** A promise the test resolves by hand. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe('a finished lease refuses every later write', () => {
  it('the outcome waits for a checkpoint still in flight and is written on top of it, never refused by it', async () => {
    const { jobId } = await enqueueJob(fb.db, { userId: 'u', providerId: 'meta', jobType: 'initial-backfill' });
    const [lease] = await adsQueue(fb.db).jobs.claim({ workerId: 'w', max: 1, leaseMs: 60_000 });
    // The timeout fires while the handler's checkpoint is being written: close and fail at once.
    const inFlight = lease!.renew({ done: 2, total: 9 }, { backfill: 'after chunk 2' });
    // Microtasks only: the checkpoint's commit has been sent, not answered.
    await Promise.resolve();
    await Promise.resolve();
    lease!.close();
    const outcome = await failOrRetry(lease!, new Error('timed out'), { baseMs: 1, maxMs: 1, maxAttempts: 3 });
    await inFlight;
    assert.equal(outcome, 'retried');
    const job = (await allJobs(fb.db)).find((j) => j.id === jobId)!;
    assert.equal(job.status, 'queued', 'requeued, not left running');
    assert.deepEqual(job.progress, { done: 2, total: 9 });
    assert.equal(job.payload.backfill, 'after chunk 2', 'resumes where the checkpoint got to');
  });

  it('a timed-out handler\'s later progress is refused, and the requeued job stays valid and runs again', async () => {
    const { jobId } = await enqueueJob(fb.db, { userId: 'u', providerId: 'meta', jobType: 'initial-backfill' });
    const release = gate();
    const late = gate();
    const refusals: unknown[] = [];
    let runs = 0;
    const refused = (write: () => Promise<void>) => Promise.resolve().then(write).then(() => refusals.push('written'), (error: unknown) => refusals.push(error));
    const options = workerOptions(
      {
        'initial-backfill': async ({ reportProgress, checkpoint }) => {
          runs++;
          if (runs > 1) return;
          await release.opened;
          await refused(() => reportProgress({ done: 1, total: 4 }));
          await refused(() => checkpoint({ done: 1, total: 4 }, { backfill: 'late' }));
          late.open();
        },
      },
      { jobTimeoutMs: 100, retry: { baseMs: 1, maxMs: 1, maxAttempts: 3 }, maxJobs: 1 },
    );
    const first = await runWorker(adsQueue(fb.db), options);
    assert.equal(first.jobs[0]!.result, 'retried');
    assert.match(first.jobs[0]!.error ?? '', /timeout/);

    release.open();
    await late.opened;
    assert.equal(refusals.length, 2);
    assert.ok(refusals.every((r) => r instanceof LeaseLostError), `late writes: ${refusals.map(String).join(', ')}`);

    const snap = await jobsCollection(fb.db).doc(jobId).get();
    const job = jobFromSnapshot(snap);
    assert.equal(job.status, 'queued');
    assert.equal(job.lease, null);
    assert.equal(job.progress, null);
    assert.deepEqual(job.payload, {});

    const second = await runWorker(adsQueue(fb.db), options);
    assert.equal(second.jobs[0]!.result, 'succeeded');
    assert.equal(runs, 2);
  });

  it('no write of a lease lands after its outcome, even one the fence would let through', async () => {
    await enqueueJob(fb.db, { userId: 'u', providerId: 'google', jobType: 'scheduled-sync' });
    const [lease] = await adsQueue(fb.db).jobs.claim({ workerId: 'w', max: 1, leaseMs: 60_000 });
    await failOrRetry(lease!, new Error('platform hiccup'), { baseMs: 1, maxMs: 1, maxAttempts: 3 });
    await assert.rejects(lease!.renew({ done: 1, total: 2 }), LeaseLostError);
    await assert.rejects(lease!.succeed(), LeaseLostError);
    const job = (await allJobs(fb.db))[0]!;
    assert.equal(job.status, 'queued');
    assert.equal(job.lease, null);
    assert.equal(job.progress, null);
  });

  it('a succeeded job stays succeeded when the circuit bookkeeping after it fails', async () => {
    await circuitsCollection(fb.db).doc('linkedin').set({ consecutiveFailures: 2, openUntil: null, lastError: 'earlier' });
    const { jobId } = await enqueueJob(fb.db, { userId: 'u', providerId: 'linkedin', jobType: 'scheduled-sync' });
    let runs = 0;
    const { result: report, fired } = await withWriteFaults([{ op: 'update', when: (path) => path === 'admin/scheduler/circuits/linkedin' }], () =>
      runWorker(adsQueue(fb.db), workerOptions({ 'scheduled-sync': async () => void runs++ }, { retry: { baseMs: 1, maxMs: 1, maxAttempts: 3 } })),
    );
    assert.deepEqual(fired, [1], 'the circuit write failed once');
    assert.equal(report.jobs[0]!.result, 'succeeded');
    assert.equal(runs, 1, 'never run again');
    const job = (await allJobs(fb.db)).find((j) => j.id === jobId)!;
    assert.equal(job.status, 'succeeded');
    assert.equal((await lockRef(fb.db, 'sync:u:linkedin').get()).exists, false);
    const next = await enqueueJob(fb.db, { userId: 'u', providerId: 'linkedin', jobType: 'scheduled-sync' });
    assert.equal(next.duplicate, false);
  });
});

describe('one malformed job document never blocks the queue', () => {
  it('fails it with the field at fault, frees its slot, and runs the others', async () => {
    const ids = await Promise.all(['a', 'b', 'c'].map((u) => enqueueJob(fb.db, { userId: u, providerId: 'tiktok', jobType: 'scheduled-sync' })));
    // The shape an unfenced late write used to leave: a lease without its worker.
    const bad = jobsCollection(fb.db).doc();
    const doc = newJobDocument(JOB_TASKS, { userId: 'bad', providerId: 'tiktok', jobType: 'scheduled-sync', priority: 5 }, 3);
    await bad.set({ ...doc, lease: { expiresAt: Timestamp.now() } });
    await lockRef(fb.db, doc.dedupeKey).set({ jobId: bad.id, createdAt: Timestamp.now() });

    const ran: string[] = [];
    const report = await runWorker(adsQueue(fb.db), workerOptions({ 'scheduled-sync': async ({ job }) => void ran.push(job.userId) }));
    assert.deepEqual(ran.sort(), ['a', 'b', 'c']);
    assert.equal(report.counts.failed, 1);
    const failed = (await jobsCollection(fb.db).doc(bad.id).get()).data()!;
    assert.equal(failed.status, 'failed');
    assert.match(failed.lastError as string, /malformed: lease\.workerId/);
    assert.equal((await lockRef(fb.db, doc.dedupeKey).get()).exists, false, 'its slot is free again');
    const jobs = await jobsCollection(fb.db).where('status', '==', 'succeeded').get();
    assert.deepEqual(jobs.docs.map((d) => d.id).sort(), ids.map((r) => r.jobId).sort());
  });
});
