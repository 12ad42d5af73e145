import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { enqueueJob, runWorker, type HandlerRegistry } from '../../functions/src/queue/index.js';
import { runWorkerCall } from '../../functions/src/scheduler/operations.js';
import { PROVIDER_IDS, type ProviderId } from '../../functions/src/schema/index.js';
import { createSyncHandlers } from '../../functions/src/sync/handler.js';
import { credentialsRef } from '../../functions/src/sync/store.js';
import { RESTATEMENT_DAYS, lookbackWindow } from '../../functions/src/sync/window.js';
import { expectedRows } from '../../scripts/sandbox/server.js';
import { testContext, testFirebase } from '../helpers/firebase.js';
import { allJobs, workerOptions } from '../helpers/queue.js';
import { connectIntegration, metricsOf } from '../helpers/syncBed.js';
import { ACCOUNTS, startTestBed, type TestBed } from '../providers/helpers.js';

const fb = testFirebase('sync-engine');
let bed: TestBed;
let handlers: HandlerRegistry;

before(async () => {
  bed = await startTestBed();
  handlers = createSyncHandlers(fb.db, { connectors: bed.connectors });
});
beforeEach(async () => {
  await fb.clear();
  bed.sandbox.resetStats();
  for (const p of PROVIDER_IDS) bed.sandbox.setFaults(p, {});
});
after(async () => {
  await bed.sandbox.close();
  await fb.close();
});

const campaignRows = (providerId: ProviderId, days: number) =>
  expectedRows(providerId, ACCOUNTS[providerId].id, 'campaign-daily', lookbackWindow(days, 'UTC'));

