/**
 * The JobStore contract (functions/src/queue/store.ts), written against the interface only:
 * any store the worker runs on must pass it. Run here against FirestoreJobStore on the
 * emulator, with tasks and groups of the suite's own (the queue knows no ads domain).
 */
import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import {
  FirestoreJobStore,
  LeaseLostError,
  jobFromSnapshot,
  jobsCollection,
  type JobLease,
  type JobStore,
  type QueueJob,
  type TaskRegistry,
} from '../../functions/src/queue/index.js';
import { testFirebase } from '../helpers/firebase.js';

const TASKS: TaskRegistry = { report: { lane: 'work', priority: 0 }, urgent: { lane: 'work', priority: 7 }, history: { lane: 'slow', priority: -3 } };
const GROUPS = ['north', 'south'] as const;

interface Harness {
  store: JobStore;
  /** The job as stored, or null. */
  read(jobId: string): Promise<QueueJob | null>;
  clear(): Promise<void>;
  close(): Promise<void>;
}

function firestoreHarness(): Harness {
  const fb = testFirebase('queue-store-conformance');
  return {
    store: new FirestoreJobStore(fb.db, { tasks: TASKS, groups: GROUPS }),
    async read(jobId) {
      const snap = await jobsCollection(fb.db).doc(jobId).get();
      return snap.exists ? jobFromSnapshot(snap) : null;
    },
    clear: () => fb.clear(),
    close: () => fb.close(),
  };
}

const past = (ms: number) => new Date(Date.now() - ms);
const soon = () => new Date(Date.now() + 3_600_000);

