import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertFails, assertSucceeds, initializeTestEnvironment, type RulesTestEnvironment } from '@firebase/rules-unit-testing';
import {
  Timestamp,
  collection,
  collectionGroup,
  deleteDoc,
  doc,
  getDoc,
  getDocs,
  limit,
  query,
  setDoc,
  setLogLevel,
  updateDoc,
  where,
  type Firestore,
} from 'firebase/firestore';
import { nextRunAfter } from '../../functions/src/scheduler/cadence.js';
import type { Cadence } from '../../functions/src/schema/index.js';
import { ROOT } from '../../scripts/emulators.js';
import { FIRESTORE_HOST } from '../helpers/firebase.js';
import { usesEmulatorProject } from '../setup/emulatorProjects.js';

/**
 * firestore.rules as a web client meets them: every allow and every deny, through the web
 * SDK signed in as the owner, another user, a claim admin, an ADMIN_EMAILS admin, an
 * unverified look-alike and nobody.
 */
const [host, port] = FIRESTORE_HOST.split(':') as [string, string];
let env: RulesTestEnvironment;

const LISTED_ADMIN = 'lead@example.com';
const automation = { enabled: true, cadence: 'daily', lookbackDays: 28 };
const nextDaily = () => Timestamp.fromDate(nextRunAfter('daily', new Date()));

const alice = () => env.authenticatedContext('alice', { email: 'alice@example.com', email_verified: true }).firestore() as unknown as Firestore;
const bob = () => env.authenticatedContext('bob', { email: 'bob@example.com', email_verified: true }).firestore() as unknown as Firestore;
const claimAdmin = () => env.authenticatedContext('ops', { admin: true }).firestore() as unknown as Firestore;
const listedAdmin = () => env.authenticatedContext('lead', { email: LISTED_ADMIN, email_verified: true }).firestore() as unknown as Firestore;
const unverifiedListed = () => env.authenticatedContext('fake-lead', { email: LISTED_ADMIN, email_verified: false }).firestore() as unknown as Firestore;
const nobody = () => env.unauthenticatedContext().firestore() as unknown as Firestore;

async function seed(): Promise<void> {
  await env.clearFirestore();
  await env.withSecurityRulesDisabled(async (context) => {
    const db = context.firestore() as unknown as Firestore;
    await setDoc(doc(db, 'admin/access'), { emails: [LISTED_ADMIN] });
    for (const uid of ['alice', 'bob']) {
      await setDoc(doc(db, `users/${uid}`), { email: `${uid}@example.com` });
      await setDoc(doc(db, `users/${uid}/integrations/meta`), {
        userId: uid,
        providerId: 'meta',
        status: uid === 'bob' ? 'error' : 'connected',
        accountId: '1234567890',
        automation,
        nextRunAt: nextDaily(),
        lastSyncedAt: null,
      });
      await setDoc(doc(db, `users/${uid}/metrics/meta:1:2:2026-01-01`), { provider: 'meta', date: '2026-01-01', spend: 1 });
      await setDoc(doc(db, `users/${uid}/metricMonths/meta:1:campaign-daily:2:2026-01`), { provider: 'meta', month: '2026-01', days: {} });
      await setDoc(doc(db, `users/${uid}/metricTotals/meta:1:2026-01`), { provider: 'meta', accountId: '1', month: '2026-01', days: {} });
      await setDoc(doc(db, `users/${uid}/notes/n1`), { text: 'server only' });
      await setDoc(doc(db, `syncJobs/job-${uid}`), { userId: uid, status: 'queued', createdAt: Timestamp.now() });
      await setDoc(doc(db, `providerCredentials/${uid}__meta`), { accessToken: 'secret-token', refreshToken: null, expiresAt: null });
      await setDoc(doc(db, `pendingConnections/${uid}__meta`), { userId: uid, credentials: { accessToken: 'secret' } });
    }
    await setDoc(doc(db, 'admin/scheduler/events/e1'), { source: 'cron', at: Timestamp.now() });
    await setDoc(doc(db, 'admin/scheduler/circuits/meta'), { consecutiveFailures: 0 });
    await setDoc(doc(db, 'admin/alertSettings'), { throttleMinutes: null, backlogMinutes: null, overrides: [] });
    await setDoc(doc(db, 'admin/alerts/alertStates/backlog'), { key: 'backlog', open: true });
    await setDoc(doc(db, 'syncJobLocks/sync:alice:meta'), { jobId: 'job-alice' });
    await setDoc(doc(db, 'oauthStates/state-1'), { userId: 'alice', providerId: 'meta' });
    await setDoc(doc(db, 'jobStartRequests/alice'), { requestedAt: Timestamp.now() });
  });
}

