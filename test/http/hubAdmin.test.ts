import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Timestamp } from 'firebase-admin/firestore';
import { circuitsCollection } from '../../functions/src/queue/index.js';
import { nextRunAfter } from '../../functions/src/scheduler/cadence.js';
import { ADMIN_EMAIL, dumpDatabase, idTokenFor, testConfig, testContext, testFirebase, type TestServer } from '../helpers/firebase.js';
import { serveHub } from '../helpers/hub.js';
import { allJobs } from '../helpers/queue.js';
import { seedIntegrations } from '../helpers/seed.js';
import { enqueueJob } from '../../functions/src/scheduler/jobs.js';

const fb = testFirebase('hub-admin');
let server: TestServer;
let user: { uid: string; token: string };
let listedAdmin: { uid: string; token: string };
let claimAdmin: { uid: string; token: string };
let unverifiedAdmin: { uid: string; token: string };

before(async () => {
  await fb.clear();
  // lead@example.com is listed but never verifies their address.
  server = await serveHub(testContext(fb, { handlers: {}, config: testConfig({ ADMIN_EMAILS: `${ADMIN_EMAIL},lead@example.com` }) }));
  user = await idTokenFor(fb, { email: 'user@example.com' });
  listedAdmin = await idTokenFor(fb, { email: ADMIN_EMAIL });
  claimAdmin = await idTokenFor(fb, { email: 'ops@example.com', claims: { admin: true } });
  unverifiedAdmin = await idTokenFor(fb, { email: 'lead@example.com', emailVerified: false });
});
after(async () => {
  await server.close();
  await fb.close();
});

beforeEach(async () => {
  const keep = ['users', 'syncJobs', 'syncJobLocks', 'jobStartRequests', 'providerCredentials', 'admin'];
  for (const name of keep) {
    const docs = await fb.db.collection(name).listDocuments();
    await Promise.all(docs.map((d) => fb.db.recursiveDelete(d)));
  }
  await seedIntegrations(fb.db, [
    { userId: user.uid, providerId: 'meta' },
    { userId: user.uid, providerId: 'google', status: 'error' },
    { userId: user.uid, providerId: 'linkedin', status: 'disconnected' },
  ]);
  await fb.db.doc(`providerCredentials/${user.uid}__meta`).set({ accessToken: 'meta-secret', refreshToken: null, expiresAt: null });
});