function conformance(name: string, harness: Harness): void {
  const { store, read } = harness;
  const claimOne = async (extra: Partial<Parameters<JobStore['claim']>[0]> = {}): Promise<JobLease> => {
    const [lease] = await store.claim({ workerId: 'w1', max: 1, leaseMs: 60_000, ...extra });
    assert.ok(lease, 'a due job was claimed');
    return lease;
  };

  describe(`JobStore conformance: ${name}`, () => {
    beforeEach(() => harness.clear());
    after(() => harness.close());

    describe('enqueue', () => {
      it('stores a queued job with its task lane and default priority; one active job per (lane, user, group)', async () => {
        const first = await store.enqueue({ userId: 'u', providerId: 'north', jobType: 'report', payload: { n: 1 } });
        assert.deepEqual(first, { jobId: first.jobId, duplicate: false, priorityRaised: false });
        const job = (await read(first.jobId))!;
        assert.equal(job.status, 'queued');
        assert.equal(job.lane, 'work');
        assert.equal(job.priority, 0);
        assert.equal(job.attempts, 0);
        assert.deepEqual(job.payload, { n: 1 });

        const again = await store.enqueue({ userId: 'u', providerId: 'north', jobType: 'urgent' });
        assert.equal(again.duplicate, true, 'same lane, user and group');
        assert.equal(again.jobId, first.jobId);
        assert.equal(again.priorityRaised, false, 'no priority was asked for');
        assert.equal((await store.enqueue({ userId: 'u', providerId: 'north', jobType: 'history' })).duplicate, false, 'another lane');
        assert.equal((await store.enqueue({ userId: 'u', providerId: 'south', jobType: 'report' })).duplicate, false, 'another group');
        assert.equal((await store.enqueue({ userId: 'u', providerId: null, jobType: 'report' })).duplicate, false, 'no group');
      });

      it('raises a waiting duplicate to the priority asked for and, with bringForward, makes it due now', async () => {
        const { jobId } = await store.enqueue({ userId: 'u', providerId: 'north', jobType: 'report', runAfter: soon() });
        const raised = await store.enqueue({ userId: 'u', providerId: 'north', jobType: 'report', priority: 9, bringForward: true });
        assert.deepEqual(raised, { jobId, duplicate: true, priorityRaised: true });
        const job = (await read(jobId))!;
        assert.equal(job.priority, 9);
        assert.ok(job.runAfter.toMillis() <= Date.now());
      });

      it('refuses a task it does not know', async () => {
        await assert.rejects(store.enqueue({ userId: 'u', providerId: null, jobType: 'unknown' }), /no task "unknown"/);
      });
    });

    describe('claim', () => {
      it('takes due jobs by priority, then oldest runAfter, each once, with the attempt counted', async () => {
        const low = await store.enqueue({ userId: 'a', providerId: 'north', jobType: 'report', runAfter: past(1_000) });
        const older = await store.enqueue({ userId: 'b', providerId: 'north', jobType: 'report', runAfter: past(5_000) });
        const high = await store.enqueue({ userId: 'c', providerId: 'south', jobType: 'urgent' });
        await store.enqueue({ userId: 'd', providerId: 'south', jobType: 'report', runAfter: soon() });

        const leases = await store.claim({ workerId: 'w1', max: 10, leaseMs: 60_000 });
        assert.deepEqual(
          leases.map((l) => l.job.id),
          [high.jobId, older.jobId, low.jobId],
          'priority first, then runAfter; the job not yet due stays',
        );
        for (const lease of leases) {
          assert.equal(lease.attempts, 1);
          const stored = (await read(lease.job.id))!;
          assert.equal(stored.status, 'running');
          assert.equal(stored.attempts, 1);
          assert.equal(stored.lease?.workerId, 'w1');
        }
        assert.deepEqual(await store.claim({ workerId: 'w2', max: 10, leaseMs: 60_000 }), [], 'nothing is claimed twice');
      });

      it('gives each job to one of several claims racing for it', async () => {
        await Promise.all(Array.from({ length: 6 }, (_, i) => store.enqueue({ userId: `u${i}`, providerId: null, jobType: 'report' })));
        const claims = await Promise.all(Array.from({ length: 4 }, (_, i) => store.claim({ workerId: `w${i}`, max: 6, leaseMs: 60_000 })));
        const ids = claims.flat().map((l) => l.job.id);
        assert.equal(new Set(ids).size, ids.length, 'no job claimed twice');
        assert.equal(ids.length, 6, 'every job claimed by someone');
      });

      it('leaves skipped groups out, keeps jobs of no group, and lets one trial job of a half-open group through', async () => {
        await store.enqueue({ userId: 'a', providerId: 'north', jobType: 'report' });
        await store.enqueue({ userId: 'b', providerId: 'north', jobType: 'report' });
        const south = await store.enqueue({ userId: 'c', providerId: 'south', jobType: 'report' });
        const none = await store.enqueue({ userId: 'd', providerId: null, jobType: 'report' });
        const skipped = await store.claim({ workerId: 'w', max: 10, leaseMs: 60_000, skipGroups: new Set(['north']) });
        assert.deepEqual(skipped.map((l) => l.job.id).sort(), [south.jobId, none.jobId].sort());

        const taken = new Set<string>();
        const trial = await store.claim({ workerId: 'w', max: 10, leaseMs: 60_000, trials: { groups: new Set(['north']), taken } });
        assert.equal(trial.length, 1, 'one job of the half-open group');
        assert.deepEqual([...taken], ['north']);
      });

      it('serves only the user asked for, and at most the distinct users allowed', async () => {
        await store.enqueue({ userId: 'a', providerId: 'north', jobType: 'report' });
        await store.enqueue({ userId: 'b', providerId: 'north', jobType: 'report' });
        await store.enqueue({ userId: 'b', providerId: 'south', jobType: 'report' });
        assert.deepEqual((await store.claim({ workerId: 'w', max: 10, leaseMs: 60_000, userId: 'a' })).map((l) => l.job.userId), ['a']);
        const users = { seen: new Set<string>(), max: 1 };
        const served = await store.claim({ workerId: 'w', max: 10, leaseMs: 60_000, users });
        assert.deepEqual([...new Set(served.map((l) => l.job.userId))], ['b']);
      });
    });

    describe('a lease', () => {
      it('renews: progress and a later expiry; with a resume point the payload and attempts start over', async () => {
        await store.enqueue({ userId: 'u', providerId: 'north', jobType: 'history', maxAttempts: 3 });
        const lease = await claimOne();
        const before = (await read(lease.job.id))!.lease!.expiresAt.toMillis();
        await new Promise((r) => setTimeout(r, 5));
        await lease.renew({ done: 1, total: 4 });
        let job = (await read(lease.job.id))!;
        assert.deepEqual(job.progress, { done: 1, total: 4 });
        assert.ok(job.lease!.expiresAt.toMillis() > before, 'the lease was extended');
        assert.equal(job.lease!.workerId, 'w1');
        await lease.renew({ done: 2, total: 4 }, { chunk: 2 });
        job = (await read(lease.job.id))!;
        assert.deepEqual(job.payload, { chunk: 2 });
        assert.equal(job.attempts, 1);
        assert.equal(lease.attempts, 1);
      });

      it('succeeds once: the dedupe slot is free at once, and nothing more is written with it', async () => {
        const { jobId } = await store.enqueue({ userId: 'u', providerId: 'north', jobType: 'report' });
        const lease = await claimOne();
        await lease.succeed({ done: 1, total: 1 });
        const job = (await read(jobId))!;
        assert.equal(job.status, 'succeeded');
        assert.equal(job.lease, null);
        assert.ok(job.finishedAt);
        assert.ok(job.expireAt, 'a finished job expires');
        await assert.rejects(lease.succeed(), LeaseLostError);
        await assert.rejects(lease.fail('late'), LeaseLostError);
        await assert.rejects(lease.renew({ done: 1, total: 1 }), LeaseLostError);
        assert.equal((await store.enqueue({ userId: 'u', providerId: 'north', jobType: 'report' })).duplicate, false);
      });

      it('continues as the same job, keeping its dedupe slot, attempts starting over', async () => {
        const { jobId } = await store.enqueue({ userId: 'u', providerId: 'north', jobType: 'report' });
        const lease = await claimOne();
        const runAfter = soon();
        await lease.continue({ page: 2 }, runAfter);
        const job = (await read(jobId))!;
        assert.equal(job.status, 'queued');
        assert.deepEqual(job.payload, { page: 2 });
        assert.equal(job.attempts, 0);
        assert.equal(job.runAfter.toMillis(), runAfter.getTime());
        assert.equal((await store.enqueue({ userId: 'u', providerId: 'north', jobType: 'report' })).jobId, jobId, 'still holds its slot');
        await assert.rejects(lease.succeed(), LeaseLostError);
      });

      it('retries with lastError and runAfter; a deferral gives the attempt back and is counted', async () => {
        const { jobId } = await store.enqueue({ userId: 'u', providerId: 'north', jobType: 'report' });
        let lease = await claimOne();
        await lease.retry('platform hiccup', past(1));
        let job = (await read(jobId))!;
        assert.equal(job.status, 'queued');
        assert.equal(job.lastError, 'platform hiccup');
        assert.equal(job.attempts, 1);
        assert.equal(job.deferrals, 0);
        assert.equal(job.expireAt, null);

        lease = await claimOne();
        assert.equal(lease.attempts, 2);
        const resumeAt = soon();
        await lease.retry('limit reached', resumeAt, { deferral: true });
        job = (await read(jobId))!;
        assert.equal(job.attempts, 1, 'the attempt was given back');
        assert.equal(job.deferrals, 1);
        assert.equal(job.runAfter.toMillis(), resumeAt.getTime());
        assert.equal((await store.enqueue({ userId: 'u', providerId: 'north', jobType: 'report' })).jobId, jobId, 'still holds its slot');
      });

      it('fails for good: lastError kept, the dedupe slot free', async () => {
        const { jobId } = await store.enqueue({ userId: 'u', providerId: 'north', jobType: 'report' });
        const lease = await claimOne();
        await lease.fail('bad data');
        const job = (await read(jobId))!;
        assert.equal(job.status, 'failed');
        assert.equal(job.lastError, 'bad data');
        assert.ok(job.expireAt);
        assert.equal((await store.enqueue({ userId: 'u', providerId: 'north', jobType: 'report' })).duplicate, false);
      });

      it('once closed refuses renewals but still takes the outcome', async () => {
        const { jobId } = await store.enqueue({ userId: 'u', providerId: 'north', jobType: 'report' });
        const lease = await claimOne();
        lease.close();
        await assert.rejects(lease.renew({ done: 1, total: 2 }), LeaseLostError);
        await lease.succeed();
        assert.equal((await read(jobId))!.status, 'succeeded');
      });

      it('an outcome asked for while a renewal is in flight waits for it and lands', async () => {
        const { jobId } = await store.enqueue({ userId: 'u', providerId: 'north', jobType: 'report' });
        const lease = await claimOne();
        const renewal = lease.renew({ done: 1, total: 2 }, { chunk: 1 });
        await lease.succeed();
        await renewal;
        assert.equal((await read(jobId))!.status, 'succeeded');
      });
    });

    describe('cancel', () => {
      it('cancels a queued job and frees its slot', async () => {
        const { jobId } = await store.enqueue({ userId: 'u', providerId: 'north', jobType: 'report' });
        await store.cancel(jobId, 'not wanted');
        const job = (await read(jobId))!;
        assert.equal(job.status, 'cancelled');
        assert.equal(job.lastError, 'not wanted');
        assert.ok(job.expireAt);
        assert.equal((await store.enqueue({ userId: 'u', providerId: 'north', jobType: 'report' })).duplicate, false);
      });

      it("cancels a running job: its lease's every later write is refused and the cancel stands", async () => {
        const { jobId } = await store.enqueue({ userId: 'u', providerId: 'north', jobType: 'report' });
        const lease = await claimOne();
        await store.cancel(jobId, 'stop');
        await assert.rejects(lease.renew({ done: 1, total: 2 }), LeaseLostError);
        await assert.rejects(lease.succeed(), LeaseLostError);
        await assert.rejects(lease.retry('late', past(1)), LeaseLostError);
        const job = (await read(jobId))!;
        assert.equal(job.status, 'cancelled');
        assert.equal(job.lastError, 'stop');
      });

      it('refuses a finished job', async () => {
        const { jobId } = await store.enqueue({ userId: 'u', providerId: 'north', jobType: 'report' });
        await (await claimOne()).succeed();
        await assert.rejects(store.cancel(jobId, 'too late'), /only queued or running jobs can be cancelled/);
      });
    });
  });
}

conformance('FirestoreJobStore on the emulator', firestoreHarness());
