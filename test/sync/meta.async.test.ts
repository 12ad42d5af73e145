import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Timestamp } from 'firebase-admin/firestore';
import { createConnectors } from '../../functions/src/providers/index.js';
import { jobsCollection, runWorker, type HandlerRegistry } from '../../functions/src/queue/index.js';
import { RESTATEMENT_DAYS, pendingReportSchema, type Job } from '../../functions/src/schema/index.js';
import { createSyncHandlers } from '../../functions/src/sync/handler.js';
import { backfillChunks, lookbackWindow } from '../../functions/src/sync/window.js';
import { expectedRows, startSandbox, type Sandbox } from '../../scripts/sandbox/server.js';
import { testFirebase } from '../helpers/firebase.js';
import { allJobs, workerOptions } from '../helpers/queue.js';
import { connectIntegration, metricsOf } from '../helpers/syncBed.js';
import { ACCOUNTS, count, countMatching } from '../providers/helpers.js';
import { adsQueue, enqueueJob } from '../../functions/src/scheduler/jobs.js';

const fb = testFirebase('sync-meta-async');
const { id } = ACCOUNTS.meta;
const SUBMIT = `POST /v25.0/act_${id}/insights`;
const RECHECK_MS = 45_000;
let sandbox: Sandbox;
let handlers: HandlerRegistry;

before(async () => {
  sandbox = await startSandbox();
  // Every window of more than a week is an async report, and one run looks at a report only twice.
  const connectors = createConnectors({
    http: { baseDelayMs: 10, maxDelayMs: 50 },
    meta: { ...sandbox.baseUrls.meta, asyncAfterDays: 7, asyncInlinePolls: 2, asyncPollIntervalMs: 10 },
  });
  handlers = createSyncHandlers(fb.db, { connectors, pendingRecheckMs: RECHECK_MS, backfillChunkDays: 30, backfillChunksPerRun: 4 });
});
beforeEach(async () => {
  await fb.clear();
  sandbox.resetStats();
  sandbox.setFaults('meta', {});
});
after(async () => {
  await sandbox.close();
  await fb.close();
});

const jobById = async (jobId: string): Promise<Job> => (await allJobs(fb.db)).find((j) => j.id === jobId)!;
/** The recheck delay passes: the test moves the job's runAfter instead of sleeping. */
const makeDue = (jobId: string) => jobsCollection(fb.db).doc(jobId).update({ runAfter: Timestamp.now() });
const runOnce = () => runWorker(adsQueue(fb.db), workerOptions(handlers, { maxJobs: 1 }));

