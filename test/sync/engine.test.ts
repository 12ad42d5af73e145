import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Timestamp } from 'firebase-admin/firestore';
import { runWorker, type HandlerRegistry } from '../../functions/src/queue/index.js';
import { runCronOperation, runWorkerCall } from '../../functions/src/scheduler/operations.js';
import { PROVIDER_IDS, RESTATEMENT_DAYS, type ProviderId } from '../../functions/src/schema/index.js';
import { createSyncHandlers } from '../../functions/src/sync/handler.js';
import { credentialsRef } from '../../functions/src/sync/store.js';
import { lookbackWindow } from '../../functions/src/sync/window.js';
import { expectedRows } from '../../scripts/sandbox/server.js';
import { testContext, testFirebase } from '../helpers/firebase.js';
import { allJobs, workerOptions } from '../helpers/queue.js';
import { connectIntegration, documentsFor, metricsOf, metricVersionsOf, withSecondGoogleKind } from '../helpers/syncBed.js';
import { ACCOUNTS, startTestBed, type TestBed } from '../providers/helpers.js';
import { adsQueue, enqueueJob } from '../../functions/src/scheduler/jobs.js';

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
      const first = await runWorker(adsQueue(fb.db), workerOptions(handlers));
      assert.equal(first.counts.succeeded, 1, JSON.stringify(first.jobs));
      const stored = await metricsOf(fb.db, 'u1');
      const campaignDaily = [...stored.values()].filter((r) => r.kind === 'campaign-daily');
      assert.equal(campaignDaily.length, campaignRows(providerId, RESTATEMENT_DAYS[providerId]).length);
      assert.equal(first.counters.rowsWritten, stored.size);
      assert.ok((first.counters.apiCalls ?? 0) >= 1);

      const versions = await metricVersionsOf(fb.db, 'u1');
      assert.equal(versions.size, documentsFor(stored.values()), 'one document per campaign, kind and month, one per account and month');
      assert.equal(first.counters.documentsWritten, versions.size);

      await enqueueJob(fb.db, { userId: 'u1', providerId, jobType: 'manual-sync' });
      const second = await runWorker(adsQueue(fb.db), workerOptions(handlers));
      assert.equal(second.counts.succeeded, 1);
      assert.equal(second.counters.rowsWritten, 0, 'unchanged rows are not rewritten');
      assert.equal(second.counters.documentsWritten, 0);
      assert.deepEqual(await metricsOf(fb.db, 'u1'), stored, 'identical documents after the second run');
      const rewritten = [...(await metricVersionsOf(fb.db, 'u1'))].filter(([id, version]) => versions.get(id) !== version);
      assert.equal(rewritten.length, 0, 'not one document written again');
      const integration = await fb.db.doc(`users/u1/integrations/${providerId}`).get();
      assert.equal(integration.get('lastSyncStatus'), 'succeeded');
      assert.ok(integration.get('lastSyncedAt'));
    });
  }

  it('uses the user\'s lookback setting over the platform default', async () => {
    await connectIntegration(fb.db, bed.sandbox, 'u2', 'tiktok', 10);
    await enqueueJob(fb.db, { userId: 'u2', providerId: 'tiktok', jobType: 'scheduled-sync' });
    await runWorker(adsQueue(fb.db), workerOptions(handlers));
    const stored = [...(await metricsOf(fb.db, 'u2')).values()];
    assert.equal(stored.length, campaignRows('tiktok', 10).length);
    assert.equal(new Set(stored.map((r) => r.date)).size <= 10, true);
  });

  it('a worker that dies mid-sync and a retry end with exactly a clean run\'s data', async () => {
    await connectIntegration(fb.db, bed.sandbox, 'clean', 'meta');
    await connectIntegration(fb.db, bed.sandbox, 'crash', 'meta');
    await enqueueJob(fb.db, { userId: 'clean', providerId: 'meta', jobType: 'scheduled-sync' });
    await runWorker(adsQueue(fb.db), workerOptions(handlers));

    let batches = 0;
    const crashing = createSyncHandlers(fb.db, {
      connectors: bed.connectors,
      writeOptions: {
        batchSize: 5,
        onBatchWritten: () => {
          if (++batches === 2) throw new Error('worker lost mid-sync');
        },
      },
    });
    const { jobId } = await enqueueJob(fb.db, { userId: 'crash', providerId: 'meta', jobType: 'scheduled-sync' });
    const crashed = await runWorker(adsQueue(fb.db), workerOptions(crashing, { retry: { baseMs: 1, maxMs: 1, maxAttempts: 3 }, maxJobs: 1 }));
    assert.equal(crashed.counts.retried, 1);
    assert.equal((await metricVersionsOf(fb.db, 'crash')).size, 10, 'two batches of documents landed before the crash');
    const partial = await metricsOf(fb.db, 'crash', { checkTotals: false });
    assert.ok(partial.size > 0);

    await new Promise((r) => setTimeout(r, 10));
    const retried = await runWorker(adsQueue(fb.db), workerOptions(handlers));
    assert.equal(retried.counts.succeeded, 1);
    const job = (await allJobs(fb.db)).find((j) => j.id === jobId)!;
    assert.equal(job.attempts, 2);
    const clean = await metricsOf(fb.db, 'clean');
    const recovered = await metricsOf(fb.db, 'crash');
    assert.deepEqual(recovered, clean, 'same ids, same values, nothing duplicated');
  });

  /**
   * A worker process that dies: its own Firestore client, which it loses once `dieAfter`
   * says so. Nothing it would do after that (the handler's own error handling, the worker's
   * catch, the job's result) can reach the database.
   */
  async function dieMidSync(userId: string, dieAfter: (written: number) => boolean) {
    const doomed = testFirebase('sync-engine');
    try {
      const [lease] = await adsQueue(doomed.db).jobs.claim({ workerId: 'w-dies', max: 1, leaseMs: 600_000, userId });
      const dying = createSyncHandlers(doomed.db, {
        connectors: bed.connectors,
        writeOptions: {
          batchSize: 5,
          onBatchWritten: (written) => {
            // A refused terminate leaves the client alive, and the row counts below say so.
            if (dieAfter(written)) doomed.db.terminate().catch(() => undefined);
          },
        },
      });
      // The handler alone, as the worker starts it; the worker's catch never runs.
      await assert.rejects(
        dying['scheduled-sync']!({ job: lease!.job, signal: new AbortController().signal, reportProgress: (p) => lease!.renew(p), checkpoint: (p, payload) => lease!.renew(p, payload) }),
        /terminated/,
      );
      return lease!.job.id;
    } finally {
      await doomed.close().catch(() => undefined);
    }
  }

  /** Ten minutes pass: the dead worker's lease runs out, and reset_stale_jobs runs. */
  async function expireAndReset(jobId: string) {
    await fb.db.doc(`syncJobs/${jobId}`).update({ 'lease.expiresAt': Timestamp.fromMillis(Date.now() - 1) });
    const reset = await runCronOperation(testContext(fb, { handlers }), { operation: 'reset_stale_jobs', maxRunMinutes: 30 });
    assert.deepEqual(reset.operation === 'reset_stale_jobs' && [reset.reset, reset.failed], [1, 0]);
    const job = (await allJobs(fb.db)).find((j) => j.id === jobId)!;
    assert.equal(job.status, 'queued');
    assert.match(job.lastError ?? '', /worker w-dies stopped responding/);
  }

  /** What a recovery must end with: the same Meta account synced cleanly by another user. */
  async function cleanMetaSync() {
    await connectIntegration(fb.db, bed.sandbox, 'clean', 'meta');
    await enqueueJob(fb.db, { userId: 'clean', providerId: 'meta', jobType: 'scheduled-sync' });
    assert.equal((await runWorker(adsQueue(fb.db), workerOptions(handlers))).counts.succeeded, 1);
    return metricsOf(fb.db, 'clean');
  }

  const metaRowsPerSync = () =>
    (['campaign-daily', 'demographics', 'placement'] as const).reduce(
      (sum, kind) => sum + expectedRows('meta', ACCOUNTS.meta.id, kind, lookbackWindow(RESTATEMENT_DAYS.meta, 'UTC')).length,
      0,
    );

  it('a worker process that dies mid-sync: its lease expires, reset_stale_jobs requeues it, and the rerun equals a clean run', async () => {
    const clean = await cleanMetaSync();
    assert.equal(clean.size, metaRowsPerSync());
    await connectIntegration(fb.db, bed.sandbox, 'dies', 'meta');
    await enqueueJob(fb.db, { userId: 'dies', providerId: 'meta', jobType: 'scheduled-sync' });
    const jobId = await dieMidSync('dies', (written) => written === 10);
    assert.equal((await metricVersionsOf(fb.db, 'dies')).size, 10, 'two batches landed before the process died');
    const landed = (await metricsOf(fb.db, 'dies', { checkTotals: false })).size;
    assert.ok(landed > 0 && landed < clean.size);
    const stuck = (await allJobs(fb.db)).find((j) => j.id === jobId)!;
    assert.equal(stuck.status, 'running', 'nobody recorded anything for the dead worker');
    assert.equal(stuck.lease?.workerId, 'w-dies');
    assert.equal((await fb.db.doc('users/dies/integrations/meta').get()).get('lastSyncStatus'), null);

    await expireAndReset(jobId);
    const rerun = await runWorker(adsQueue(fb.db), workerOptions(handlers));
    assert.equal(rerun.counts.succeeded, 1, JSON.stringify(rerun.jobs));
    assert.equal(rerun.counters.rowsWritten, clean.size - landed, 'the rerun writes only what the dead worker did not');
    const job = (await allJobs(fb.db)).find((j) => j.id === jobId)!;
    assert.equal(job.status, 'succeeded');
    assert.equal(job.attempts, 2);
    assert.deepEqual(await metricsOf(fb.db, 'dies'), clean, 'same ids, same values, nothing duplicated');
    assert.equal((await fb.db.doc('users/dies/integrations/meta').get()).get('lastSyncStatus'), 'succeeded');
  });

  it('a worker process that dies after its last write but before saving the result: the rerun finishes it without writing a row', async () => {
    const clean = await cleanMetaSync();
    await connectIntegration(fb.db, bed.sandbox, 'late', 'meta');
    await enqueueJob(fb.db, { userId: 'late', providerId: 'meta', jobType: 'scheduled-sync' });
    const jobId = await dieMidSync('late', (written) => written === documentsFor(clean.values()));
    assert.deepEqual(await metricsOf(fb.db, 'late'), clean, 'every row landed');
    const versions = await metricVersionsOf(fb.db, 'late');
    assert.equal((await allJobs(fb.db)).find((j) => j.id === jobId)!.status, 'running');
    assert.equal((await fb.db.doc('users/late/integrations/meta').get()).get('lastSyncStatus'), null, 'the result was never saved');

    await expireAndReset(jobId);
    const rerun = await runWorker(adsQueue(fb.db), workerOptions(handlers));
    assert.equal(rerun.counts.succeeded, 1, JSON.stringify(rerun.jobs));
    assert.equal(rerun.counters.rowsWritten, 0);
    const job = (await allJobs(fb.db)).find((j) => j.id === jobId)!;
    assert.equal(job.status, 'succeeded');
    assert.equal(job.attempts, 2);
    assert.deepEqual(await metricsOf(fb.db, 'late'), clean);
    assert.deepEqual(await metricVersionsOf(fb.db, 'late'), versions, 'not one row written again');
    const integration = await fb.db.doc('users/late/integrations/meta').get();
    assert.equal(integration.get('lastSyncStatus'), 'succeeded');
    assert.ok(integration.get('lastSyncedAt'));
  });

  it('a token within the expiry margin is refreshed once, before the first report, for all report kinds, and the new token is stored server-side', async () => {
    await connectIntegration(fb.db, bed.sandbox, 'u3', 'google');
    // Three minutes left, within TOKEN_EXPIRY_MARGIN_MS, and the platform already refuses it: no report may go out with it.
    await credentialsRef(fb.db, 'u3', 'google').update({ expiresAt: Date.now() + 3 * 60_000 });
    const stale = (await credentialsRef(fb.db, 'u3', 'google').get()).data()!;
    bed.sandbox.setFaults('google', { expiredTokens: true });
    const twoKinds = createSyncHandlers(fb.db, { connectors: withSecondGoogleKind(bed.connectors) });
    await enqueueJob(fb.db, { userId: 'u3', providerId: 'google', jobType: 'manual-sync' });
    const report = await runWorker(adsQueue(fb.db), workerOptions(twoKinds));
    assert.equal(report.counts.succeeded, 1, JSON.stringify(report.jobs));
    assert.equal(bed.sandbox.requests('google').byPath['POST /token'], 1);
    const stored = (await credentialsRef(fb.db, 'u3', 'google').get()).data()!;
    assert.notEqual(stored.accessToken, stale.accessToken);
    assert.equal(stored.refreshToken, stale.refreshToken);
    assert.ok((stored.expiresAt as number) > Date.now() + 30 * 60_000);
    // The first kind refreshed before its request; the second kind went out with the new token.
    const reports = bed.sandbox.requests('google').log.filter((e) => e.path.endsWith('googleAds:searchStream'));
    assert.deepEqual(
      reports.map((e) => [e.status, e.headers.authorization]),
      [
        [200, `Bearer ${stored.accessToken}`],
        [200, `Bearer ${stored.accessToken}`],
      ],
    );
    assert.equal(report.counters.apiCalls, 3, 'one refresh, one call per kind');
    const rows = [...(await metricsOf(fb.db, 'u3')).values()];
    const expected = campaignRows('google', RESTATEMENT_DAYS.google).length;
    assert.equal(rows.filter((r) => r.kind === 'campaign-daily').length, expected);
    assert.equal(rows.filter((r) => r.kind === 'demographics').length, expected);
  });

  it('a token the platform refuses before its expiry is refreshed once for all report kinds running at once', async () => {
    await connectIntegration(fb.db, bed.sandbox, 'u5', 'google');
    await credentialsRef(fb.db, 'u5', 'google').update({ expiresAt: Date.now() + 30 * 60_000 });
    const stale = (await credentialsRef(fb.db, 'u5', 'google').get()).data()!;
    bed.sandbox.setFaults('google', { expiredTokens: true });
    const twoKinds = createSyncHandlers(fb.db, { connectors: withSecondGoogleKind(bed.connectors) });
    await enqueueJob(fb.db, { userId: 'u5', providerId: 'google', jobType: 'manual-sync' });
    const report = await runWorker(adsQueue(fb.db), workerOptions(twoKinds));
    assert.equal(report.counts.succeeded, 1, JSON.stringify(report.jobs));
    assert.equal(bed.sandbox.requests('google').byPath['POST /token'], 1, 'the kinds share one refresh');
    const stored = (await credentialsRef(fb.db, 'u5', 'google').get()).data()!;
    assert.notEqual(stored.accessToken, stale.accessToken);
    // Both kinds went out with the token outside the margin, met the refusal, and came back with the one new token.
    const reports = bed.sandbox.requests('google').log.filter((e) => e.path.endsWith('googleAds:searchStream'));
    assert.deepEqual(
      reports.map((e) => [e.status, e.headers.authorization]).sort(),
      [
        [200, `Bearer ${stored.accessToken}`],
        [200, `Bearer ${stored.accessToken}`],
        [401, `Bearer ${stale.accessToken}`],
        [401, `Bearer ${stale.accessToken}`],
      ],
    );
    assert.equal(report.counters.apiCalls, 5, 'two refused calls, one refresh, one call per kind');
  });

  it('a revoked token marks the integration error with "reconnect", fails without retries', async () => {
    await connectIntegration(fb.db, bed.sandbox, 'u4', 'meta');
    bed.sandbox.setFaults('meta', { revoked: true });
    await enqueueJob(fb.db, { userId: 'u4', providerId: 'meta', jobType: 'scheduled-sync' });
    const report = await runWorker(adsQueue(fb.db), workerOptions(handlers));
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
    const report = await runWorker(adsQueue(fb.db), workerOptions(handlers, { maxJobs: 1 }));
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
    assert.equal(event.get('counts.documentsWritten'), (await metricVersionsOf(fb.db, 'u6')).size);
    assert.equal(event.get('counts.apiCalls'), bed.sandbox.requests('tiktok').total);
  });
});