describe('sync engine', () => {
  for (const providerId of PROVIDER_IDS) {
    it(`${providerId}: a scheduled sync stores the platform's restatement window, and a re-run changes nothing`, async () => {
      await connectIntegration(fb.db, bed.sandbox, 'u1', providerId);
      await enqueueJob(fb.db, { userId: 'u1', providerId, jobType: 'scheduled-sync' });
      const first = await runWorker(fb.db, workerOptions(handlers));
      assert.equal(first.counts.succeeded, 1, JSON.stringify(first.jobs));
      const stored = await metricsOf(fb.db, 'u1');
      const campaignDaily = [...stored.values()].filter((r) => r.kind === 'campaign-daily');
      assert.equal(campaignDaily.length, campaignRows(providerId, RESTATEMENT_DAYS[providerId]).length);
      assert.equal(first.counts.rowsWritten, stored.size);
      assert.ok(first.counts.apiCalls >= 1);

      await enqueueJob(fb.db, { userId: 'u1', providerId, jobType: 'manual-sync' });
      const second = await runWorker(fb.db, workerOptions(handlers));
      assert.equal(second.counts.succeeded, 1);
      assert.equal(second.counts.rowsWritten, 0, 'unchanged rows are not rewritten');
      assert.deepEqual(await metricsOf(fb.db, 'u1'), stored, 'identical documents after the second run');
      const integration = await fb.db.doc(`users/u1/integrations/${providerId}`).get();
      assert.equal(integration.get('lastSyncStatus'), 'succeeded');
      assert.ok(integration.get('lastSyncedAt'));
    });
  }

  it('uses the user\'s lookback setting over the platform default', async () => {
    await connectIntegration(fb.db, bed.sandbox, 'u2', 'tiktok', 10);
    await enqueueJob(fb.db, { userId: 'u2', providerId: 'tiktok', jobType: 'scheduled-sync' });
    await runWorker(fb.db, workerOptions(handlers));
    const stored = [...(await metricsOf(fb.db, 'u2')).values()];
    assert.equal(stored.length, campaignRows('tiktok', 10).length);
    assert.equal(new Set(stored.map((r) => r.date)).size <= 10, true);
  });

  it('a worker that dies mid-sync and a retry end with exactly a clean run\'s data', async () => {
    await connectIntegration(fb.db, bed.sandbox, 'clean', 'meta');
    await connectIntegration(fb.db, bed.sandbox, 'crash', 'meta');
    await enqueueJob(fb.db, { userId: 'clean', providerId: 'meta', jobType: 'scheduled-sync' });
    await runWorker(fb.db, workerOptions(handlers));

    let batches = 0;
    const crashing = createSyncHandlers(fb.db, {
      connectors: bed.connectors,
      writeOptions: {
        batchSize: 50,
        onBatchWritten: () => {
          if (++batches === 2) throw new Error('worker lost mid-sync');
        },
      },
    });
    const { jobId } = await enqueueJob(fb.db, { userId: 'crash', providerId: 'meta', jobType: 'scheduled-sync' });
    const crashed = await runWorker(fb.db, workerOptions(crashing, { retry: { baseMs: 1, maxMs: 1, maxAttempts: 3 }, maxJobs: 1 }));
    assert.equal(crashed.counts.retried, 1);
    const partial = await metricsOf(fb.db, 'crash');
    assert.equal(partial.size, 100, 'two batches landed before the crash');

    await new Promise((r) => setTimeout(r, 10));
    const retried = await runWorker(fb.db, workerOptions(handlers));
    assert.equal(retried.counts.succeeded, 1);
    const job = (await allJobs(fb.db)).find((j) => j.id === jobId)!;
    assert.equal(job.attempts, 2);
    const clean = await metricsOf(fb.db, 'clean');
    const recovered = await metricsOf(fb.db, 'crash');
    assert.deepEqual(recovered, clean, 'same ids, same values, nothing duplicated');
  });

  it('an expired token is refreshed once and the new token is stored server-side', async () => {
    await connectIntegration(fb.db, bed.sandbox, 'u3', 'google');
    const before = (await credentialsRef(fb.db, 'u3', 'google').get()).get('accessToken') as string;
    bed.sandbox.setFaults('google', { expiredTokens: true });
    await enqueueJob(fb.db, { userId: 'u3', providerId: 'google', jobType: 'manual-sync' });
    const report = await runWorker(fb.db, workerOptions(handlers));
    assert.equal(report.counts.succeeded, 1, JSON.stringify(report.jobs));
    assert.equal(bed.sandbox.requests('google').byPath['POST /token'], 1);
    const after = (await credentialsRef(fb.db, 'u3', 'google').get()).get('accessToken') as string;
    assert.notEqual(after, before);
  });

  it('a revoked token marks the integration error with "reconnect", fails without retries', async () => {
    await connectIntegration(fb.db, bed.sandbox, 'u4', 'meta');
    bed.sandbox.setFaults('meta', { revoked: true });
    await enqueueJob(fb.db, { userId: 'u4', providerId: 'meta', jobType: 'scheduled-sync' });
    const report = await runWorker(fb.db, workerOptions(handlers));
    assert.equal(report.counts.failed, 1);
    assert.equal(report.counts.retried, 0);
    const [job] = await allJobs(fb.db);
    assert.equal(job!.attempts, 1);
    assert.match(job!.lastError ?? '', /reconnect Meta Ads/);
    const integration = await fb.db.doc('users/u4/integrations/meta').get();
    assert.equal(integration.get('status'), 'error');
    assert.match(integration.get('lastError') as string, /reconnect Meta Ads/);
    assert.ok(bed.sandbox.requests('meta').total <= 3, `requests: ${bed.sandbox.requests('meta').total}`);
  });

  it('a platform 5xx burst beyond the client\'s retries is retried later by the queue, with backoff', async () => {
    await connectIntegration(fb.db, bed.sandbox, 'u5', 'linkedin');
    bed.sandbox.setFaults('linkedin', { serverErrors: 100 });
    await enqueueJob(fb.db, { userId: 'u5', providerId: 'linkedin', jobType: 'scheduled-sync' });
    const report = await runWorker(fb.db, workerOptions(handlers, { maxJobs: 1 }));
    assert.equal(report.counts.retried, 1);
    const [job] = await allJobs(fb.db);
    assert.equal(job!.status, 'queued');
    assert.ok(job!.runAfter.toMillis() > Date.now());
    assert.equal((await fb.db.doc('users/u5/integrations/linkedin').get()).get('status'), 'connected');
  });

  it('the worker event counts rows written and API calls', async () => {
    await connectIntegration(fb.db, bed.sandbox, 'u6', 'tiktok');
    await enqueueJob(fb.db, { userId: 'u6', providerId: 'tiktok', jobType: 'scheduled-sync' });
    const ctx = testContext(fb, { handlers });
    const report = await runWorkerCall(ctx, { maxJobs: 10 }, 'worker');
    const event = (await fb.db.collection('admin/scheduler/events').get()).docs[0]!;
    assert.equal(event.get('counts.rowsWritten'), report.counts.rowsWritten);
    assert.equal(event.get('counts.rowsWritten'), (await metricsOf(fb.db, 'u6')).size);
    assert.equal(event.get('counts.apiCalls'), bed.sandbox.requests('tiktok').total);
  });
});
