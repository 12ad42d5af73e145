import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Timestamp } from 'firebase-admin/firestore';
import { runWorker } from '../../functions/src/queue/index.js';
import { createFanOutHandler } from '../../functions/src/scheduler/fanout.js';
import { PROVIDER_IDS, type ProviderId } from '../../functions/src/schema/index.js';
import { changedPaths, dumpDatabase, serveEndpoints, TEST_CRON_KEY, testContext, testFirebase, type TestServer } from '../helpers/firebase.js';
import { allJobs, workerOptions } from '../helpers/queue.js';
import { seedIntegrations, type SeedIntegration } from '../helpers/seed.js';
import { adsQueue } from '../../functions/src/scheduler/jobs.js';

const fb = testFirebase('process-all-users');
let server: TestServer;

before(async () => {
  server = await serveEndpoints(testContext(fb));
});
after(async () => {
  await server.close();
  await fb.close();
});

/**
 * A fresh database of `users` users with 1-4 integrations each, in every state that must or
 * must not be synced; returns the due ones as "user/provider".
 */
async function seedUsers(users: number): Promise<Set<string>> {
  await fb.clear();
  const due = new Set<string>();
  const integrations: SeedIntegration[] = [];
  for (let u = 0; u < users; u++) {
    const userId = `user-${String(u).padStart(4, '0')}`;
    const count = 1 + (u % 4);
    for (let p = 0; p < count; p++) {
      const providerId = PROVIDER_IDS[p] as ProviderId;
      const kind = (u * 7 + p) % 6;
      const seed: SeedIntegration = { userId, providerId };
      if (kind === 1) seed.status = 'disconnected';
      else if (kind === 2) seed.enabled = false;
      else if (kind === 3) seed.nextRunAt = new Date(Date.now() + 3_600_000);
      else if (kind === 4) seed.status = 'error';
      else due.add(`${userId}/${providerId}`);
      integrations.push(seed);
    }
  }
  await seedIntegrations(fb.db, integrations);
  return due;
}

async function processAllUsers(): Promise<{ status: number; body: { jobId: string; duplicate: boolean; eventId: string } }> {
  const response = await fetch(`${server.url}/cron`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-cron-key': TEST_CRON_KEY },
    body: JSON.stringify({ operation: 'process_all_users', maxUsers: 100 }),
  });
  return { status: response.status, body: (await response.json()) as { jobId: string; duplicate: boolean; eventId: string } };
}

// A worker dedicated to fan-out jobs: the scheduled syncs it enqueues stay queued.
const runFanOut = () => runWorker(adsQueue(fb.db), workerOptions({ 'fan-out': createFanOutHandler(fb.db) }, { maxJobs: 1000, jobTypes: ['fan-out'] }));
const scheduledSyncs = async () => (await allJobs(fb.db)).filter((j) => j.jobType === 'scheduled-sync');

describe('process_all_users', () => {
  it('answers 202 with one fan-out job, and the worker enqueues exactly the due integrations', async () => {
    const due = await seedUsers(1000);
    const before = await dumpDatabase(fb);
    const response = await processAllUsers();
    assert.equal(response.status, 202);
    assert.equal(response.body.duplicate, false);
    assert.deepEqual(
      changedPaths(before, await dumpDatabase(fb)),
      [`admin/scheduler/events/${response.body.eventId}`, 'syncJobLocks/system:process_all_users', `syncJobs/${response.body.jobId}`],
      'nothing else is written inside the request',
    );
    assert.deepEqual((await allJobs(fb.db)).map((j) => j.jobType), ['fan-out']);

    const report = await runFanOut();
    const fanOutPages = report.jobs.filter((j) => j.jobType === 'fan-out');
    const dueUsers = new Set([...due].map((key) => key.split('/')[0]));
    assert.equal(fanOutPages.length, Math.ceil(dueUsers.size / 100), 'pages of 100 users');
    const jobs = await scheduledSyncs();
    const keys = jobs.map((j) => `${j.userId}/${j.providerId}`);
    assert.equal(new Set(keys).size, keys.length, 'no duplicates');
    assert.deepEqual(new Set(keys), due);
    assert.equal(report.counters.queued, due.size);
    const integrations = await fb.db.collectionGroup('integrations').get();
    for (const doc of integrations.docs) {
      const key = `${doc.get('userId')}/${doc.get('providerId')}`;
      if (due.has(key)) {
        assert.ok(doc.get('nextRunAt').toMillis() > Date.now(), `${key}: nextRunAt advanced`);
        assert.ok(doc.get('lastRequestedAt'), `${key}: lastRequestedAt set`);
      } else {
        assert.equal(doc.get('lastRequestedAt'), null, `${key}: untouched`);
      }
    }
  });

  it('is safe to repeat: a second call enqueues nothing new, stopped by the dedupe locks alone and by nextRunAt alone', async () => {
    const due = await seedUsers(200);
    assert.equal((await processAllUsers()).status, 202);
    assert.equal((await runFanOut()).counters.queued, due.size);
    const first = new Set((await scheduledSyncs()).map((j) => j.id));
    assert.equal(first.size, due.size);

    // The locks alone: every integration due again while its job still waits.
    const writer = fb.db.bulkWriter();
    for (const key of due) {
      const [userId, providerId] = key.split('/');
      void writer.update(fb.db.doc(`users/${userId}/integrations/${providerId}`), { nextRunAt: Timestamp.fromMillis(Date.now() - 60_000) });
    }
    await writer.close();
    assert.equal((await processAllUsers()).status, 202);
    const deduped = await runFanOut();
    assert.equal(deduped.counters.queued, 0);
    assert.equal(deduped.counters.duplicates, due.size, 'each due integration met its waiting job');
    assert.deepEqual(new Set((await scheduledSyncs()).map((j) => j.id)), first);

    // nextRunAt alone: the jobs have run and freed their locks, and nothing is due.
    const synced = await runWorker(adsQueue(fb.db), workerOptions({ 'scheduled-sync': async () => undefined }, { maxJobs: 1000, concurrency: 16 }));
    assert.equal(synced.counts.succeeded, due.size);
    assert.equal((await fb.db.collection('syncJobLocks').get()).size, 0);
    assert.equal((await processAllUsers()).status, 202);
    const notDue = await runFanOut();
    assert.equal(notDue.counters.queued, 0);
    assert.equal(notDue.counters.duplicates, 0, 'no integration was due');
    const jobs = await scheduledSyncs();
    assert.deepEqual(new Set(jobs.map((j) => j.id)), first);
    assert.ok(jobs.every((j) => j.status === 'succeeded'));
  });
});
