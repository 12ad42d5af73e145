import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Timestamp } from 'firebase-admin/firestore';
import { disconnect } from '../../functions/src/connect/disconnect.js';
import { pendingConnectionRef, selectAccount } from '../../functions/src/connect/flow.js';
import type { Connector, ConnectorRegistry } from '../../functions/src/providers/index.js';
import { runWorker } from '../../functions/src/queue/index.js';
import type { ProviderId } from '../../functions/src/schema/index.js';
import { createSyncHandlers } from '../../functions/src/sync/handler.js';
import { credentialsRef } from '../../functions/src/sync/store.js';
import { accountProfile } from '../../scripts/sandbox/server.js';
import { testContext } from '../helpers/firebase.js';
import { allJobs, workerOptions } from '../helpers/queue.js';
import { connectIntegration, useSyncBed } from '../helpers/syncBed.js';
import { ACCOUNTS, count } from '../providers/helpers.js';
import { adsQueue, enqueueJob } from '../../functions/src/scheduler/jobs.js';

/**
 * A running job belongs to the connection it started on: once the user disconnects or picks
 * an account again, nothing the job still does may bring tokens back or write to the
 * integration of the new connection.
 */
const sb = useSyncBed('sync-connection-generation');
const { fb } = sb;

/**
 * The registry with `during` run once inside the first report fetch of `providerId`: before
 * its real requests, or (`at: 'refresh'`) after the platform issued a refreshed token and
 * before it is stored.
 */
function interrupted(registry: ConnectorRegistry, providerId: ProviderId, during: () => Promise<void>, at: 'fetch' | 'refresh' = 'fetch'): ConnectorRegistry {
  let done = false;
  const once = async () => {
    if (done) return;
    done = true;
    await during();
  };
  const real = registry.get(providerId);
  const wrapped: Connector = {
    providerId,
    reportKinds: real.reportKinds,
    async fetchReport(kind, input) {
      if (at === 'fetch') await once();
      const refresher = input.refresher;
      if (at === 'fetch' || !refresher) return real.fetchReport(kind, input);
      return real.fetchReport(kind, {
        ...input,
        refresher: {
          refresh: (stale, atPlatform) =>
            refresher.refresh(stale, async () => {
              const issued = await atPlatform();
              await once();
              return issued;
            }),
        },
      });
    },
  };
  return { get: (p) => (p === providerId ? wrapped : registry.get(p)), has: (p) => registry.has(p), all: () => registry.all() };
}

const SYNCED_BEFORE = Timestamp.fromMillis(Date.parse('2026-01-02T03:04:05Z'));

async function connectedWithExpiringToken(userId: string, providerId: ProviderId) {
  await connectIntegration(fb.db, sb.bed.sandbox, userId, providerId);
  await fb.db.doc(`users/${userId}/integrations/${providerId}`).update({ lastSyncedAt: SYNCED_BEFORE, lastSyncStatus: 'succeeded' });
  // Near expiry: the sync refreshes it first.
  await credentialsRef(fb.db, userId, providerId).update({ expiresAt: Date.now() + 1000 });
}

/** What a completed authorization leaves for the account pick. */
async function pendingPick(userId: string, providerId: ProviderId, accountId: string) {
  const issued = sb.bed.sandbox.issueCredentials(providerId);
  const profile = accountProfile(providerId, accountId);
  await pendingConnectionRef(fb.db, userId, providerId).set({
    userId,
    providerId,
    credentials: { accessToken: issued.accessToken, refreshToken: issued.refreshToken, expiresAt: issued.expiresAt },
    accounts: [{ id: accountId, name: 'Picked', currency: profile.currency, timezone: 'UTC', managerId: null, managerName: null }],
    expiresAt: Timestamp.fromMillis(Date.now() + 600_000),
  });
  return issued;
}