before(async () => {
  // Every denied write is also logged by the SDK; the assertions say what matters.
  setLogLevel('silent');
  usesEmulatorProject('demo-rules');
  env = await initializeTestEnvironment({
    projectId: 'demo-rules',
    firestore: { host, port: Number(port), rules: readFileSync(join(ROOT, 'firestore.rules'), 'utf8') },
  });
  await seed();
});
after(async () => {
  await env.clearFirestore();
  await env.cleanup();
});

describe('users and their integrations, metrics and jobs', () => {
  it('the owner reads their own user, integrations, metrics and jobs', async () => {
    await assertSucceeds(getDoc(doc(alice(), 'users/alice')));
    await assertSucceeds(getDoc(doc(alice(), 'users/alice/integrations/meta')));
    await assertSucceeds(getDocs(collection(alice(), 'users/alice/integrations')));
    await assertSucceeds(getDocs(query(collection(alice(), 'users/alice/metrics'), where('provider', '==', 'meta'))));
    await assertSucceeds(getDocs(query(collection(alice(), 'users/alice/metricMonths'), where('provider', '==', 'meta'))));
    await assertSucceeds(getDocs(query(collection(alice(), 'users/alice/metricTotals'), where('provider', '==', 'meta'), where('accountId', '==', '1'))));
    await assertSucceeds(getDoc(doc(alice(), 'syncJobs/job-alice')));
    await assertSucceeds(getDocs(query(collection(alice(), 'syncJobs'), where('userId', '==', 'alice'))));
  });

  it("nobody else reads them: another user, an unverified look-alike of a listed admin, the signed-out", async () => {
    for (const db of [bob(), unverifiedListed(), nobody()]) {
      await assertFails(getDoc(doc(db, 'users/alice')));
      await assertFails(getDoc(doc(db, 'users/alice/integrations/meta')));
      await assertFails(getDocs(collection(db, 'users/alice/metrics')));
      await assertFails(getDocs(collection(db, 'users/alice/metricMonths')));
      await assertFails(getDoc(doc(db, 'users/alice/metricTotals/meta:1:2026-01')));
      await assertFails(getDoc(doc(db, 'syncJobs/job-alice')));
    }
    // A jobs query must be limited to the caller's own jobs.
    await assertFails(getDocs(query(collection(bob(), 'syncJobs'), where('userId', '==', 'alice'))));
    await assertFails(getDocs(collection(bob(), 'syncJobs')));
  });

  it('admins by claim and by ADMIN_EMAILS read every user, integration, metric and job', async () => {
    for (const db of [claimAdmin(), listedAdmin()]) {
      await assertSucceeds(getDoc(doc(db, 'users/alice')));
      await assertSucceeds(getDocs(collection(db, 'users')));
      await assertSucceeds(getDoc(doc(db, 'users/bob/integrations/meta')));
      await assertSucceeds(getDocs(collection(db, 'users/bob/metrics')));
      await assertSucceeds(getDocs(collection(db, 'users/bob/metricMonths')));
      await assertSucceeds(getDocs(collection(db, 'users/bob/metricTotals')));
      await assertSucceeds(getDocs(query(collection(db, 'syncJobs'), where('status', '==', 'queued'))));
      await assertSucceeds(getDocs(query(collectionGroup(db, 'integrations'), where('status', '==', 'error'), limit(50))));
    }
  });

  it('only admins query integrations across users', async () => {
    await assertFails(getDocs(query(collectionGroup(alice(), 'integrations'), where('status', '==', 'error'))));
    await assertFails(getDocs(query(collectionGroup(unverifiedListed(), 'integrations'), where('status', '==', 'error'))));
  });

  it('no client writes a user, a metric or a job, admins included', async () => {
    for (const db of [alice(), claimAdmin(), listedAdmin()]) {
      await assertFails(setDoc(doc(db, 'users/alice'), { email: 'x@example.com' }));
      await assertFails(setDoc(doc(db, 'users/alice/metrics/m2'), { provider: 'meta' }));
      await assertFails(setDoc(doc(db, 'users/alice/metricMonths/m2'), { provider: 'meta' }));
      await assertFails(updateDoc(doc(db, 'users/alice/metricTotals/meta:1:2026-01'), { 'days.2026-01-01': {} }));
      await assertFails(updateDoc(doc(db, 'syncJobs/job-alice'), { priority: 100 }));
      await assertFails(setDoc(doc(db, 'syncJobs/new-job'), { userId: 'alice', status: 'queued' }));
      await assertFails(deleteDoc(doc(db, 'syncJobs/job-alice')));
    }
  });
});

