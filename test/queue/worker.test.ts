import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { Timestamp } from 'firebase-admin/firestore';
import {
  backoffBoundsMs,
  enqueueJob,
  jobsCollection,
  runWorker,
  type HandlerRegistry,
  type JobHandler,
} from '../../functions/src/queue/index.js';
import { runWorkerCall } from '../../functions/src/scheduler/operations.js';
import { eventsCollection } from '../../functions/src/scheduler/events.js';
import { PROVIDER_IDS } from '../../functions/src/schema/index.js';
import { testConfig, testContext, testFirebase } from '../helpers/firebase.js';
import { allJobs, sleep, workerOptions } from '../helpers/queue.js';

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
    const ids = await enqueueMany(500);
    const runs = new Map<string, number>();
    const handler: JobHandler = async ({ job }) => {
      runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
      await sleep(5);
    };
    const ctx = testContext(fb, { handlers: { 'scheduled-sync': handler } });
    const reports = await Promise.all(Array.from({ length: 8 }, () => runWorkerCall(ctx, { maxJobs: 500 }, 'worker')));
    assert.equal(runs.size, 500);
    assert.deepEqual([...new Set(runs.values())], [1]);
    assert.deepEqual(new Set(runs.keys()), new Set(ids));
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
    const options = workerOptions(handlers);
    for (let attempt = 1; attempt <= 2; attempt++) {
      const failedAt = Date.now();
      const report = await runWorker(fb.db, options);
      assert.equal(report.counts.retried, 1);
      const job = (await allJobs(fb.db))[0]!;
      assert.equal(job.status, 'queued');
      assert.equal(job.attempts, attempt);
      assert.equal(job.lastError, `platform hiccup ${attempt}`);
      const delay = job.runAfter.toMillis() - failedAt;
      const bounds = backoffBoundsMs(attempt, options.retry);
      assert.ok(delay >= bounds.min - 50 && delay <= bounds.max + 1000, `attempt ${attempt}: delay ${delay} not in [${bounds.min}, ${bounds.max}]`);
      // Not due yet: a worker run now must not touch it.
      if (attempt === 1) assert.equal((await runWorker(fb.db, options)).counts.processed, 0);
      await sleep(job.runAfter.toMillis() - Date.now() + 20);
    }
    const report = await runWorker(fb.db, options);
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
    const report = await runWorker(fb.db, options);
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
    const report = await runWorker(fb.db, workerOptions({}));
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
    await runWorker(fb.db, workerOptions({ 'manual-sync': record, 'scheduled-sync': record, 'initial-backfill': record }, { concurrency: 1 }));
    assert.deepEqual(order, ['high', 'mid-old', 'mid-new', 'low-old']);
  });

  it('stops claiming when the time budget left is below one job timeout', async () => {
    await enqueueMany(20);
    const report = await runWorker(
      fb.db,
      workerOptions({ 'scheduled-sync': () => sleep(200) }, { concurrency: 1, budgetMs: 1_000, jobTimeoutMs: 500 }),
    );
    assert.equal(report.stopReason, 'time-budget');
    assert.ok(report.counts.processed >= 1 && report.counts.processed <= 4, `processed ${report.counts.processed}`);
    const jobs = await allJobs(fb.db);
    assert.equal(jobs.filter((j) => j.status === 'succeeded').length, report.counts.processed);
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
