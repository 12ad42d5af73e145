import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { clearEmulatorProject } from '../../scripts/emulatorData.js';
import { FIRESTORE_HOST } from '../helpers/firebase.js';
import { initializeApp } from 'firebase-admin/app';
import { getFirestore } from 'firebase-admin/firestore';
import { usesEmulatorProject } from '../setup/emulatorProjects.js';

/**
 * The deployed shape: the built functions (functions/lib) loaded by the Functions
 * emulator, with the secret from functions/.secret.local and the runtime's body parsing.
 */
const PROJECT = process.env.FUNCTIONS_TEST_PROJECT ?? 'demo-ads-hub-test';
const BASE = process.env.FUNCTIONS_TEST_BASE_URL ?? `http://127.0.0.1:5011/${PROJECT}/us-central1`;
const KEY = process.env.FUNCTIONS_TEST_CRON_KEY ?? '';
const NEXT_KEY = process.env.FUNCTIONS_TEST_CRON_KEY_NEXT ?? '';
const db = getFirestore(initializeApp({ projectId: PROJECT }, 'functions-emulator-test'));

usesEmulatorProject(PROJECT);
const clear = () => clearEmulatorProject(PROJECT, { firestoreHost: FIRESTORE_HOST });
before(clear);
after(clear);

const post = (name: string, body: string, key?: string) =>
  fetch(`${BASE}/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key === undefined ? {} : { 'x-cron-key': key }) },
    body,
  });

describe('functions in the Functions emulator', () => {
  it('has a cron key to test with', () => {
    assert.ok(KEY.length >= 24, 'scripts/test.ts passes FUNCTIONS_TEST_CRON_KEY');
    assert.ok(NEXT_KEY.length >= 24 && NEXT_KEY !== KEY, 'scripts/test.ts passes a different FUNCTIONS_TEST_CRON_KEY_NEXT');
  });

  it('health is 200 and healthy, without the key in it', async () => {
    const response = await fetch(`${BASE}/health`);
    const text = await response.text();
    assert.equal(response.status, 200, text);
    assert.equal((JSON.parse(text) as { status: string }).status, 'healthy');
    assert.ok(!text.includes(KEY));
  });

  it('guarded endpoints refuse a missing or wrong key and the wrong method', async () => {
    for (const name of ['cron', 'worker', 'schedule', 'process']) {
      assert.equal((await post(name, '{}')).status, 401, name);
      assert.equal((await post(name, '{}', 'wrong-key')).status, 401, name);
    }
    assert.equal((await post('worker', '{}', `${KEY}${NEXT_KEY}`)).status, 401);
    assert.equal((await fetch(`${BASE}/worker`)).status, 405);
    assert.equal((await fetch(`${BASE}/status`)).status, 401);
  });

  it('process_all_users answers 202 with one fan-out job; bad input is 400 and writes nothing', async () => {
    const bad = await post('cron', JSON.stringify({ operation: 'process_all_users', maxUsers: -1 }), KEY);
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { field: string }).field, 'maxUsers');
    assert.equal((await post('cron', '{"operation":', KEY)).status, 400);
    assert.equal((await db.collection('syncJobs').get()).size, 0);

    const response = await post('cron', JSON.stringify({ operation: 'process_all_users' }), KEY);
    assert.equal(response.status, 202);
    const jobs = await db.collection('syncJobs').get();
    assert.deepEqual(jobs.docs.map((d) => d.get('jobType')), ['fan-out']);
    // The next key (a rotation in progress) is accepted as well, from its own secret.
    const worker = await post('worker', JSON.stringify({ maxJobs: 5 }), NEXT_KEY);
    assert.equal(worker.status, 200);
    assert.equal((await db.collection('syncJobs').doc(jobs.docs[0]!.id).get()).get('status'), 'succeeded');
  });
});
