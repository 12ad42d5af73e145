import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Firestore, Timestamp } from 'firebase-admin/firestore';
import { jobsCollection, lockRef, type JobHandler, type QueueJob } from '../../functions/src/queue/index.js';
import { eventsCollection } from '../../functions/src/scheduler/events.js';
import { createFanOutHandler } from '../../functions/src/scheduler/fanout.js';
import { JOB_TASKS, emptyCounts, type SchedulerEvent } from '../../functions/src/schema/index.js';
import {
  ADMIN_EMAIL,
  dumpDatabase,
  idTokenFor,
  serveEndpoints,
  TEST_CRON_KEY,
  testConfig,
  testContext,
  testFirebase,
  type TestServer,
} from '../helpers/firebase.js';
import { allJobs } from '../helpers/queue.js';
import { seedIntegrations } from '../helpers/seed.js';
import { newJobDocument } from '../../functions/src/queue/enqueue.js';
import { adsQueue, enqueueJob } from '../../functions/src/scheduler/jobs.js';

const fb = testFirebase('http-endpoints');
let server: TestServer;
let adminToken: string;
let claimAdminToken: string;
let userToken: string;
let userId: string;
/** Manual syncs the server's handler ran, in order. */
const ran: QueueJob[] = [];
const recordManualSync: JobHandler = async ({ job }) => {
  ran.push(job);
};

before(async () => {
  await fb.clear();
  server = await serveEndpoints(testContext(fb, { handlers: { 'fan-out': createFanOutHandler(fb.db), 'manual-sync': recordManualSync } }));
  adminToken = (await idTokenFor(fb, { email: ADMIN_EMAIL })).token;
  claimAdminToken = (await idTokenFor(fb, { email: 'ops@example.com', claims: { admin: true } })).token;
  const user = await idTokenFor(fb, { email: 'someone@example.com' });
  userToken = user.token;
  userId = user.uid;
  await seedIntegrations(fb.db, [
    { userId, providerId: 'meta' },
    { userId, providerId: 'google', status: 'disconnected' },
    { userId: 'other-user', providerId: 'tiktok' },
  ]);
});
after(async () => {
  await server.close();
  await fb.close();
});

interface Call {
  method?: string;
  key?: string;
  token?: string;
  body?: unknown;
  rawBody?: string;
}

