import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { Timestamp } from 'firebase-admin/firestore';
import { jobsCollection, runWorker, type HandlerRegistry, type JobHandler } from '../../functions/src/queue/index.js';
import { runWorkerCall } from '../../functions/src/scheduler/operations.js';
import { eventsCollection } from '../../functions/src/scheduler/events.js';
import { PROVIDER_IDS } from '../../functions/src/schema/index.js';
import { testConfig, testContext, testFirebase } from '../helpers/firebase.js';
import { allJobs, workerOptions } from '../helpers/queue.js';
import { adsQueue, enqueueJob } from '../../functions/src/scheduler/jobs.js';

const fb = testFirebase('queue-worker');
beforeEach(() => fb.clear());
after(() => fb.close());

async function enqueueMany(count: number, jobType: 'scheduled-sync' | 'manual-sync' = 'scheduled-sync') {
  const writer = fb.db.bulkWriter();
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    // Direct documents keep seeding fast; enqueueJob itself is tested in enqueue.test.ts.
    const ref = jobsCollection(fb.db).doc();
    ids.push(ref.id);
    const now = Timestamp.now();
    void writer.create(ref, {
      userId: `user-${i}`, providerId: PROVIDER_IDS[i % 4], jobType, lane: 'sync', dedupeKey: `sync:user-${i}:${PROVIDER_IDS[i % 4]}`,
      status: 'queued', priority: 0, runAfter: now, attempts: 0, maxAttempts: 3, lease: null, window: null, progress: null,
      payload: {}, lastError: null, createdAt: now, startedAt: null, finishedAt: null, updatedAt: now,
    });
  }
  await writer.close();
  return ids;
}

