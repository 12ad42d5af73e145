import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { Timestamp } from 'firebase-admin/firestore';
import { RateLimitJobError, circuitsCollection, jobsCollection, runWorker, type JobHandler } from '../../functions/src/queue/index.js';
import type { JobType, ProviderId } from '../../functions/src/schema/index.js';
import { testFirebase } from '../helpers/firebase.js';
import { allJobs, workerOptions } from '../helpers/queue.js';
import { newJobDocument } from '../../functions/src/queue/enqueue.js';
import { adsQueue } from '../../functions/src/scheduler/jobs.js';
import { JOB_TASKS } from '../../functions/src/schema/index.js';

const fb = testFirebase('queue-fairness');
beforeEach(() => fb.clear());
after(() => fb.close());

/** Jobs written directly, with runAfter in the past: `ageMinutes` sets their place in line. */
async function seed(providerId: ProviderId | null, count: number, ageMinutes: number, jobType: JobType = 'scheduled-sync'): Promise<void> {
  const writer = fb.db.bulkWriter();
  for (let i = 0; i < count; i++) {
    const doc = newJobDocument(JOB_TASKS, { userId: `${providerId ?? 'system'}-${i}`, providerId, jobType, runAfter: new Date(Date.now() - ageMinutes * 60_000) }, 3);
    void writer.create(jobsCollection(fb.db).doc(), doc);
  }
  await writer.close();
}

const openCircuit = (providerId: ProviderId, openUntil: number, consecutiveFailures = 5) =>
  circuitsCollection(fb.db).doc(providerId).set({ consecutiveFailures, openUntil: Timestamp.fromMillis(openUntil), lastError: 'down' });

describe('claims skip paused providers in the query', () => {
  it('a queue head full of one paused provider\'s retries does not hide the other providers\' jobs', async () => {
    await seed('meta', 40, 60);
    await seed('google', 3, 1);
    await seed('tiktok', 2, 1);
    await openCircuit('meta', Date.now() + 600_000);
    const ran: string[] = [];
    const record: JobHandler = async ({ job }) => void ran.push(job.providerId!);
    const report = await runWorker(adsQueue(fb.db), workerOptions({ 'scheduled-sync': record }, { concurrency: 2, maxJobs: 5 }));
    assert.equal(report.counts.processed, 5);
    assert.deepEqual(ran.sort(), ['google', 'google', 'google', 'tiktok', 'tiktok']);
    assert.ok((await allJobs(fb.db)).filter((j) => j.providerId === 'meta').every((j) => j.attempts === 0 && j.status === 'queued'));
  });

  it('one user\'s run (the process endpoint) skips that user\'s paused providers the same way', async () => {
    const writer = fb.db.bulkWriter();
    for (const [providerId, age] of [['meta', 60], ['meta', 50], ['google', 1]] as const) {
      void writer.create(jobsCollection(fb.db).doc(), newJobDocument(JOB_TASKS, { userId: 'one', providerId, jobType: 'manual-sync', runAfter: new Date(Date.now() - age * 60_000) }, 3));
    }
    await writer.close();
    await openCircuit('meta', Date.now() + 600_000);
    const ran: string[] = [];
    await runWorker(adsQueue(fb.db), workerOptions({ 'manual-sync': async ({ job }) => void ran.push(job.providerId!) }, { userId: 'one', concurrency: 1, maxJobs: 1 }));
    assert.deepEqual(ran, ['google']);
  });

  it('jobs of no provider (the fan-out) still run while every provider is paused', async () => {
    await seed('meta', 20, 60);
    await seed(null, 1, 0, 'fan-out');
    for (const p of ['google', 'meta', 'linkedin', 'tiktok'] as const) await openCircuit(p, Date.now() + 600_000);
    const ran: string[] = [];
    const report = await runWorker(adsQueue(fb.db), workerOptions({ 'fan-out': async ({ job }) => void ran.push(job.jobType), 'scheduled-sync': async () => assert.fail('paused') }));
    assert.deepEqual(ran, ['fan-out']);
    assert.equal(report.counts.processed, 1);
  });

  it('after the cool-down one trial job tries the provider; when it fails, the others keep their attempts', async () => {
    await seed('linkedin', 10, 30);
    await openCircuit('linkedin', Date.now() - 1_000);
    let attempts = 0;
    const report = await runWorker(
      adsQueue(fb.db),
      workerOptions(
        {
          'scheduled-sync': async () => {
            attempts++;
            throw new Error('still down');
          },
        },
        { concurrency: 8, circuit: { failureThreshold: 5, cooldownMs: 600_000 } },
      ),
    );
    assert.equal(attempts, 1, 'one trial, not a slot-full of failures');
    assert.deepEqual(report.circuitsOpened, ['linkedin']);
    const jobs = await allJobs(fb.db);
    assert.equal(jobs.filter((j) => j.attempts === 1).length, 1);
    assert.equal(jobs.filter((j) => j.attempts === 0).length, 9);
    const circuit = await circuitsCollection(fb.db).doc('linkedin').get();
    assert.ok((circuit.get('openUntil') as Timestamp).toMillis() > Date.now(), 'open again for a new cool-down');
  });

  it('a successful trial closes the circuit and the provider\'s other jobs run in the same call', async () => {
    await seed('linkedin', 6, 30);
    await openCircuit('linkedin', Date.now() - 1_000);
    let running = 0;
    let mostAtOnce = 0;
    /** Jobs running when each job started. */
    const order: number[] = [];
    const report = await runWorker(
      adsQueue(fb.db),
      workerOptions({
        'scheduled-sync': async () => {
          running++;
          mostAtOnce = Math.max(mostAtOnce, running);
          order.push(running);
          await new Promise((resolve) => setTimeout(resolve, 30));
          running--;
        },
      }),
    );
    assert.equal(report.counts.succeeded, 6);
    assert.equal(order[1], 1, 'the trial ran alone: the next job started after it had finished');
    assert.ok(mostAtOnce > 1, 'then the rest ran side by side');
    assert.equal((await circuitsCollection(fb.db).doc('linkedin').get()).get('consecutiveFailures'), 0);
  });
});

