import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FIRESTORE_HOST, testFirebase } from '../helpers/firebase.js';
import { seedIntegrations } from '../helpers/seed.js';

/**
 * Rules are evaluated by the emulator for REST calls that carry a user's ID token (the
 * Admin SDK bypasses them), so these calls are what a web client can and cannot do.
 */
const fb = testFirebase('rules');
const base = `http://${FIRESTORE_HOST}/v1/projects/${fb.projectId}/databases/(default)/documents`;

function tokenFor(uid: string, claims: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const payload = { iss: `https://securetoken.google.com/${fb.projectId}`, aud: fb.projectId, sub: uid, user_id: uid, iat: now, exp: now + 3600, auth_time: now, firebase: { sign_in_provider: 'password' }, ...claims };
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'none', typ: 'JWT' })}.${enc(payload)}.`;
}

async function read(path: string, token?: string): Promise<number> {
  const response = await fetch(`${base}/${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  await response.text();
  return response.status;
}

async function patch(path: string, fields: Record<string, unknown>, mask: string[], token: string): Promise<number> {
  const query = mask.map((m) => `updateMask.fieldPaths=${encodeURIComponent(m)}`).join('&');
  const response = await fetch(`${base}/${path}?${query}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ fields }),
  });
  await response.text();
  return response.status;
}

const automation = (enabled: boolean, cadence: string, lookbackDays: number) => ({
  automation: {
    mapValue: { fields: { enabled: { booleanValue: enabled }, cadence: { stringValue: cadence }, lookbackDays: { integerValue: String(lookbackDays) } } },
  },
});

before(async () => {
  await fb.clear();
  await seedIntegrations(fb.db, [{ userId: 'alice', providerId: 'meta' }, { userId: 'bob', providerId: 'google' }]);
  await fb.db.doc('providerCredentials/alice_meta').set({ accessToken: 'secret-token', refreshToken: 'secret-refresh' });
  await fb.db.doc('syncJobs/j1').set({ userId: 'alice', status: 'queued' });
  await fb.db.doc('syncJobs/j2').set({ userId: 'bob', status: 'queued' });
  await fb.db.doc('admin/scheduler/events/e1').set({ source: 'cron' });
  await fb.db.doc('syncJobLocks/sync:alice:meta').set({ jobId: 'j1' });
});
after(() => fb.close());

describe('firestore.rules', () => {
  const alice = tokenFor('alice');
  const admin = tokenFor('ops', { admin: true });

  it('a user reads their own integration and jobs, not someone else\'s', async () => {
    assert.equal(await read('users/alice/integrations/meta', alice), 200);
    assert.equal(await read('syncJobs/j1', alice), 200);
    assert.equal(await read('users/bob/integrations/google', alice), 403);
    assert.equal(await read('syncJobs/j2', alice), 403);
    assert.equal(await read('users/alice/integrations/meta'), 403, 'signed out');
  });

  it('no client reads provider credentials or locks, not even an admin', async () => {
    assert.equal(await read('providerCredentials/alice_meta', alice), 403);
    assert.equal(await read('providerCredentials/alice_meta', admin), 403);
    assert.equal(await read('syncJobLocks/sync:alice:meta', admin), 403);
  });

  it('scheduler events are for admins only', async () => {
    assert.equal(await read('admin/scheduler/events/e1', admin), 200);
    assert.equal(await read('admin/scheduler/events/e1', alice), 403);
  });

  it('the owner may change automation, with valid values only', async () => {
    assert.equal(await patch('users/alice/integrations/meta', automation(false, 'hourly', 14), ['automation'], alice), 200);
    const doc = await fb.db.doc('users/alice/integrations/meta').get();
    assert.deepEqual(doc.get('automation'), { enabled: false, cadence: 'hourly', lookbackDays: 14 });
    assert.equal(await patch('users/alice/integrations/meta', automation(true, 'every-minute', 14), ['automation'], alice), 403);
    assert.equal(await patch('users/alice/integrations/meta', automation(true, 'daily', 365), ['automation'], alice), 403);
    assert.equal(await patch('users/bob/integrations/google', automation(true, 'daily', 7), ['automation'], alice), 403);
  });

  it('the owner may not touch server-owned fields or jobs', async () => {
    assert.equal(await patch('users/alice/integrations/meta', { status: { stringValue: 'disconnected' } }, ['status'], alice), 403);
    assert.equal((await fb.db.doc('users/alice/integrations/meta').get()).get('status'), 'connected');
    assert.equal(await patch('users/alice/integrations/meta', { nextRunAt: { nullValue: null } }, ['nextRunAt'], alice), 403);
    assert.equal(await patch('syncJobs/j1', { priority: { integerValue: '100' } }, ['priority'], alice), 403);
    assert.equal((await fb.db.doc('syncJobs/j1').get()).get('priority'), undefined);
  });
});
