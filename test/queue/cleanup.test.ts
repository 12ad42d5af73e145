import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { Timestamp } from 'firebase-admin/firestore';
import { cleanupOldJobs, jobsCollection, newJobDocument } from '../../functions/src/queue/index.js';
import { EVENTS_COLLECTION_PATH } from '../../functions/src/scheduler/events.js';
import type { JobStatus } from '../../functions/src/schema/index.js';
import { testFirebase } from '../helpers/firebase.js';

const fb = testFirebase('queue-cleanup');
beforeEach(() => fb.clear());
after(() => fb.close());

const daysAgo = (d: number) => Timestamp.fromMillis(Date.now() - d * 86_400_000);

async function job(id: string, status: JobStatus, finishedDaysAgo: number | null, createdDaysAgo = 30) {
  const doc = newJobDocument({ userId: id, providerId: 'meta', jobType: 'scheduled-sync' }, 3, daysAgo(createdDaysAgo));
  await jobsCollection(fb.db).doc(id).set({ ...doc, status, finishedAt: finishedDaysAgo === null ? null : daysAgo(finishedDaysAgo) });
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
    assert.deepEqual(deleted, { jobs: 3, events: 1 });
    const left = (await jobsCollection(fb.db).get()).docs.map((d) => d.id).sort();
    assert.deepEqual(left, ['old-queued', 'old-running', 'recent-succeeded']);
    assert.deepEqual((await events.get()).docs.map((d) => d.id), ['recent']);
  });

  it('pages through more jobs than one page', async () => {
    const writer = fb.db.bulkWriter();
    for (let i = 0; i < 25; i++) {
      const doc = newJobDocument({ userId: `u${i}`, providerId: 'google', jobType: 'manual-sync' }, 3, daysAgo(20));
      void writer.set(jobsCollection(fb.db).doc(), { ...doc, status: 'succeeded', finishedAt: daysAgo(20) });
    }
    await writer.close();
    const deleted = await cleanupOldJobs(fb.db, { retentionDays: 7, pageSize: 10, eventsCollectionPath: EVENTS_COLLECTION_PATH });
    assert.equal(deleted.jobs, 25);
    assert.equal((await jobsCollection(fb.db).get()).size, 0);
  });
});