describe('a platform limit pauses its provider without starving the others', () => {
  it('a pause until the limit resets, over a backlog of that provider, leaves every other provider\'s job to run', async () => {
    await seed('linkedin', 30, 60);
    await seed('meta', 1, 1);
    await seed('google', 1, 1);
    await adsQueue(fb.db).circuits.pause('linkedin', new Date(Date.now() + 6 * 3_600_000), 'APPLICATION DAY limit');
    const ran: string[] = [];
    const report = await runWorker(adsQueue(fb.db), workerOptions({ 'scheduled-sync': async ({ job }) => void ran.push(job.providerId!) }, { concurrency: 2, maxJobs: 10 }));
    assert.deepEqual(ran.sort(), ['google', 'meta']);
    assert.equal(report.stopReason, 'queue-empty');
    const linkedin = (await allJobs(fb.db)).filter((j) => j.providerId === 'linkedin');
    assert.equal(linkedin.length, 30);
    assert.ok(linkedin.every((j) => j.status === 'queued' && j.attempts === 0));
  });

  it('a success that finishes after the pause began does not lift it', { timeout: 30_000 }, async () => {
    // One job hits the app-wide daily limit while another, already running, succeeds after it.
    await seed('linkedin', 2, 10);
    await circuitsCollection(fb.db).doc('linkedin').set({ consecutiveFailures: 2, openUntil: null, lastError: 'earlier' });
    const resumeAt = new Date(Date.now() + 6 * 3_600_000);
    let limited: () => void = () => undefined;
    const limitHit = new Promise<void>((resolve) => (limited = resolve));
    let calls = 0;
    const handler: JobHandler = async () => {
      if (calls++ === 0) {
        setTimeout(limited, 0);
        throw new RateLimitJobError('APPLICATION DAY limit', resumeAt, true);
      }
      await limitHit;
      // Succeeds only once the worker has written the first job's pause (an event, not a time).
      while (!(await circuitsCollection(fb.db).doc('linkedin').get()).get('pausedBy')) await new Promise((r) => setImmediate(r));
      succeededDuringPause = true;
    };
    let succeededDuringPause = false;
    await runWorker(adsQueue(fb.db), workerOptions({ 'scheduled-sync': handler }, { concurrency: 2, maxJobs: 2 }));
    assert.ok(succeededDuringPause);
    const circuit = await circuitsCollection(fb.db).doc('linkedin').get();
    assert.equal((circuit.get('openUntil') as Timestamp).toMillis(), resumeAt.getTime(), 'the pause stands until the limit resets');
    assert.equal(circuit.get('pausedBy'), 'rate-limit');
    assert.equal(circuit.get('consecutiveFailures'), 0, 'the success still clears the failure count');
  });
});

describe('half-open trials and pauses never starve or shorten each other', () => {
  it('while a half-open provider\'s trial runs, other providers\' jobs behind its backlog run beside it', async () => {
    await seed('google', 40, 30);
    await seed('meta', 3, 1);
    await openCircuit('google', Date.now() - 1_000);
    let metaRan = 0;
    let metaBeforeTrialEnded = 0;
    let allMetaRan: () => void = () => undefined;
    const metaDone = new Promise<void>((resolve) => (allMetaRan = resolve));
    const handler: JobHandler = async ({ job }) => {
      if (job.providerId === 'meta') {
        if (++metaRan === 3) allMetaRan();
        return;
      }
      // The trial finishes only once the other provider's jobs have started (or its timeout ends it).
      // Unref'd: a fallback that lost the race must not hold the test process open.
      await Promise.race([metaDone, new Promise((r) => setTimeout(r, 5_000).unref())]);
      metaBeforeTrialEnded = metaRan;
    };
    await runWorker(adsQueue(fb.db), workerOptions({ 'scheduled-sync': handler }, { concurrency: 4, maxJobs: 4, circuit: { failureThreshold: 5, cooldownMs: 600_000 } }));
    assert.equal(metaBeforeTrialEnded, 3, 'all three Meta jobs ran while the Google trial was under way');
  });

  it('a shorter platform-limit pause never cuts an open circuit\'s cool-down, and a longer one extends it', async () => {
    const openUntil = Date.now() + 600_000;
    await openCircuit('linkedin', openUntil);
    await adsQueue(fb.db).circuits.pause('linkedin', new Date(Date.now() + 1_000), 'short limit');
    let circuit = await circuitsCollection(fb.db).doc('linkedin').get();
    assert.equal((circuit.get('openUntil') as Timestamp).toMillis(), openUntil);
    assert.equal(circuit.get('pausedBy'), undefined, 'still the circuit\'s own cool-down');
    const midnight = new Date(Date.now() + 6 * 3_600_000);
    await adsQueue(fb.db).circuits.pause('linkedin', midnight, 'APPLICATION DAY limit');
    circuit = await circuitsCollection(fb.db).doc('linkedin').get();
    assert.equal((circuit.get('openUntil') as Timestamp).toMillis(), midnight.getTime());
    assert.equal(circuit.get('pausedBy'), 'rate-limit');
  });
});