async function call(endpoint: string, { method = 'POST', key, token, body, rawBody }: Call = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== undefined) headers['x-cron-key'] = key;
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${server.url}/${endpoint}`, {
    method,
    headers,
    body: method === 'GET' ? undefined : (rawBody ?? JSON.stringify(body ?? {})),
  });
  const text = await response.text();
  return { status: response.status, text, json: JSON.parse(text) as Record<string, unknown> };
}

/** Runs the call and asserts its status, that it named the field, and that nothing changed. */
async function rejects(endpoint: string, request: Call, status: number, field?: string) {
  const before = await dumpDatabase(fb);
  const response = await call(endpoint, request);
  assert.equal(response.status, status, `${endpoint} ${JSON.stringify(request.body ?? request.rawBody)}: ${response.text}`);
  if (field) assert.equal(response.json.field, field, response.text);
  assert.ok(!response.text.includes(TEST_CRON_KEY), 'never echoes the key');
  if (request.token) assert.ok(!response.text.includes(request.token), 'never echoes the token');
  assert.deepEqual(await dumpDatabase(fb), before, `${endpoint} changed the database on a ${status}`);
}

describe('guarded endpoints refuse without changing anything', () => {
  for (const endpoint of ['cron', 'worker', 'schedule', 'process']) {
    it(`${endpoint}: 401 without a key, 401 with a wrong key, 405 on GET`, async () => {
      const body = endpoint === 'cron' ? { operation: 'reset_stale_jobs' } : endpoint === 'process' ? { userId } : { userId };
      await rejects(endpoint, { body }, 401, 'x-cron-key');
      await rejects(endpoint, { body, key: 'wrong-key' }, 401, 'x-cron-key');
      await rejects(endpoint, { body, key: `${TEST_CRON_KEY}x` }, 401, 'x-cron-key');
      await rejects(endpoint, { method: 'GET', key: TEST_CRON_KEY }, 405);
    });
  }

  it('cron: 400 for an unknown operation, bad types, unknown fields and broken JSON', async () => {
    await rejects('cron', { key: TEST_CRON_KEY, body: { operation: 'drop_everything' } }, 400, 'operation');
    await rejects('cron', { key: TEST_CRON_KEY, body: {} }, 400, 'operation');
    await rejects('cron', { key: TEST_CRON_KEY, body: { operation: 'process_all_users', maxUsers: 0 } }, 400, 'maxUsers');
    await rejects('cron', { key: TEST_CRON_KEY, body: { operation: 'process_all_users', maxUsers: 'ten' } }, 400, 'maxUsers');
    await rejects('cron', { key: TEST_CRON_KEY, body: { operation: 'process_all_users', jobType: 'initial-backfill' } }, 400, 'jobType');
    await rejects('cron', { key: TEST_CRON_KEY, body: { operation: 'cleanup_old_jobs', retentionDays: -1 } }, 400, 'retentionDays');
    await rejects('cron', { key: TEST_CRON_KEY, body: { operation: 'reset_stale_jobs', surprise: true } }, 400, 'surprise');
    await rejects('cron', { key: TEST_CRON_KEY, rawBody: '{"operation":' }, 400, 'body');
  });

  it('worker and process: 400 naming the field', async () => {
    await rejects('worker', { key: TEST_CRON_KEY, body: { maxJobs: 5000 } }, 400, 'maxJobs');
    await rejects('worker', { key: TEST_CRON_KEY, body: { maxUsers: 1.5 } }, 400, 'maxUsers');
    await rejects('process', { key: TEST_CRON_KEY, body: {} }, 400, 'userId');
    await rejects('process', { key: TEST_CRON_KEY, body: { userId: 'a/b' } }, 400, 'userId');
  });

  it('schedule: 400, 401, 403, 404 and 409 with the field named', async () => {
    await rejects('schedule', { key: TEST_CRON_KEY, body: {} }, 400, 'userId');
    await rejects('schedule', { key: TEST_CRON_KEY, body: { userId, providerId: 'myspace' } }, 400, 'providerId');
    await rejects('schedule', { key: TEST_CRON_KEY, body: { userId, allUsers: true } }, 400, 'userId');
    await rejects('schedule', { key: TEST_CRON_KEY, body: { allUsers: true, jobType: 'initial-backfill' } }, 400, 'jobType');
    await rejects('schedule', { key: TEST_CRON_KEY, body: { userId, timeframeDays: 5000 } }, 400, 'timeframeDays');
    await rejects('schedule', { token: 'not-a-token', body: { userId } }, 401, 'authorization');
    await rejects('schedule', { token: userToken, body: { userId } }, 403);
    await rejects('schedule', { key: TEST_CRON_KEY, body: { userId: 'nobody' } }, 404, 'userId');
    await rejects('schedule', { key: TEST_CRON_KEY, body: { userId, providerId: 'linkedin' } }, 404, 'providerId');
    await rejects('schedule', { key: TEST_CRON_KEY, body: { userId, providerId: 'google' } }, 409, 'providerId');
  });

  it('status: 401 without or with a bad token, 405 on POST', async () => {
    await rejects('status', { method: 'GET' }, 401, 'authorization');
    await rejects('status', { method: 'GET', token: 'garbage' }, 401, 'authorization');
    await rejects('status', { method: 'POST', token: userToken }, 405);
  });
});

describe('accepted calls', () => {
  it('schedule by an admin (email list or claim) or the cron key enqueues one manual sync, then dedupes', async () => {
    const first = await call('schedule', { token: adminToken, body: { userId, providerId: 'meta' } });
    assert.equal(first.status, 202, first.text);
    const jobs = first.json.jobs as { jobId: string; duplicate: boolean }[];
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0]!.duplicate, false);
    const second = await call('schedule', { token: claimAdminToken, body: { userId } });
    assert.deepEqual(second.json.jobs, [{ providerId: 'meta', jobId: jobs[0]!.jobId, duplicate: true }]);
    const third = await call('schedule', { key: TEST_CRON_KEY, body: { userId, providerId: 'meta' } });
    assert.equal(third.status, 202);
    const mine = (await allJobs(fb.db)).filter((j) => j.userId === userId);
    assert.equal(mine.length, 1);
    assert.equal(mine[0]!.jobType, 'manual-sync');
    assert.equal(mine[0]!.priority, 10);
  });

  it('schedule allUsers answers 202 with one fan-out job', async () => {
    const response = await call('schedule', { key: TEST_CRON_KEY, body: { allUsers: true } });
    assert.equal(response.status, 202, response.text);
    assert.equal(response.json.fanOut, true);
    const fanOuts = (await allJobs(fb.db)).filter((j) => j.jobType === 'fan-out');
    assert.equal(fanOuts.length, 1);
  });

  it('process runs only the given user\'s queued jobs', async () => {
    // The user's manual sync (the one schedule made, if it ran first) and another user's.
    const mine = await enqueueJob(fb.db, { userId, providerId: 'meta', jobType: 'manual-sync' });
    const foreign = await enqueueJob(fb.db, { userId: 'other-user', providerId: 'tiktok', jobType: 'manual-sync' });
    assert.equal(foreign.duplicate, false);
    const others = (await allJobs(fb.db)).filter((j) => j.userId !== userId).map((j) => `syncJobs/${j.id}`);
    assert.ok(others.includes(`syncJobs/${foreign.jobId}`));
    const before = await dumpDatabase(fb);
    ran.length = 0;

    const response = await call('process', { key: TEST_CRON_KEY, body: { userId } });
    assert.equal(response.status, 200, response.text);
    const jobs = response.json.jobs as { id: string; result: string }[];
    assert.deepEqual(jobs.map((j) => [j.id, j.result]), [[mine.jobId, 'succeeded']], 'only the user\'s one manual sync');
    assert.deepEqual(ran.map((j) => [j.id, j.userId]), [[mine.jobId, userId]], 'the handler ran once, for that job');
    const done = (await allJobs(fb.db)).find((j) => j.id === mine.jobId)!;
    assert.equal(done.status, 'succeeded');
    assert.equal(done.attempts, 1);
    assert.equal((await lockRef(fb.db, done.dedupeKey).get()).exists, false, 'its slot is free');
    const after = await dumpDatabase(fb);
    for (const path of others) assert.deepEqual(after[path], before[path], `${path} (another user's job) is left alone`);
    assert.equal((await lockRef(fb.db, 'sync:other-user:tiktok').get()).get('jobId'), foreign.jobId);
  });

  it('worker runs the queue and answers its counts', async () => {
    const response = await call('worker', { key: TEST_CRON_KEY, body: { maxJobs: 10 } });
    assert.equal(response.status, 200, response.text);
    assert.equal((response.json.counts as { processed: number }).processed >= 1, true);
    assert.equal((await allJobs(fb.db)).find((j) => j.jobType === 'fan-out')!.status, 'succeeded');
  });

  it('cron reset_stale_jobs and cleanup_old_jobs answer 200 with counts', async () => {
    // A job whose worker died (its lease ran out at once), a finished job and an event past the retention.
    await enqueueJob(fb.db, { userId: 'stale-user', providerId: 'linkedin', jobType: 'scheduled-sync' });
    const [dead] = await adsQueue(fb.db).jobs.claim({ workerId: 'w-dead', max: 1, leaseMs: 0, userId: 'stale-user' });
    const longAgo = Timestamp.fromMillis(Date.now() - 30 * 86_400_000);
    const old = jobsCollection(fb.db).doc();
    await old.set({
      ...newJobDocument(JOB_TASKS, { userId: 'old-user', providerId: 'meta', jobType: 'scheduled-sync' }, 3, longAgo),
      status: 'succeeded',
      attempts: 1,
      startedAt: longAgo,
      finishedAt: longAgo,
    });
    const oldEvent: SchedulerEvent = { source: 'cron', operation: 'reset_stale_jobs', counts: emptyCounts(), durationMs: 1, at: longAgo, error: null, circuitsOpened: [], workerId: null, expireAt: null };
    const oldEventRef = await eventsCollection(fb.db).add(oldEvent);
    const jobsBefore = (await allJobs(fb.db)).map((j) => j.id);
    const eventsBefore = (await eventsCollection(fb.db).get()).size;

    const reset = await call('cron', { key: TEST_CRON_KEY, body: { operation: 'reset_stale_jobs' } });
    assert.equal(reset.status, 200, reset.text);
    assert.equal(reset.json.reset, 1);
    assert.equal(reset.json.failed, 0);
    const requeued = (await allJobs(fb.db)).find((j) => j.id === dead!.job.id)!;
    assert.equal(requeued.status, 'queued');
    assert.equal(requeued.lease, null);
    assert.match(requeued.lastError ?? '', /worker w-dead stopped responding/);

    const cleanup = await call('cron', { key: TEST_CRON_KEY, body: { operation: 'cleanup_old_jobs' } });
    assert.equal(cleanup.status, 200, cleanup.text);
    assert.equal(cleanup.json.deletedJobs, 1);
    assert.equal(cleanup.json.deletedEvents, 1);
    assert.deepEqual((await allJobs(fb.db)).map((j) => j.id).sort(), jobsBefore.filter((id) => id !== old.id).sort(), 'only the old job is gone');
    assert.equal((await oldEventRef.get()).exists, false);
    // The two cron calls each recorded their own event.
    assert.equal((await eventsCollection(fb.db).get()).size, eventsBefore - 1 + 2);
  });

  it('status shows the user their own integrations and jobs only', async () => {
    // The user's own jobs in each state, and another user's of the same platform in each state.
    const queued = await enqueueJob(fb.db, { userId, providerId: 'meta', jobType: 'initial-backfill' });
    const failed = jobsCollection(fb.db).doc();
    await failed.set({ ...newJobDocument(JOB_TASKS, { userId, providerId: 'meta', jobType: 'scheduled-sync' }, 3), status: 'failed', attempts: 3, lastError: 'gone', finishedAt: Timestamp.now() });
    const foreign = [
      (await enqueueJob(fb.db, { userId: 'other-user', providerId: 'meta', jobType: 'manual-sync' })).jobId,
      (await enqueueJob(fb.db, { userId: 'other-user', providerId: 'meta', jobType: 'initial-backfill' })).jobId,
    ];
    await adsQueue(fb.db).jobs.claim({ workerId: 'w', max: 1, leaseMs: 60_000, userId: 'other-user', jobTypes: ['initial-backfill'] });
    const mine = (await allJobs(fb.db)).filter((j) => j.userId === userId);
    const countOf = (status: string) => mine.filter((j) => j.status === status).length;
    assert.ok(countOf('queued') >= 1 && countOf('failed') >= 1 && mine.length <= 20);

    const response = await call('status', { method: 'GET', token: userToken });
    assert.equal(response.status, 200, response.text);
    const integrations = response.json.integrations as { providerId: string; status: string }[];
    assert.deepEqual(integrations.map((i) => [i.providerId, i.status]).sort(), [['google', 'disconnected'], ['meta', 'connected']]);
    const recent = response.json.recentJobs as { id: string; providerId: string; status: string }[];
    assert.deepEqual(recent.map((j) => j.id).sort(), mine.map((j) => j.id).sort(), 'every job of the user, no other');
    for (const id of foreign) assert.ok(!recent.some((j) => j.id === id), `another user's job ${id} is not shown`);
    assert.ok(recent.some((j) => j.id === queued.jobId) && recent.some((j) => j.id === failed.id));
    assert.deepEqual(response.json.queue, { queued: countOf('queued'), running: countOf('running'), failed: countOf('failed') });
  });
});

