import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { Query, Timestamp, type QuerySnapshot } from 'firebase-admin/firestore';
import { cleanupOldJobs, jobsCollection, retryJob } from '../../functions/src/queue/index.js';
import { testFirebase } from '../helpers/firebase.js';
import { newJobDocument } from '../../functions/src/queue/enqueue.js';
import { EVENTS_COLLECTION_PATH, JOB_TASKS, type JobStatus } from '../../functions/src/schema/index.js';

const fb = testFirebase('queue-cleanup');
beforeEach(() => fb.clear());
after(() => fb.close());

const daysAgo = (d: number) => Timestamp.fromMillis(Date.now() - d * 86_400_000);

/** `count` jobs that succeeded 20 days ago, past the 7 days' retention. */
async function seedFinished(count: number): Promise<void> {
  const writer = fb.db.bulkWriter();
  for (let i = 0; i < count; i++) {
    const doc = newJobDocument(JOB_TASKS, { userId: `u${i}`, providerId: 'google', jobType: 'manual-sync' }, 3, daysAgo(20));
    void writer.set(jobsCollection(fb.db).doc(), { ...doc, status: 'succeeded', finishedAt: daysAgo(20) });
  }
  await writer.close();
}

async function job(id: string, status: JobStatus, finishedDaysAgo: number | null, createdDaysAgo = 30) {
  const doc = newJobDocument(JOB_TASKS, { userId: id, providerId: 'meta', jobType: 'scheduled-sync' }, 3, daysAgo(createdDaysAgo));
  await jobsCollection(fb.db).doc(id).set({ ...doc, status, finishedAt: finishedDaysAgo === null ? null : daysAgo(finishedDaysAgo) });
}

/** Runs `hook` on every query result before the code that asked gets it; returns the undo. */
function afterEachQuery(hook: (snap: QuerySnapshot) => Promise<void>): () => void {
  const originalGet = Query.prototype.get;
  Query.prototype.get = async function (this: Query) {
    const snap = await originalGet.call(this);
    await hook(snap);
    return snap;
  } as typeof originalGet;
  return () => {
    Query.prototype.get = originalGet;
  };
}

describe('cleanupOldJobs', () => {
  it('deletes only finished jobs and events older than the retention', async () => {
    await job('old-succeeded', 'succeeded', 10);
    await job('old-failed', 'failed', 8);
    await job('old-cancelled', 'cancelled', 30);
    await job('recent-succeeded', 'succeeded', 1);
    await job('old-queued', 'queued', null);
    await job('old-running', 'running', null);
    const events = fb.db.collection(EVENTS_COLLECTION_PATH);
    await events.doc('old').set({ at: daysAgo(9) });
    await events.doc('recent').set({ at: daysAgo(2) });

    const deleted = await cleanupOldJobs(fb.db, { retentionDays: 7, eventsCollectionPath: EVENTS_COLLECTION_PATH });
    assert.deepEqual(deleted, { jobs: 3, events: 1, expired: 0, complete: true });
    const left = (await jobsCollection(fb.db).get()).docs.map((d) => d.id).sort();
    assert.deepEqual(left, ['old-queued', 'old-running', 'recent-succeeded']);
    assert.deepEqual((await events.get()).docs.map((d) => d.id), ['recent']);
  });

  it('pages through more jobs than one page', async () => {
    await seedFinished(25);
    const deleted = await cleanupOldJobs(fb.db, { retentionDays: 7, pageSize: 10, eventsCollectionPath: EVENTS_COLLECTION_PATH });
    assert.equal(deleted.jobs, 25);
    assert.equal((await jobsCollection(fb.db).get()).size, 0);
  });

  it('deletes documents past their expireAt in the expiring collections, and keeps the rest', async () => {
    const states = fb.db.collection('admin/alerts/alertStates');
    await states.doc('expired').set({ expireAt: daysAgo(1) });
    await states.doc('open').set({ expireAt: null });
    await states.doc('later').set({ expireAt: daysAgo(-1) });
    const deleted = await cleanupOldJobs(fb.db, { retentionDays: 7, eventsCollectionPath: EVENTS_COLLECTION_PATH, expiringCollectionPaths: ['admin/alerts/alertStates'] });
    assert.deepEqual(deleted, { jobs: 0, events: 0, expired: 1, complete: true });
    assert.deepEqual((await states.get()).docs.map((d) => d.id).sort(), ['later', 'open']);
  });

  it('stops starting new pages when its time budget is spent, and says it is not complete', async () => {
    await seedFinished(50);
    // Each page of jobs read takes a second on this clock: pages start at 0, 1 and 2 s; at 3 s the 2.5 s budget is spent.
    let clock = 0;
    const restore = afterEachQuery(async (snap) => {
      if (!snap.empty) clock += 1000;
    });
    let first;
    try {
      first = await cleanupOldJobs(fb.db, { retentionDays: 7, pageSize: 10, budgetMs: 2_500, now: () => clock, eventsCollectionPath: EVENTS_COLLECTION_PATH });
    } finally {
      restore();
    }
    assert.deepEqual([first.jobs, first.complete], [30, false]);
    assert.equal((await jobsCollection(fb.db).get()).size, 20);
    const rest = await cleanupOldJobs(fb.db, { retentionDays: 7, pageSize: 10, eventsCollectionPath: EVENTS_COLLECTION_PATH });
    assert.deepEqual([rest.jobs, rest.complete], [20, true]);
  });

  it('keeps a finished job that was retried between the query and the delete', async () => {
    await job('retried', 'failed', 10);
    await job('old', 'succeeded', 10);
    // An admin's retry lands after the page was read and before its deletes are sent.
    let retried = false;
    const restore = afterEachQuery(async (snap) => {
      if (!retried && snap.docs.some((doc) => doc.id === 'retried')) {
        retried = true;
        await retryJob(fb.db, 'retried');
      }
    });
    try {
      const deleted = await cleanupOldJobs(fb.db, { retentionDays: 7, eventsCollectionPath: EVENTS_COLLECTION_PATH });
      assert.deepEqual([deleted.jobs, deleted.complete], [1, true]);
    } finally {
      restore();
    }
    assert.equal(retried, true);
    const left = (await jobsCollection(fb.db).get()).docs.map((d) => [d.id, d.get('status')]);
    assert.deepEqual(left, [['retried', 'queued']]);
  });
});
