import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runWorker } from '../../functions/src/queue/index.js';
import { fanOutHandler } from '../../functions/src/scheduler/fanout.js';
import { PROVIDER_IDS, type ProviderId } from '../../functions/src/schema/index.js';
import { serveEndpoints, TEST_CRON_KEY, testContext, testFirebase, type TestServer } from '../helpers/firebase.js';
import { allJobs, workerOptions } from '../helpers/queue.js';
import { seedIntegrations, type SeedIntegration } from '../helpers/seed.js';

const fb = testFirebase('process-all-users');
let server: TestServer;
const due = new Set<string>();

before(async () => {
  await fb.clear();
  server = await serveEndpoints(testContext(fb));
  // 1,000 users, 1-4 integrations each, in every state that must or must not be synced.
  const integrations: SeedIntegration[] = [];
  for (let u = 0; u < 1000; u++) {
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
});
after(async () => {
  await server.close();
  await fb.close();
});

const processAllUsers = () =>
  fetch(`${server.url}/cron`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-cron-key': TEST_CRON_KEY },
    body: JSON.stringify({ operation: 'process_all_users', maxUsers: 100 }),
  });

describe('process_all_users', () => {
  it('answers 202 with one fan-out job, and the worker enqueues exactly the due integrations', async () => {
    const response = await processAllUsers();
    assert.equal(response.status, 202);
    const body = (await response.json()) as { jobId: string; duplicate: boolean };
    assert.equal(body.duplicate, false);
    const before = await allJobs(fb.db);
    assert.deepEqual(before.map((j) => j.jobType), ['fan-out'], 'nothing else is written inside the request');

    const report = await runWorker(fb.db, workerOptions({ 'fan-out': fanOutHandler }, { maxJobs: 1000 }));
    const fanOutPages = report.jobs.filter((j) => j.jobType === 'fan-out');
    const dueUsers = new Set([...due].map((key) => key.split('/')[0]));
    assert.equal(fanOutPages.length, Math.ceil(dueUsers.size / 100), 'pages of 100 users');
    const jobs = (await allJobs(fb.db)).filter((j) => j.jobType === 'scheduled-sync');
    const keys = jobs.map((j) => `${j.userId}/${j.providerId}`);
    assert.equal(new Set(keys).size, keys.length, 'no duplicates');
    assert.deepEqual(new Set(keys), due);
    assert.equal(report.counts.queued, due.size);
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

  it('is safe to repeat: a second call enqueues nothing new', async () => {
    const response = await processAllUsers();
    assert.equal(response.status, 202);
    const report = await runWorker(fb.db, workerOptions({ 'fan-out': fanOutHandler }, { maxJobs: 1000 }));
    assert.equal(report.counts.queued, 0);
    const jobs = (await allJobs(fb.db)).filter((j) => j.jobType === 'scheduled-sync');
    assert.equal(jobs.length, due.size);
  });
});