describe('health', () => {
  it('is healthy when Firestore answers and the config is complete', async () => {
    const response = await call('health', { method: 'GET' });
    assert.equal(response.status, 200, response.text);
    assert.equal(response.json.status, 'healthy');
    assert.ok(!response.text.includes(TEST_CRON_KEY));
  });

  it('is 503 naming the secret when it is missing, and guarded endpoints then refuse', async () => {
    const broken = await serveEndpoints(testContext(fb, { config: testConfig({ INTEGRATIONS_CRON_SECRET: '' }) }));
    try {
      const health = await fetch(`${broken.url}/health`);
      const body = (await health.json()) as { checks: { config: { problems: string[] } } };
      assert.equal(health.status, 503);
      assert.ok(body.checks.config.problems.some((p) => p.startsWith('INTEGRATIONS_CRON_SECRET')));
      for (const key of [TEST_CRON_KEY, '', 'anything']) {
        const before = await dumpDatabase(fb);
        const response = await fetch(`${broken.url}/cron`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-cron-key': key },
          body: JSON.stringify({ operation: 'process_all_users' }),
        });
        assert.equal(response.status, 503);
        assert.deepEqual(await dumpDatabase(fb), before);
      }
    } finally {
      await broken.close();
    }
  });

  it('is 503 naming firestore when Firestore is unreachable', async () => {
    // The emulator variable overrides any host given in settings: lift it while applying them.
    const emulatorHost = process.env.FIRESTORE_EMULATOR_HOST;
    delete process.env.FIRESTORE_EMULATOR_HOST;
    const db = new Firestore({ projectId: fb.projectId, host: '127.0.0.1:9', ssl: false });
    process.env.FIRESTORE_EMULATOR_HOST = emulatorHost;
    const broken = await serveEndpoints(testContext(fb, { db }));
    try {
      const health = await fetch(`${broken.url}/health`);
      const body = (await health.json()) as { status: string; checks: { firestore: { ok: boolean; error: string } } };
      assert.equal(health.status, 503);
      assert.equal(body.status, 'unhealthy');
      assert.equal(body.checks.firestore.ok, false);
      assert.match(body.checks.firestore.error, /unreachable/);
    } finally {
      await broken.close();
      // The health check gave up on its reads, the SDK did not: wait out a read of our own,
      // started later with the same retries, so none of theirs outlives the test. Terminating
      // instead would make those retries reject where nothing awaits them.
      await db.doc('admin/scheduler').get().catch(() => undefined);
      await db.terminate();
    }
  });
});