describe('worker', () => {
  it('8 concurrent workers handle 500 jobs exactly once, and their events add up to 500', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 500; i += 50) {
      const chunk = await Promise.all(
        Array.from({ length: 50 }, (_, k) => enqueueJob(fb.db, { userId: `user-${i + k}`, providerId: PROVIDER_IDS[(i + k) % 4]!, jobType: 'scheduled-sync' })),
      );
      ids.push(...chunk.map((r) => r.jobId));
    }
    assert.equal(new Set(ids).size, 500);
    assert.equal((await fb.db.collection('syncJobLocks').get()).size, 500, 'every job holds its dedupe slot');
    const runs = new Map<string, number>();
    const ranOn = new Map<string, string>();
    // Every slot holds its job until each of the eight workers holds one, so no worker can
    // finish the queue before the others have claimed. A worker call that returns early
    // (it found nothing to claim) lets the rest go, and the test then says so.
    const holders = new Set<string>();
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const handler: JobHandler = async ({ job }) => {
      runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
      ranOn.set(job.id, job.lease!.workerId);
      holders.add(job.lease!.workerId);
      if (holders.size === 8) release();
      await released;
    };
    const ctx = testContext(fb, { handlers: { 'scheduled-sync': handler } });
    const reports = await Promise.all(Array.from({ length: 8 }, () => runWorkerCall(ctx, { maxJobs: 500 }, 'worker').finally(release)));
    assert.equal(runs.size, 500);
    assert.deepEqual([...new Set(runs.values())], [1]);
    assert.deepEqual(new Set(runs.keys()), new Set(ids));
    for (const report of reports) {
      assert.ok(report.counts.processed > 0, `worker ${report.workerId} processed no job`);
      assert.equal(report.counts.processed, [...ranOn.values()].filter((w) => w === report.workerId).length);
    }
    const jobs = await allJobs(fb.db);
    assert.equal(jobs.filter((j) => j.status === 'succeeded').length, 500);
    assert.ok(jobs.every((j) => j.attempts === 1 && j.lease === null));
    const events = (await eventsCollection(fb.db).get()).docs.map((d) => d.data());
    assert.equal(events.length, 8);
    assert.equal(events.reduce((sum, e) => sum + (e.counts.processed as number), 0), 500);
    assert.equal(events.reduce((sum, e) => sum + (e.counts.succeeded as number), 0), 500);
    assert.equal(reports.reduce((sum, r) => sum + r.counts.processed, 0), 500);
    assert.equal((await fb.db.collection('syncJobLocks').get()).size, 0, 'finished jobs free their dedupe slot');
  });

  it('retries with growing backoff and succeeds on the third attempt', async () => {
    const { jobId } = await enqueueJob(fb.db, { userId: 'u', providerId: 'meta', jobType: 'scheduled-sync' });
    let calls = 0;
    const handlers: HandlerRegistry = {
      'scheduled-sync': async () => {
        calls++;
        if (calls <= 2) throw new Error(`platform hiccup ${calls}`);
      },
    };
    const options = workerOptions(handlers, { retry: { baseMs: 60_000, maxMs: 3_600_000, maxAttempts: 3 } });
    // Equal jitter: attempt n waits between half and all of 1 min x 2^(n-1). With the random
    // half fixed at its middle, the delays are exactly 45 s and 90 s.
    const windows = [
      { min: 30_000, max: 60_000, expected: 45_000 },
      { min: 60_000, max: 120_000, expected: 90_000 },
    ];
    const random = Math.random;
    Math.random = () => 0.5;
    const delays: { atLeast: number; atMost: number }[] = [];
    try {
      for (let attempt = 1; attempt <= 2; attempt++) {
        const before = Date.now();
        const report = await runWorker(adsQueue(fb.db), options);
        const after = Date.now();
        assert.equal(report.counts.retried, 1);
        const job = (await allJobs(fb.db))[0]!;
        assert.equal(job.status, 'queued');
        assert.equal(job.attempts, attempt);
        assert.equal(job.lastError, `platform hiccup ${attempt}`);
        // The worker picked its delay between `before` and `after`.
        const delay = { atLeast: job.runAfter.toMillis() - after, atMost: job.runAfter.toMillis() - before };
        delays.push(delay);
        const window = windows[attempt - 1]!;
        assert.ok(delay.atLeast <= window.expected && window.expected <= delay.atMost, `attempt ${attempt}: delay in [${delay.atLeast}, ${delay.atMost}], expected ${window.expected}`);
        assert.ok(delay.atMost >= window.min && delay.atLeast <= window.max, `attempt ${attempt}: outside [${window.min}, ${window.max}]`);
        // Not due yet: a worker run now must not touch it.
        assert.equal((await runWorker(adsQueue(fb.db), options)).counts.processed, 0);
        // Then the delay passes.
        await jobsCollection(fb.db).doc(jobId).update({ runAfter: Timestamp.fromMillis(Date.now() - 1) });
      }
    } finally {
      Math.random = random;
    }
    assert.ok(delays[1]!.atLeast > delays[0]!.atMost, 'the second delay is longer than the first');
    const report = await runWorker(adsQueue(fb.db), options);
    assert.equal(report.counts.succeeded, 1);
    const job = (await allJobs(fb.db))[0]!;
    assert.equal(job.id, jobId);
    assert.equal(job.status, 'succeeded');
    assert.equal(job.attempts, 3);
    assert.equal(calls, 3);
  });

  it('fails a job for good after maxAttempts, keeps lastError and frees the slot', async () => {
    await enqueueJob(fb.db, { userId: 'u', providerId: 'google', jobType: 'manual-sync', maxAttempts: 2 });
    const options = workerOptions({ 'manual-sync': async () => Promise.reject(new Error('quota gone')) }, { retry: { baseMs: 1, maxMs: 1, maxAttempts: 2 } });
    // The 1 ms backoff lets the same run take the retry too.
    const report = await runWorker(adsQueue(fb.db), options);
    assert.equal(report.counts.retried, 1);
    assert.equal(report.counts.failed, 1);
    const job = (await allJobs(fb.db))[0]!;
    assert.equal(job.status, 'failed');
    assert.equal(job.attempts, 2);
    assert.equal(job.lastError, 'quota gone');
    assert.ok(job.finishedAt);
    const again = await enqueueJob(fb.db, { userId: 'u', providerId: 'google', jobType: 'manual-sync' });
    assert.equal(again.duplicate, false);
  });

  it('fails a job with no registered handler permanently, with a clear message', async () => {
    await enqueueJob(fb.db, { userId: 'u', providerId: 'linkedin', jobType: 'initial-backfill' });
    const report = await runWorker(adsQueue(fb.db), workerOptions({}));
    assert.equal(report.counts.failed, 1);
    const job = (await allJobs(fb.db))[0]!;
    assert.equal(job.status, 'failed');
    assert.equal(job.attempts, 1);
    assert.match(job.lastError ?? '', /no handler is registered for job type "initial-backfill"/);
  });

  it('claims by priority, then by runAfter', async () => {
    const past = (s: number) => new Date(Date.now() - s * 1000);
    await enqueueJob(fb.db, { userId: 'low-old', providerId: 'meta', jobType: 'initial-backfill', runAfter: past(300) });
    await enqueueJob(fb.db, { userId: 'mid-new', providerId: 'meta', jobType: 'scheduled-sync', runAfter: past(10) });
    await enqueueJob(fb.db, { userId: 'mid-old', providerId: 'meta', jobType: 'scheduled-sync', runAfter: past(100) });
    await enqueueJob(fb.db, { userId: 'high', providerId: 'meta', jobType: 'manual-sync', runAfter: past(1) });
    await enqueueJob(fb.db, { userId: 'future', providerId: 'meta', jobType: 'manual-sync', runAfter: new Date(Date.now() + 60_000) });
    const order: string[] = [];
    const record: JobHandler = async ({ job }) => {
      order.push(job.userId);
    };
    await runWorker(adsQueue(fb.db), workerOptions({ 'manual-sync': record, 'scheduled-sync': record, 'initial-backfill': record }, { concurrency: 1 }));
    assert.deepEqual(order, ['high', 'mid-old', 'mid-new', 'low-old']);
  });

  it('stops claiming when the time budget left is below one job timeout', async () => {
    await enqueueMany(20);
    // Each job takes 400 ms of the worker's clock. After three, 800 ms of the 2,000 ms
    // budget are left, less than one job's 1,000 ms timeout: no fourth claim.
    let clock = 0;
    const report = await runWorker(
      adsQueue(fb.db),
      workerOptions(
        {
          'scheduled-sync': async () => {
            clock += 400;
          },
        },
        { concurrency: 1, budgetMs: 2_000, jobTimeoutMs: 1_000, now: () => clock },
      ),
    );
    assert.equal(report.stopReason, 'time-budget');
    assert.equal(report.counts.processed, 3);
    assert.equal(report.counts.succeeded, 3);
    const jobs = await allJobs(fb.db);
    assert.equal(jobs.filter((j) => j.status === 'succeeded').length, 3);
    assert.equal(jobs.filter((j) => j.status === 'queued').length, 17);
    assert.equal(jobs.filter((j) => j.status === 'running').length, 0);
  });

  it('opens the circuit of the failing provider only, and records it in the event', async () => {
    const writes = [];
    for (let i = 0; i < 6; i++) {
      writes.push(enqueueJob(fb.db, { userId: `m${i}`, providerId: 'meta', jobType: 'scheduled-sync' }));
      writes.push(enqueueJob(fb.db, { userId: `g${i}`, providerId: 'google', jobType: 'scheduled-sync' }));
    }
    await Promise.all(writes);
    const handler: JobHandler = async ({ job }) => {
      if (job.providerId === 'meta') throw new Error('meta is down');
    };
    const ctx = testContext(fb, {
      handlers: { 'scheduled-sync': handler },
      config: testConfig({ CIRCUIT_FAILURE_THRESHOLD: '3', WORKER_CONCURRENCY: '1' }),
    });
    const report = await runWorkerCall(ctx, { maxJobs: 100 }, 'worker');
    assert.deepEqual(report.circuitsOpened, ['meta']);
    const jobs = await allJobs(fb.db);
    const meta = jobs.filter((j) => j.providerId === 'meta');
    const google = jobs.filter((j) => j.providerId === 'google');
    assert.equal(google.filter((j) => j.status === 'succeeded').length, 6);
    assert.equal(meta.filter((j) => j.attempts === 1).length, 3, 'three failures open the circuit');
    assert.equal(meta.filter((j) => j.attempts === 0).length, 3, 'the rest wait for the cool-down');
    const event = (await eventsCollection(fb.db).get()).docs[0]!;
    assert.deepEqual(event.get('circuitsOpened'), ['meta']);
    // A later worker run leaves meta paused but serves the others.
    await enqueueJob(fb.db, { userId: 'g-late', providerId: 'google', jobType: 'scheduled-sync' });
    const later = await runWorkerCall(ctx, { maxJobs: 100 }, 'worker');
    assert.equal(later.counts.processed, 1);
    assert.equal(later.jobs[0]!.providerId, 'google');
  });
});