describe("the owner's automation", () => {
  const ref = (db: Firestore, uid = 'alice') => doc(db, `users/${uid}/integrations/meta`);
  const next = (cadence: Cadence) => Timestamp.fromDate(nextRunAfter(cadence, new Date()));
  const reset = () => seed();

  it('changes the lookback window alone, the next run untouched', async () => {
    await assertSucceeds(updateDoc(ref(alice()), { automation: { ...automation, lookbackDays: 7 } }));
    await assertSucceeds(updateDoc(ref(alice()), { automation: { ...automation, lookbackDays: null } }));
  });

  it('changes the cadence only together with the next run of the new cadence', async () => {
    await reset();
    await assertFails(updateDoc(ref(alice()), { automation: { ...automation, cadence: 'hourly' } }));
    await assertFails(updateDoc(ref(alice()), { automation: { ...automation, cadence: 'hourly' }, nextRunAt: next('daily') }));
    await assertSucceeds(updateDoc(ref(alice()), { automation: { ...automation, cadence: 'hourly' }, nextRunAt: next('hourly') }));
    await assertSucceeds(updateDoc(ref(alice()), { automation: { ...automation, cadence: 'weekly' }, nextRunAt: next('weekly') }));
  });

  it('refuses a next run off the grid, in the past or beyond one period', async () => {
    await reset();
    const onGrid = next('every6h').toMillis();
    const change = (millis: number) => updateDoc(ref(alice()), { automation: { ...automation, cadence: 'every6h' }, nextRunAt: Timestamp.fromMillis(millis) });
    await assertFails(change(onGrid + 60_000));
    await assertFails(change(onGrid - 2 * 6 * 3_600_000));
    await assertFails(change(onGrid + 6 * 3_600_000));
    await assertSucceeds(change(onGrid));
  });

  it('turning automation off clears the next run; on again sets it', async () => {
    await reset();
    await assertFails(updateDoc(ref(alice()), { automation: { ...automation, enabled: false } }));
    await assertSucceeds(updateDoc(ref(alice()), { automation: { ...automation, enabled: false }, nextRunAt: null }));
    await assertFails(updateDoc(ref(alice()), { automation: { ...automation, enabled: true }, nextRunAt: null }));
    await assertSucceeds(updateDoc(ref(alice()), { automation: { ...automation, enabled: true }, nextRunAt: next('daily') }));
  });

  it('refuses invalid automation values', async () => {
    await reset();
    const bad = [
      { ...automation, cadence: 'every-minute' },
      { ...automation, lookbackDays: 0 },
      { ...automation, lookbackDays: 91 },
      { ...automation, lookbackDays: 1.5 },
      { ...automation, lookbackDays: '7' },
      { ...automation, enabled: 'yes' },
      { enabled: true, cadence: 'daily' },
      { ...automation, extra: 1 },
      'daily',
    ];
    for (const value of bad) await assertFails(updateDoc(ref(alice()), { automation: value }));
  });

  it('refuses every other field, and every other way of writing', async () => {
    await reset();
    await assertFails(updateDoc(ref(alice()), { status: 'disconnected' }));
    await assertFails(updateDoc(ref(alice()), { lastSyncedAt: Timestamp.now() }));
    await assertFails(updateDoc(ref(alice()), { automation: { ...automation, lookbackDays: 7 }, accountId: '999' }));
    await assertFails(updateDoc(ref(alice()), { nextRunAt: Timestamp.fromMillis(next('daily').toMillis() + 1000) }));
    await assertFails(setDoc(doc(alice(), 'users/alice/integrations/tiktok'), { automation }));
    await assertFails(deleteDoc(ref(alice())));
  });

  it("refuses anyone else's automation change, admins included (they act through the admin endpoint)", async () => {
    await reset();
    const change = { automation: { ...automation, lookbackDays: 7 } };
    await assertFails(updateDoc(ref(bob()), change));
    await assertFails(updateDoc(ref(claimAdmin()), change));
    await assertFails(updateDoc(ref(listedAdmin()), change));
    await assertFails(updateDoc(ref(nobody()), change));
  });
});