describe('writes of a running job are tied to its connection', () => {
  it('disconnect during a sync: the refreshed token is not stored and the integration stays disconnected', async () => {
    await connectedWithExpiringToken('u1', 'google');
    const ctx = testContext(fb);
    const handlers = createSyncHandlers(fb.db, { connectors: interrupted(sb.bed.connectors, 'google', () => disconnect(ctx, 'u1', 'google'), 'refresh') });
    await enqueueJob(fb.db, { userId: 'u1', providerId: 'google', jobType: 'manual-sync' });
    const report = await runWorker(adsQueue(fb.db), workerOptions(handlers));
    assert.deepEqual(report.jobs.map((j) => j.result), ['lease-lost']);
    assert.equal(count(sb.bed.sandbox, 'google', 'POST /token'), 1, 'the job did refresh at the platform');

    assert.equal((await credentialsRef(fb.db, 'u1', 'google').get()).exists, false, 'no tokens came back');
    const integration = (await fb.db.doc('users/u1/integrations/google').get()).data()!;
    assert.equal(integration.status, 'disconnected');
    assert.equal(integration.lastSyncStatus, 'succeeded');
    assert.equal((integration.lastSyncedAt as Timestamp).toMillis(), SYNCED_BEFORE.toMillis(), 'the cancelled job recorded no sync');
    assert.equal((await allJobs(fb.db))[0]!.status, 'cancelled');
  });

  it("reconnect during a sync: the old grant's refreshed token does not replace the new one", async () => {
    await connectedWithExpiringToken('u2', 'google');
    const ctx = testContext(fb);
    let fresh: { accessToken: string } | undefined;
    const reconnect = async () => {
      fresh = await pendingPick('u2', 'google', ACCOUNTS.google.id);
      await selectAccount(ctx, 'u2', { providerId: 'google', accountId: ACCOUNTS.google.id, managerId: null });
    };
    const handlers = createSyncHandlers(fb.db, { connectors: interrupted(sb.bed.connectors, 'google', reconnect, 'refresh') });
    await enqueueJob(fb.db, { userId: 'u2', providerId: 'google', jobType: 'manual-sync' });
    await runWorker(adsQueue(fb.db), workerOptions(handlers, { maxJobs: 1 }));
    assert.equal(count(sb.bed.sandbox, 'google', 'POST /token'), 1);
    const stored = (await credentialsRef(fb.db, 'u2', 'google').get()).data()!;
    assert.equal(stored.accessToken, fresh!.accessToken, 'the new connection keeps its own token');
  });

  it("TikTok: the old advertiser's currency never lands on the connection to another advertiser", async () => {
    const OTHER = '7000000000000000042';
    const oldCurrency = accountProfile('tiktok', ACCOUNTS.tiktok.id).currency;
    assert.notEqual(accountProfile('tiktok', OTHER).currency, oldCurrency, 'the two advertisers differ in currency');
    await connectIntegration(fb.db, sb.bed.sandbox, 'u3', 'tiktok');
    const ctx = testContext(fb);
    const pickOther = async () => {
      await pendingPick('u3', 'tiktok', OTHER);
      await selectAccount(ctx, 'u3', { providerId: 'tiktok', accountId: OTHER, managerId: null });
    };
    const handlers = createSyncHandlers(fb.db, { connectors: interrupted(sb.bed.connectors, 'tiktok', pickOther) });
    const { jobId } = await enqueueJob(fb.db, { userId: 'u3', providerId: 'tiktok', jobType: 'manual-sync' });
    await runWorker(adsQueue(fb.db), workerOptions(handlers, { maxJobs: 1, jobTypes: ['manual-sync'] }));
    const integration = (await fb.db.doc('users/u3/integrations/tiktok').get()).data()!;
    assert.equal(integration.accountId, OTHER);
    assert.equal(integration.currency ?? null, null, 'not known yet for the new advertiser');
    assert.equal(integration.lastSyncStatus ?? null, null, "the old advertiser's sync is not the new one's");
    assert.notEqual((await allJobs(fb.db)).find((j) => j.id === jobId)!.status, 'succeeded');
  });
});