describe('Meta async reports that outlast one run', () => {
  it('the job hands the worker back while Meta prepares the reports, and picks them up again later', async () => {
    // Each report answers five status polls before it completes; a run polls each twice.
    sandbox.setFaults('meta', { asyncPolls: 5 });
    await connectIntegration(fb.db, sandbox, 'u1', 'meta');
    const { jobId } = await enqueueJob(fb.db, { userId: 'u1', providerId: 'meta', jobType: 'scheduled-sync' });

    const before = Date.now();
    const first = await runOnce();
    assert.equal(first.jobs[0]!.result, 'continued');
    let job = await jobById(jobId);
    assert.equal(job.status, 'queued');
    assert.equal(job.lease, null, 'no worker holds it while Meta works');
    assert.ok(job.runAfter.toMillis() >= before + RECHECK_MS, 'not before the recheck delay');
    const pending = job.payload.pendingReports as unknown[];
    assert.equal(pending.length, 3, 'one report per kind');
    for (const report of pending) pendingReportSchema.parse(report);
    assert.equal((await metricsOf(fb.db, 'u1')).size, 0);
    assert.equal((await fb.db.doc('users/u1/integrations/meta').get()).get('lastSyncStatus'), null);
    assert.equal(count(sandbox, 'meta', SUBMIT), 3);

    assert.equal((await runOnce()).counts.processed, 0, 'nothing is due before the recheck delay');
    await makeDue(jobId);
    assert.equal((await runOnce()).jobs[0]!.result, 'continued', 'polls three and four: still running');
    job = await jobById(jobId);
    assert.deepEqual(
      (job.payload.pendingReports as Array<{ reportRunId: string }>).map((r) => r.reportRunId).sort(),
      (pending as Array<{ reportRunId: string }>).map((r) => r.reportRunId).sort(),
      'the same reports, not new ones',
    );

    await makeDue(jobId);
    assert.equal((await runOnce()).jobs[0]!.result, 'succeeded');
    job = await jobById(jobId);
    assert.equal(job.status, 'succeeded');
    assert.equal(count(sandbox, 'meta', SUBMIT), 3, 'each report was submitted once');
    assert.equal(countMatching(sandbox, 'meta', /^GET \/v25\.0\/\d+$/), 3 * 6, 'six status polls per report, over three runs');
    const window = lookbackWindow(RESTATEMENT_DAYS.meta, 'UTC');
    const stored = [...(await metricsOf(fb.db, 'u1')).values()];
    for (const kind of ['campaign-daily', 'demographics', 'placement'] as const) {
      assert.equal(stored.filter((r) => r.kind === kind).length, expectedRows('meta', id, kind, window).length, kind);
    }
    assert.equal((await fb.db.doc('users/u1/integrations/meta').get()).get('lastSyncStatus'), 'succeeded');
  });

  it('a report Meta fails while the job waits is submitted again, once, and the sync completes', async () => {
    sandbox.setFaults('meta', { asyncPolls: 3, asyncJobsFail: true });
    await connectIntegration(fb.db, sandbox, 'u2', 'meta');
    const { jobId } = await enqueueJob(fb.db, { userId: 'u2', providerId: 'meta', jobType: 'scheduled-sync' });
    assert.equal((await runOnce()).jobs[0]!.result, 'continued');
    // The reports now fail on their next poll; the ones submitted again complete at once.
    sandbox.setFaults('meta', { asyncPolls: 0 });
    await makeDue(jobId);
    const second = await runOnce();
    assert.equal(second.jobs[0]!.result, 'succeeded', JSON.stringify(second.jobs));
    assert.equal(count(sandbox, 'meta', SUBMIT), 6, 'three reports, then one new submission per failed report');
    const job = await jobById(jobId);
    assert.equal(job.attempts, 1, 'no attempt was spent');
    const window = lookbackWindow(RESTATEMENT_DAYS.meta, 'UTC');
    assert.equal([...(await metricsOf(fb.db, 'u2')).values()].filter((r) => r.kind === 'campaign-daily').length, expectedRows('meta', id, 'campaign-daily', window).length);
  });

  it('a backfill chunk waits for its reports before the next chunk starts', async () => {
    sandbox.setFaults('meta', { asyncPolls: 3 });
    await connectIntegration(fb.db, sandbox, 'u3', 'meta');
    const { jobId } = await enqueueJob(fb.db, { userId: 'u3', providerId: 'meta', jobType: 'initial-backfill', payload: { timeframeDays: 60 } });
    const chunks = backfillChunks(60, 30, 'UTC');
    assert.equal(chunks.length, 2);

    const before = Date.now();
    assert.equal((await runOnce()).jobs[0]!.result, 'continued');
    let job = await jobById(jobId);
    assert.deepEqual(job.progress, null, 'no chunk is done yet');
    assert.equal((job.payload.backfill as { next: number; pending: unknown[] }).next, 0);
    assert.equal((job.payload.backfill as { pending: unknown[] }).pending.length, 3);
    assert.ok(job.runAfter.toMillis() >= before + RECHECK_MS, 'not before the recheck delay');

    await makeDue(jobId);
    assert.equal((await runOnce()).jobs[0]!.result, 'continued', 'chunk 1 done, chunk 2 submitted and not ready');
    job = await jobById(jobId);
    assert.deepEqual(job.progress, { done: 1, total: 2 });

    await makeDue(jobId);
    assert.equal((await runOnce()).jobs[0]!.result, 'succeeded');
    job = await jobById(jobId);
    assert.deepEqual(job.progress, { done: 2, total: 2 });
    assert.equal(count(sandbox, 'meta', SUBMIT), 6, 'three kinds per chunk, each submitted once');
    const stored = [...(await metricsOf(fb.db, 'u3')).values()].filter((r) => r.kind === 'campaign-daily');
    const expected = chunks.reduce((n, chunk) => n + expectedRows('meta', id, 'campaign-daily', chunk).length, 0);
    assert.equal(stored.length, expected);
  });
});