describe('admin documents and server-only collections', () => {
  it('admins by claim and by ADMIN_EMAILS read the scheduler events, circuits, alert settings and states, and the admin list', async () => {
    for (const db of [claimAdmin(), listedAdmin()]) {
      await assertSucceeds(getDoc(doc(db, 'admin/alertSettings')));
      await assertSucceeds(getDocs(collection(db, 'admin/alerts/alertStates')));
      await assertSucceeds(getDoc(doc(db, 'admin/scheduler/events/e1')));
      await assertSucceeds(getDocs(collection(db, 'admin/scheduler/events')));
      await assertSucceeds(getDocs(collection(db, 'admin/scheduler/circuits')));
      await assertSucceeds(getDoc(doc(db, 'admin/access')));
    }
  });

  it('users, look-alikes and the signed-out read none of them, and nobody writes them', async () => {
    for (const db of [alice(), unverifiedListed(), nobody()]) {
      await assertFails(getDoc(doc(db, 'admin/scheduler/events/e1')));
      await assertFails(getDocs(collection(db, 'admin/scheduler/events')));
      await assertFails(getDoc(doc(db, 'admin/access')));
      await assertFails(getDoc(doc(db, 'admin/alertSettings')));
      await assertFails(getDocs(collection(db, 'admin/alerts/alertStates')));
    }
    for (const db of [claimAdmin(), listedAdmin()]) {
      // Alert settings change only through the admin endpoint, which validates them.
      await assertFails(setDoc(doc(db, 'admin/alertSettings'), { throttleMinutes: 1, overrides: [] }));
      await assertFails(setDoc(doc(db, 'admin/alerts/alertStates/backlog'), { open: false }));
      await assertFails(setDoc(doc(db, 'admin/access'), { emails: ['me@example.com'] }));
      await assertFails(setDoc(doc(db, 'admin/scheduler/events/e2'), { source: 'cron' }));
    }
  });

  it('nobody reads or writes credentials, connections in progress, locks or start requests, admins included', async () => {
    // users/alice/notes: a user's subcollection not named in the rules stays server-only.
    const paths = ['providerCredentials/alice__meta', 'pendingConnections/alice__meta', 'syncJobLocks/sync:alice:meta', 'oauthStates/state-1', 'jobStartRequests/alice', 'quotaUsage/google_2026-12-06_0', 'users/alice/notes/n1'];
    for (const db of [alice(), claimAdmin(), listedAdmin(), nobody()]) {
      for (const path of paths) {
        await assertFails(getDoc(doc(db, path)));
        await assertFails(setDoc(doc(db, path), { any: 'thing' }));
      }
      await assertFails(getDocs(collection(db, 'providerCredentials')));
    }
  });

  it('every signed-in person reads the daily budget plans (the cards say when syncs are held back); nobody writes them, the signed-out read nothing', async () => {
    for (const db of [alice(), claimAdmin()]) {
      await assertSucceeds(getDocs(collection(db, 'platformBudgets')));
      await assertSucceeds(getDoc(doc(db, 'platformBudgets/google')));
      await assertFails(setDoc(doc(db, 'platformBudgets/google'), { stretchedTo: null }));
    }
    await assertFails(getDoc(doc(nobody(), 'platformBudgets/google')));
  });

  it('an ADMIN_EMAILS admin is no admin while the functions have not mirrored the list', async () => {
    await env.withSecurityRulesDisabled(async (context) => {
      await deleteDoc(doc(context.firestore() as unknown as Firestore, 'admin/access'));
    });
    await assertFails(getDocs(collection(listedAdmin(), 'admin/scheduler/events')));
    await assertFails(getDoc(doc(listedAdmin(), 'users/alice')));
    await assertSucceeds(getDocs(collection(claimAdmin(), 'admin/scheduler/events')));
    await seed();
  });
});
