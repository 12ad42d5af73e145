import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runWorker } from '../../functions/src/queue/index.js';
import type { ProviderId } from '../../functions/src/schema/index.js';
import { createSyncHandlers } from '../../functions/src/sync/handler.js';
import { accountProfile } from '../../scripts/sandbox/server.js';
import { workerOptions } from '../helpers/queue.js';
import { connectIntegration, metricsOf, useSyncBed } from '../helpers/syncBed.js';
import { ACCOUNTS, count } from '../providers/helpers.js';
import { adsQueue, enqueueJob } from '../../functions/src/scheduler/jobs.js';

/** What a connection knows about its account, passed from the integration to the connector and kept there. */
const sb = useSyncBed('sync-connection');
const { fb } = sb;

const sync = async (userId: string, providerId: ProviderId) => {
  await enqueueJob(fb.db, { userId, providerId, jobType: 'manual-sync' });
  return runWorker(adsQueue(fb.db), workerOptions(sb.handlers));
};

describe('TikTok: the account currency, asked once per connection', () => {
  it('the first sync keeps the advertiser currency on the integration; later syncs do not ask again', async () => {
    await connectIntegration(fb.db, sb.bed.sandbox, 'u1', 'tiktok');
    const integration = fb.db.doc('users/u1/integrations/tiktok');
    assert.equal((await integration.get()).get('currency'), null, 'not yet known');

    assert.equal((await sync('u1', 'tiktok')).counts.succeeded, 1);
    const currency = accountProfile('tiktok', ACCOUNTS.tiktok.id).currency;
    assert.equal((await integration.get()).get('currency'), currency);
    assert.equal(count(sb.bed.sandbox, 'tiktok', 'GET /open_api/v1.3/advertiser/info/'), 1);
    assert.ok([...(await metricsOf(fb.db, 'u1')).values()].every((r) => r.currency === currency));

    sb.bed.sandbox.resetStats();
    assert.equal((await sync('u1', 'tiktok')).counts.succeeded, 1);
    assert.equal(count(sb.bed.sandbox, 'tiktok', 'GET /open_api/v1.3/advertiser/info/'), 0);
    assert.ok(count(sb.bed.sandbox, 'tiktok') > 0);
  });

  it('a backfill asks once for all its chunks', async () => {
    const backfill = createSyncHandlers(fb.db, { connectors: sb.bed.connectors, backfillChunkDays: 30, backfillChunksPerRun: 4 });
    await connectIntegration(fb.db, sb.bed.sandbox, 'u2', 'tiktok');
    await enqueueJob(fb.db, { userId: 'u2', providerId: 'tiktok', jobType: 'initial-backfill', payload: { timeframeDays: 120 } });
    const report = await runWorker(adsQueue(fb.db), workerOptions(backfill, { maxJobs: 1 }));
    assert.equal(report.jobs[0]!.result, 'succeeded');
    assert.equal(count(sb.bed.sandbox, 'tiktok', 'GET /open_api/v1.3/advertiser/info/'), 1);
  });
});

describe("Google Ads: the connection's manager account", () => {
  const MANAGER = '9998887777';
  const withManager = async (run: () => Promise<void>) => {
    sb.bed.sandbox.setGoogleManagers({ [ACCOUNTS.google.id]: MANAGER });
    try {
      await run();
    } finally {
      sb.bed.sandbox.setGoogleManagers({});
    }
  };

  it("a sync of a client account sends the integration's loginCustomerId", () =>
    withManager(async () => {
      await connectIntegration(fb.db, sb.bed.sandbox, 'u1', 'google');
      await fb.db.doc('users/u1/integrations/google').update({ loginCustomerId: MANAGER });
      const report = await sync('u1', 'google');
      assert.equal(report.counts.succeeded, 1, JSON.stringify(report.jobs));
      assert.ok((await metricsOf(fb.db, 'u1')).size > 0);
    }));

  it("without one, the client account's sync fails with a message that names the manager, and the integration needs reconnecting", () =>
    withManager(async () => {
      await connectIntegration(fb.db, sb.bed.sandbox, 'u2', 'google');
      const report = await sync('u2', 'google');
      assert.equal(report.counts.failed, 1);
      assert.equal(report.counts.retried, 0);
      const integration = await fb.db.doc('users/u2/integrations/google').get();
      assert.equal(integration.get('status'), 'error');
      assert.match(integration.get('lastError') as string, /reached through a manager account/);
    }));
});
