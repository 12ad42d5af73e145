import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { defaultHandlers } from '../../functions/src/context.js';
import { runStartRequest } from '../../functions/src/scheduler/startNow.js';
import type { ProviderId } from '../../functions/src/schema/index.js';
import { startSandbox, type Sandbox } from '../../scripts/sandbox/server.js';
import { dumpDatabase, idTokenFor, testConfig, testContext, testFirebase, type TestServer } from '../helpers/firebase.js';
import { REDIRECT_URI, clickThrough, connectEnv, serveHub } from '../helpers/hub.js';

const fb = testFirebase('connect-flow');
let sandbox: Sandbox;
let server: TestServer;
let alice: { uid: string; token: string };
let bob: { uid: string; token: string };

before(async () => {
  await fb.clear();
  sandbox = await startSandbox();
  const config = testConfig(connectEnv(sandbox));
  server = await serveHub(testContext(fb, { config, handlers: defaultHandlers(fb.db, config) }));
  alice = await idTokenFor(fb, { email: 'alice@example.com' });
  bob = await idTokenFor(fb, { email: 'bob@example.com' });
});
after(async () => {
  await server.close();
  await sandbox.close();
  await fb.close();
});

async function call(name: string, token: string | undefined, body: unknown) {
  const response = await fetch(`${server.url}/hub/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, text, json: JSON.parse(text) as Record<string, unknown> };
}

/** Start, click Allow on the sandbox page, come back with the code: what the Ads Hub does. */
async function authorize(providerId: ProviderId, user = alice) {
  const started = await call('connect', user.token, { providerId });
  assert.equal(started.status, 200, started.text);
  const back = await clickThrough(started.json.authorizeUrl as string);
  assert.equal(`${back.origin}${back.pathname}`, REDIRECT_URI);
  const code = back.searchParams.get('code');
  assert.ok(code, `redirect carries a code: ${back.href}`);
  return { state: back.searchParams.get('state')!, code };
}

describe('connect: the OAuth authorization-code flow against the sandbox', () => {
  it("sends the user to each platform's own authorize page with the app, the redirect and a state", async () => {
    const expected: Record<ProviderId, RegExp> = {
      meta: /\/meta\/v25\.0\/dialog\/oauth\?client_id=meta-app&redirect_uri=.+&state=.+&response_type=code&scope=ads_read$/,
      google: /\/google\/o\/oauth2\/v2\/auth\?client_id=google-client&redirect_uri=.+&response_type=code&scope=.+adwords&access_type=offline&prompt=consent&state=.+$/,
      linkedin: /\/linkedin\/oauth\/v2\/authorization\?response_type=code&client_id=linkedin-client&redirect_uri=.+&state=.+&scope=r_ads_reporting\+r_ads$/,
      tiktok: /\/tiktok\/portal\/auth\?app_id=tiktok-app&state=.+&redirect_uri=.+$/,
    };
    for (const providerId of ['meta', 'google', 'linkedin', 'tiktok'] as const) {
      const started = await call('connect', alice.token, { providerId });
      assert.equal(started.status, 200, started.text);
      assert.match(started.json.authorizeUrl as string, expected[providerId]);
      const state = new URL(started.json.authorizeUrl as string).searchParams.get('state')!;
      const stored = await fb.db.doc(`oauthStates/${state}`).get();
      assert.equal(stored.get('userId'), alice.uid);
      assert.equal(stored.get('providerId'), providerId);
    }
  });

  it('a person who presses Cancel comes back with access_denied and no code', async () => {
    const started = await call('connect', alice.token, { providerId: 'meta' });
    const back = await clickThrough(started.json.authorizeUrl as string, 'deny');
    assert.equal(back.searchParams.get('error'), 'access_denied');
    assert.equal(back.searchParams.get('code'), null);
  });

  it('Google: lists direct accounts and the clients of a manager; picking a client stores the manager as loginCustomerId and starts a backfill', async () => {
    const { state, code } = await authorize('google');
    const completed = await call('complete', alice.token, { providerId: 'google', state, code });
    assert.equal(completed.status, 200, completed.text);
    const accounts = completed.json.accounts as Array<{ id: string; managerId: string | null }>;
    assert.deepEqual(
      accounts.map((a) => `${a.managerId ?? 'direct'}:${a.id}`).sort(),
      ['1112223334:1234567890', '1112223334:2345678901', 'direct:3456789012'],
    );
    const pending = await fb.db.doc(`pendingConnections/${alice.uid}__google`).get();
    const token = pending.get('credentials.accessToken') as string;
    assert.ok(token.startsWith('sbx-google-at-'));
    assert.ok(!completed.text.includes(token), 'the access token never reaches the client');

    const picked = await call('select', alice.token, { providerId: 'google', accountId: '2345678901', managerId: '1112223334' });
    assert.equal(picked.status, 202, picked.text);
    assert.equal(picked.json.jobType, 'initial-backfill');
    assert.equal(picked.json.duplicate, false);
    assert.ok(!picked.text.includes(token));

    const integration = (await fb.db.doc(`users/${alice.uid}/integrations/google`).get()).data()!;
    assert.equal(integration.status, 'connected');
    assert.equal(integration.accountId, '2345678901');
    assert.equal(integration.loginCustomerId, '1112223334');
    assert.equal(typeof integration.accountName, 'string');
    assert.ok(integration.nextRunAt, 'daily automation by default: the next run is set');
    const credentials = (await fb.db.doc(`providerCredentials/${alice.uid}__google`).get()).data()!;
    assert.equal(credentials.accessToken, token);
    assert.ok((credentials.refreshToken as string).startsWith('sbx-google-rt-'));
    assert.equal((await fb.db.doc(`pendingConnections/${alice.uid}__google`).get()).exists, false);
    const job = (await fb.db.doc(`syncJobs/${picked.json.jobId as string}`).get()).data()!;
    assert.deepEqual([job.jobType, job.status, job.userId, job.providerId], ['initial-backfill', 'queued', alice.uid, 'google']);
    const googleJobs = await fb.db.collection('syncJobs').where('userId', '==', alice.uid).where('providerId', '==', 'google').get();
    assert.deepEqual(
      googleJobs.docs.map((d) => [d.get('jobType'), d.get('status'), d.get('payload')]).sort(),
      [['initial-backfill', 'queued', {}], ['manual-sync', 'queued', { timeframeDays: 30 }]],
      'the recent weeks are queued beside the history',
    );
    assert.equal((await fb.db.doc(`jobStartRequests/${alice.uid}`).get()).exists, true, 'asked for an immediate start');

    // A direct account has no manager.
    const again = await authorize('google');
    await call('complete', alice.token, { providerId: 'google', ...again });
    const direct = await call('select', alice.token, { providerId: 'google', accountId: '3456789012', managerId: null });
    assert.equal(direct.status, 202, direct.text);
    assert.equal((await fb.db.doc(`users/${alice.uid}/integrations/google`).get()).get('loginCustomerId'), null);
  });

  it('a state works once, only for its own user and platform, and refusals change nothing', async () => {
    const { state, code } = await authorize('meta');
    const before = await dumpDatabase(fb);
    for (const [token, body] of [
      [bob.token, { providerId: 'meta', state, code }],
      [alice.token, { providerId: 'meta', state: 'x'.repeat(32), code }],
    ] as const) {
      const refused = await call('complete', token, body);
      assert.equal(refused.status, 400, refused.text);
      assert.equal(refused.json.field, 'state');
    }
    // The wrong user's attempt consumed nothing: the owner still completes, once.
    assert.deepEqual(await dumpDatabase(fb), before);
    const owner = await call('complete', alice.token, { providerId: 'meta', state, code });
    assert.equal(owner.status, 200, owner.text);
    const replay = await call('complete', alice.token, { providerId: 'meta', state, code });
    assert.equal(replay.status, 400);
    assert.equal(replay.json.field, 'state');
  });

  it('a state of another platform and a used code are refused', async () => {
    const flow = await authorize('linkedin');
    const wrongPlatform = await call('complete', alice.token, { providerId: 'meta', ...flow });
    assert.equal(wrongPlatform.status, 400);
    const google = await authorize('google');
    assert.equal((await call('complete', alice.token, { providerId: 'google', ...google })).status, 200);
    const second = await authorize('google');
    // The code of the first flow was redeemed already: Google says invalid_grant.
    const reused = await call('complete', alice.token, { providerId: 'google', state: second.state, code: google.code });
    assert.equal(reused.status, 400, reused.text);
    assert.equal(reused.json.field, 'code');
  });

  it('picking an account the connection does not reach, or with nothing pending, changes nothing', async () => {
    const flow = await authorize('meta');
    await call('complete', alice.token, { providerId: 'meta', ...flow });
    const before = await dumpDatabase(fb);
    const wrong = await call('select', alice.token, { providerId: 'meta', accountId: '999', managerId: null });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.json.field, 'accountId');
    const viaManager = await call('select', alice.token, { providerId: 'meta', accountId: '1234567890', managerId: '1112223334' });
    assert.equal(viaManager.status, 400);
    const nothingPending = await call('select', bob.token, { providerId: 'meta', accountId: '1234567890', managerId: null });
    assert.equal(nothingPending.status, 409);
    const bad = await call('select', alice.token, { providerId: 'meta', accountId: '1234567890', managerId: '12' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.field, 'managerId');
    assert.deepEqual(await dumpDatabase(fb), before);
  });

  it('refuses the signed-out (401) and bad bodies (400 naming the field), writing nothing', async () => {
    const before = await dumpDatabase(fb);
    assert.equal((await call('connect', undefined, { providerId: 'meta' })).status, 401);
    assert.equal((await call('connect', 'not-a-token', { providerId: 'meta' })).status, 401);
    const unknownPlatform = await call('connect', alice.token, { providerId: 'myspace' });
    assert.equal(unknownPlatform.status, 400);
    assert.equal(unknownPlatform.json.field, 'providerId');
    const extra = await call('complete', alice.token, { providerId: 'meta', state: 'x'.repeat(20), code: 'c', more: 1 });
    assert.equal(extra.json.field, 'more');
    assert.equal((await fetch(`${server.url}/hub/nothing-here`)).status, 404);
    assert.equal((await fetch(`${server.url}/hub/connect`)).status, 405);
    assert.deepEqual(await dumpDatabase(fb), before);
  });
  it('every platform connects, and the start request runs the backfill with the stored tokens (last: it writes thousands of metrics)', async () => {
    const user = await idTokenFor(fb, { email: 'carol@example.com' });
    const { state, code } = await authorize('tiktok', user);
    const completed = await call('complete', user.token, { providerId: 'tiktok', state, code });
    const first = (completed.json.accounts as Array<{ id: string }>)[0]!;
    const picked = await call('select', user.token, { providerId: 'tiktok', accountId: first.id, managerId: null });
    assert.equal(picked.status, 202, picked.text);
    for (const providerId of ['meta', 'linkedin'] as const) {
      const flow = await authorize(providerId, user);
      const done = await call('complete', user.token, { providerId, ...flow });
      assert.equal(done.status, 200, done.text);
      assert.equal((done.json.accounts as unknown[]).length, 2);
    }

    const config = testConfig({ ...connectEnv(sandbox), BACKFILL_CHUNK_DAYS: '366' });
    const ctx = testContext(fb, { config, handlers: defaultHandlers(fb.db, config) });
    const report = await runStartRequest(ctx, user.uid);
    // The new account's last 30 days come at once in the sync lane, its history in the backfill lane.
    assert.deepEqual(report.jobs.map((j) => [j.jobType, j.result]).sort(), [['initial-backfill', 'succeeded'], ['manual-sync', 'succeeded']]);
    const recent = report.jobs.find((j) => j.jobType === 'manual-sync')!;
    assert.deepEqual((await fb.db.doc(`syncJobs/${recent.id}`).get()).get('payload'), { timeframeDays: 30 });
    const job = (await fb.db.doc(`syncJobs/${picked.json.jobId as string}`).get()).data()!;
    assert.equal(job.status, 'succeeded');
    assert.deepEqual(job.progress, { done: 2, total: 2 });
    const metrics = await fb.db.collection(`users/${user.uid}/metricTotals`).where('provider', '==', 'tiktok').count().get();
    assert.ok(metrics.data().count > 0);
    const event = (await fb.db.doc(`admin/scheduler/events/${report.eventId!}`).get()).data()!;
    assert.deepEqual([event.source, event.operation, event.counts.processed, event.counts.succeeded], ['process', 'start_now', 2, 2]);

    // Nothing left: a second start request records no event.
    assert.equal((await runStartRequest(ctx, user.uid)).eventId, null);
  });
});