async function call(path: string, token: string | undefined, body?: unknown, method = 'POST') {
  const response = await fetch(`${server.url}/${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: method === 'GET' ? undefined : JSON.stringify(body ?? {}),
  });
  const text = await response.text();
  return { status: response.status, text, json: JSON.parse(text) as Record<string, unknown> };
}

/** Asserts the status (and field) and that the database is exactly as before. */
async function refuses(path: string, token: string | undefined, body: unknown, status: number, field?: string) {
  const before = await dumpDatabase(fb);
  const response = await call(path, token, body);
  assert.equal(response.status, status, `${path}: ${response.text}`);
  if (field) assert.equal(response.json.field, field, response.text);
  if (token) assert.ok(!response.text.includes(token));
  assert.deepEqual(await dumpDatabase(fb), before, `${path} changed the database on a ${status}`);
}

describe('me', () => {
  it('says who is an admin, and mirrors ADMIN_EMAILS for the security rules', async () => {
    const me = await call('hub/me', user.token, undefined, 'GET');
    assert.deepEqual(me.json, { uid: user.uid, email: 'user@example.com', admin: false });
    assert.equal((await call('hub/me', listedAdmin.token, undefined, 'GET')).json.admin, true);
    assert.equal((await call('hub/me', claimAdmin.token, undefined, 'GET')).json.admin, true);
    assert.equal((await call('hub/me', unverifiedAdmin.token, undefined, 'GET')).json.admin, false);
    assert.deepEqual((await fb.db.doc('admin/access').get()).data(), { emails: [ADMIN_EMAIL, 'lead@example.com'] });
    assert.equal((await call('hub/me', undefined, undefined, 'GET')).status, 401);
  });
});

describe('Sync now', () => {
  it('enqueues a manual sync with a start request and answers 202; a second click gets the same job', async () => {
    const first = await call('hub/sync', user.token, { providerId: 'meta' });
    assert.equal(first.status, 202, first.text);
    assert.equal(first.json.duplicate, false);
    assert.equal(first.json.jobType, 'manual-sync');
    const second = await call('hub/sync', user.token, { providerId: 'meta' });
    assert.deepEqual([second.status, second.json.jobId, second.json.duplicate], [202, first.json.jobId, true]);
    const jobs = await allJobs(fb.db);
    assert.deepEqual(jobs.map((j) => [j.jobType, j.status, j.priority, j.userId]), [['manual-sync', 'queued', 10, user.uid]]);
    assert.ok((await fb.db.doc(`users/${user.uid}/integrations/meta`).get()).get('lastRequestedAt'));
    assert.ok((await fb.db.doc(`jobStartRequests/${user.uid}`).get()).exists);
    assert.ok(!first.text.includes('meta-secret'));
  });

  it('a sync waiting for a retry or a rate-limit reset is made due now; a platform pause is named with its end', async () => {
    const later = Timestamp.fromMillis(Date.now() + 5 * 3_600_000);
    const waiting = await enqueueJob(fb.db, { userId: user.uid, providerId: 'meta', jobType: 'manual-sync', runAfter: later.toDate() });
    await fb.db.doc(`jobStartRequests/${user.uid}`).delete();
    const before = Date.now();
    const clicked = await call('hub/sync', user.token, { providerId: 'meta' });
    assert.deepEqual([clicked.status, clicked.json.jobId, clicked.json.duplicate, clicked.json.pausedUntil], [202, waiting.jobId, true, null]);
    const [job] = await allJobs(fb.db);
    assert.ok(job!.runAfter.toMillis() <= Date.now() && job!.runAfter.toMillis() >= before - 1000, `runAfter ${job!.runAfter.toDate().toISOString()}`);
    assert.ok((await fb.db.doc(`jobStartRequests/${user.uid}`).get()).exists, 'and its start is asked for');

    await circuitsCollection(fb.db).doc('meta').set({ openUntil: later, pausedBy: 'rate-limit', lastError: 'Meta rate limit reached' });
    const paused = await call('hub/sync', user.token, { providerId: 'meta' });
    assert.equal(paused.status, 202);
    assert.equal(paused.json.pausedUntil, later.toDate().toISOString());
  });

  it('moves a waiting scheduled sync up instead of adding one, and asks for its start', async () => {
    const scheduled = await enqueueJob(fb.db, { userId: user.uid, providerId: 'meta', jobType: 'scheduled-sync' });
    const clicked = await call('hub/sync', user.token, { providerId: 'meta' });
    assert.deepEqual([clicked.status, clicked.json.jobId, clicked.json.duplicate], [202, scheduled.jobId, true]);
    const jobs = await allJobs(fb.db);
    assert.deepEqual(jobs.map((j) => [j.jobType, j.priority]), [['scheduled-sync', 10]]);
    assert.ok((await fb.db.doc(`jobStartRequests/${user.uid}`).get()).exists);
  });

  it('refuses what cannot sync: 409 needs reconnect or disconnected, 404 never connected, 400, 401', async () => {
    await refuses('hub/sync', user.token, { providerId: 'google' }, 409, 'providerId');
    await refuses('hub/sync', user.token, { providerId: 'linkedin' }, 409, 'providerId');
    await refuses('hub/sync', user.token, { providerId: 'tiktok' }, 404, 'providerId');
    await refuses('hub/sync', user.token, { providerId: 'tiktok', userId: 'someone-else' }, 400, 'userId');
    await refuses('hub/sync', user.token, {}, 400, 'providerId');
    await refuses('hub/sync', undefined, { providerId: 'meta' }, 401);
    // Another user's integration is out of reach: their own has none.
    await refuses('hub/sync', listedAdmin.token, { providerId: 'meta' }, 404, 'providerId');
  });
});

describe('disconnect', () => {
  it('cancels the active jobs, deletes the tokens and marks the integration disconnected', async () => {
    const sync = await enqueueJob(fb.db, { userId: user.uid, providerId: 'meta', jobType: 'manual-sync' });
    const backfill = await enqueueJob(fb.db, { userId: user.uid, providerId: 'meta', jobType: 'initial-backfill' });
    const response = await call('hub/disconnect', user.token, { providerId: 'meta' });
    assert.equal(response.status, 200, response.text);
    const jobs = new Map((await allJobs(fb.db)).map((j) => [j.id, j]));
    assert.equal(jobs.get(sync.jobId)?.status, 'cancelled');
    assert.equal(jobs.get(backfill.jobId)?.status, 'cancelled');
    assert.equal((await fb.db.collection('syncJobLocks').get()).size, 0);
    assert.equal((await fb.db.doc(`providerCredentials/${user.uid}__meta`).get()).exists, false);
    const integration = (await fb.db.doc(`users/${user.uid}/integrations/meta`).get()).data()!;
    assert.deepEqual([integration.status, integration.nextRunAt], ['disconnected', null]);
    await refuses('hub/disconnect', user.token, { providerId: 'tiktok' }, 404, 'providerId');
  });
});

describe('admin endpoints', () => {
  const failedJob = async () => {
    const { jobId } = await enqueueJob(fb.db, { userId: user.uid, providerId: 'meta', jobType: 'manual-sync' });
    await fb.db.doc(`syncJobs/${jobId}`).update({ status: 'failed', attempts: 3, lastError: 'Meta Ads rejected the request', finishedAt: Timestamp.now() });
    await fb.db.doc(`syncJobLocks/sync:${user.uid}:meta`).delete();
    return jobId;
  };

  it('retry puts a failed job back with a fresh attempt budget, its lock and a start request', async () => {
    const jobId = await failedJob();
    const response = await call('admin/retry', listedAdmin.token, { jobId });
    assert.equal(response.status, 202, response.text);
    const job = (await fb.db.doc(`syncJobs/${jobId}`).get()).data()!;
    assert.deepEqual([job.status, job.attempts, job.finishedAt, job.lastError], ['queued', 0, null, 'Meta Ads rejected the request']);
    assert.equal((await fb.db.doc(`syncJobLocks/sync:${user.uid}:meta`).get()).get('jobId'), jobId);
    assert.ok((await fb.db.doc(`jobStartRequests/${user.uid}`).get()).exists);
    await refuses('admin/retry', listedAdmin.token, { jobId }, 409, 'jobId');
  });

  it('retry refuses while another job of the same kind is active: it covers this one', async () => {
    const jobId = await failedJob();
    await enqueueJob(fb.db, { userId: user.uid, providerId: 'meta', jobType: 'scheduled-sync' });
    await refuses('admin/retry', claimAdmin.token, { jobId }, 409, 'jobId');
  });

  it('cancel stops a queued job and frees its lock; finished or unknown jobs are refused', async () => {
    const { jobId } = await enqueueJob(fb.db, { userId: user.uid, providerId: 'meta', jobType: 'initial-backfill' });
    const response = await call('admin/cancel', claimAdmin.token, { jobId });
    assert.equal(response.status, 200, response.text);
    const job = (await fb.db.doc(`syncJobs/${jobId}`).get()).data()!;
    assert.deepEqual([job.status, job.lease, job.lastError], ['cancelled', null, 'cancelled by ops@example.com']);
    assert.ok(job.finishedAt);
    assert.equal((await fb.db.doc(`syncJobLocks/backfill:${user.uid}:meta`).get()).exists, false);
    await refuses('admin/cancel', claimAdmin.token, { jobId }, 409, 'jobId');
    await refuses('admin/cancel', claimAdmin.token, { jobId: 'no-such-job' }, 404, 'jobId');
    await refuses('admin/retry', claimAdmin.token, { jobId: 'no-such-job' }, 404, 'jobId');
  });

  it("sets a user's automation on their behalf, the next run recomputed at once", async () => {
    const response = await call('admin/automation', listedAdmin.token, {
      userId: user.uid,
      providerId: 'meta',
      automation: { enabled: true, cadence: 'hourly', lookbackDays: 7 },
    });
    assert.equal(response.status, 200, response.text);
    const integration = (await fb.db.doc(`users/${user.uid}/integrations/meta`).get()).data()!;
    assert.deepEqual(integration.automation, { enabled: true, cadence: 'hourly', lookbackDays: 7 });
    const expected = nextRunAfter('hourly', new Date()).getTime();
    assert.ok(Math.abs((integration.nextRunAt as Timestamp).toMillis() - expected) <= 3_600_000);
    assert.equal((integration.nextRunAt as Timestamp).toMillis() % 3_600_000, 0);
    assert.equal(response.json.nextRunAt, (integration.nextRunAt as Timestamp).toDate().toISOString());

    const off = await call('admin/automation', listedAdmin.token, { userId: user.uid, providerId: 'meta', automation: { enabled: false, cadence: 'daily', lookbackDays: null } });
    assert.equal(off.json.nextRunAt, null);
    assert.equal((await fb.db.doc(`users/${user.uid}/integrations/meta`).get()).get('nextRunAt'), null);
  });

  it('concurrent saves of one automation all succeed, and the stored one is one of them', async () => {
    const cadences = ['hourly', 'every6h', 'weekly'] as const;
    const responses = await Promise.all(
      cadences.map((cadence) => call('admin/automation', listedAdmin.token, { userId: user.uid, providerId: 'meta', automation: { enabled: true, cadence, lookbackDays: null } })),
    );
    assert.deepEqual(responses.map((r) => r.status), [200, 200, 200], responses.map((r) => r.text).join('\n'));
    const stored = (await fb.db.doc(`users/${user.uid}/integrations/meta`).get()).get('automation') as { cadence: string };
    assert.ok((cadences as readonly string[]).includes(stored.cadence));
  });

  it('schedules a manual sync for all users of one platform as one fan-out job', async () => {
    const response = await call('admin/schedule', listedAdmin.token, { allUsers: true, providerId: 'meta' });
    assert.equal(response.status, 202, response.text);
    const jobs = await allJobs(fb.db);
    assert.deepEqual(jobs.map((j) => [j.jobType, j.payload.providerId, j.payload.mode]), [['fan-out', 'meta', 'all-connected']]);
  });

  it('refuses non-admins (403), the signed-out and the unverified look-alike (401/403), bad bodies (400), and changes nothing', async () => {
    const jobId = await failedJob();
    const automation = { userId: user.uid, providerId: 'meta', automation: { enabled: true, cadence: 'daily', lookbackDays: null } };
    for (const [path, body] of [
      ['admin/retry', { jobId }],
      ['admin/cancel', { jobId }],
      ['admin/automation', automation],
      ['admin/schedule', { allUsers: true }],
    ] as const) {
      await refuses(path, user.token, body, 403);
      await refuses(path, unverifiedAdmin.token, body, 403);
      await refuses(path, undefined, body, 401);
      await refuses(path, 'forged.token.value', body, 401);
    }
    await refuses('admin/retry', listedAdmin.token, { jobId: 'a/b' }, 400, 'jobId');
    await refuses('admin/automation', listedAdmin.token, { ...automation, automation: { enabled: true, cadence: 'every-minute', lookbackDays: null } }, 400, 'automation.cadence');
    await refuses('admin/automation', listedAdmin.token, { ...automation, automation: { enabled: true, cadence: 'daily', lookbackDays: 91 } }, 400, 'automation.lookbackDays');
    await refuses('admin/automation', listedAdmin.token, { ...automation, providerId: 'tiktok' }, 404, 'providerId');
    await refuses('admin/schedule', listedAdmin.token, { allUsers: true, providerId: 'myspace' }, 400, 'providerId');
  });
});
