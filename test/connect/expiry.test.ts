import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Timestamp } from 'firebase-admin/firestore';
import { deleteExpiredConnections } from '../../functions/src/connect/cleanup.js';
import { MAX_STATES_PER_USER, oauthStateRef, pendingConnectionRef, startConnect } from '../../functions/src/connect/flow.js';
import { ConflictError } from '../../functions/src/errors.js';
import { startSandbox, type Sandbox } from '../../scripts/sandbox/server.js';
import { testConfig, testContext, testFirebase } from '../helpers/firebase.js';
import { connectEnv } from '../helpers/hub.js';

/** Connections in progress hold tokens and states: they expire, are deleted, and one person cannot pile them up. */
const fb = testFirebase('connect-expiry');
let sandbox: Sandbox;
before(async () => {
  sandbox = await startSandbox();
});
beforeEach(() => fb.clear());
after(async () => {
  await sandbox.close();
  await fb.close();
});

const at = (offsetMs: number) => Timestamp.fromMillis(Date.now() + offsetMs);

describe('connections in progress', () => {
  it('expired states and pending connections are deleted; live ones stay', async () => {
    await oauthStateRef(fb.db, 'old-state').set({ userId: 'u1', providerId: 'meta', redirectUri: 'x', expiresAt: at(-60_000) });
    await oauthStateRef(fb.db, 'live-state').set({ userId: 'u1', providerId: 'meta', redirectUri: 'x', expiresAt: at(60_000) });
    const credentials = { accessToken: 'a', refreshToken: 'r', expiresAt: null };
    await pendingConnectionRef(fb.db, 'u1', 'meta').set({ userId: 'u1', providerId: 'meta', credentials, accounts: [], expiresAt: at(-1000) });
    await pendingConnectionRef(fb.db, 'u2', 'meta').set({ userId: 'u2', providerId: 'meta', credentials, accounts: [], expiresAt: at(600_000) });

    assert.deepEqual(await deleteExpiredConnections(fb.db), { states: 1, pendingConnections: 1, complete: true });
    assert.deepEqual((await fb.db.collection('oauthStates').get()).docs.map((d) => d.id), ['live-state']);
    assert.deepEqual((await fb.db.collection('pendingConnections').get()).docs.map((d) => d.id), ['u2__meta']);
  });

  it(`a person has at most ${MAX_STATES_PER_USER} live states; expired ones do not count`, async () => {
    const ctx = testContext(fb, { config: testConfig(connectEnv(sandbox)) });
    await oauthStateRef(fb.db, 'expired').set({ userId: 'u1', providerId: 'meta', redirectUri: 'x', expiresAt: at(-1000) });
    for (let i = 0; i < MAX_STATES_PER_USER; i++) await startConnect(ctx, 'u1', 'meta');
    await assert.rejects(startConnect(ctx, 'u1', 'google'), (error: unknown) => error instanceof ConflictError && /too many connections/.test(error.message));
    assert.equal((await fb.db.collection('oauthStates').where('userId', '==', 'u1').get()).size, MAX_STATES_PER_USER + 1, 'the refused start wrote nothing');
    await startConnect(ctx, 'u2', 'meta');
  });
});
