import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jobsCollection, runWorker, type HandlerRegistry } from '../../functions/src/queue/index.js';
import { RESTATEMENT_DAYS, metricRowId, type Job, type Progress } from '../../functions/src/schema/index.js';
import type { JobView } from '../../functions/src/status/userStatus.js';
import { createSyncHandlers } from '../../functions/src/sync/handler.js';
import { backfillChunks, lookbackWindow } from '../../functions/src/sync/window.js';
import { expectedRows } from '../../scripts/sandbox/server.js';
import { idTokenFor, serveEndpoints, testContext, testFirebase, type TestServer } from '../helpers/firebase.js';
import { allJobs, waitForJob, workerOptions } from '../helpers/queue.js';
import { connectIntegration, metricsOf } from '../helpers/syncBed.js';
import { ACCOUNTS, startTestBed, type TestBed } from '../providers/helpers.js';
import { adsQueue, enqueueJob } from '../../functions/src/scheduler/jobs.js';

const fb = testFirebase('sync-backfill');
let bed: TestBed;
let handlers: HandlerRegistry;
let server: TestServer;
/** Runs inside the backfill after each chunk's progress is saved, while its job is running. */
let afterChunk: ((progress: Progress) => Promise<void>) | null = null;

before(async () => {
  await fb.clear();
  bed = await startTestBed();
  const sync = createSyncHandlers(fb.db, { connectors: bed.connectors, backfillChunkDays: 60, backfillChunksPerRun: 3 });
  handlers = {
    ...sync,
    'initial-backfill': (ctx) =>
      sync['initial-backfill']!({
        ...ctx,
        checkpoint: async (progress, payload) => {
          await ctx.checkpoint(progress, payload);
          await afterChunk?.(progress);
        },
      }),
  };
  server = await serveEndpoints(testContext(fb, { handlers }));
});
after(async () => {
  await server.close();
  await bed.sandbox.close();
  await fb.close();
});

async function statusView(token: string, jobId: string): Promise<JobView> {
  const status = await fetch(`${server.url}/status`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(status.status, 200);
  const body = (await status.json()) as { recentJobs: JobView[] };
  return body.recentJobs.find((j) => j.id === jobId)!;
}

describe('initial backfill', () => {
  it('cuts two years into chunks, shows progress and an ETA while running, and reaches total', async () => {
    const { uid, token } = await idTokenFor(fb, { email: 'marketer@example.com' });
    await connectIntegration(fb.db, bed.sandbox, uid, 'tiktok');
    const { jobId } = await enqueueJob(fb.db, { userId: uid, providerId: 'tiktok', jobType: 'initial-backfill' });
    const total = backfillChunks(730, 60, 'UTC').length;
    assert.equal(total, 13);

    // The status a user sees in the middle of the first run, after its second chunk.
    let running: { view: JobView; before: number; after: number; firstStartedAt: number } | undefined;
    afterChunk = async (progress) => {
      if (progress.done !== 2 || running) return;
      const firstStartedAt = (await jobsCollection(fb.db).doc(jobId).get()).get('payload.firstStartedAt') as number;
      const before = Date.now();
      const view = await statusView(token, jobId);
      running = { view, before, after: Date.now(), firstStartedAt };
    };
    const first = await runWorker(adsQueue(fb.db), workerOptions(handlers, { maxJobs: 1 }));
    afterChunk = null;
    assert.equal(first.jobs[0]!.result, 'continued');
    assert.equal(running?.view.status, 'running');
    assert.deepEqual(running.view.progress, { done: 2, total });
    // Two of 13 chunks took (now - first start): the rest is projected at the same pace. The
    // first start is the handler's (payload.firstStartedAt, written with each chunk's
    // checkpoint), a moment after the claim's startedAt: under load the two differ.
    const startedAt = running.firstStartedAt;
    const eta = Date.parse(running.view.eta!);
    const projected = (at: number) => startedAt + ((at - startedAt) * total) / 2;
    assert.ok(eta >= Math.floor(projected(running.before)) && eta <= Math.ceil(projected(running.after)), `eta ${running.view.eta}`);
    assert.ok(eta > running.after);

    let job = (await allJobs(fb.db)).find((j) => j.id === jobId)!;
    assert.equal(job.status, 'queued', 'the job continues in a later run');
    assert.deepEqual(job.progress, { done: 3, total });
    const between = await statusView(token, jobId);
    assert.deepEqual(between.progress, { done: 3, total });
    assert.ok(between.eta && Date.parse(between.eta) > Date.now(), `eta ${between.eta}`);

    for (let run = 0; run < 10 && job.status !== 'succeeded'; run++) {
      await runWorker(adsQueue(fb.db), workerOptions(handlers, { maxJobs: 1 }));
      job = (await allJobs(fb.db)).find((j) => j.id === jobId)!;
    }
    assert.equal(job.status, 'succeeded');
    assert.deepEqual(job.progress, { done: total, total });
    // Every row of every chunk, each once, with the platform's values.
    const chunks = (job.payload.backfill as { chunks: { start: string; end: string }[] }).chunks;
    assert.deepEqual(chunks, backfillChunks(730, 60, 'UTC'));
    const expected = expectedRows('tiktok', ACCOUNTS.tiktok.id, 'campaign-daily', { start: chunks[0]!.start, end: chunks.at(-1)!.end });
    const stored = await metricsOf(fb.db, uid);
    assert.equal(stored.size, expected.length);
    assert.deepEqual(stored, new Map(expected.map((row) => [metricRowId(row), row])));
    const dates = [...stored.values()].map((r) => r.date as string).sort();
    assert.equal(dates[0]! >= chunks[0]!.start, true);
    assert.equal(dates.at(-1)! <= chunks.at(-1)!.end, true);
    // TikTok: 30 days per request at most, so 60-day chunks take two calls each; never one per day.
    assert.ok(bed.sandbox.requests('tiktok').total < 730 / 7, `requests: ${bed.sandbox.requests('tiktok').total}`);
  });

  it('runs in its own lane: a daily sync of the same integration runs and succeeds while the backfill is under way', async () => {
    await connectIntegration(fb.db, bed.sandbox, 'lane-user', 'tiktok');
    const backfill = await enqueueJob(fb.db, { userId: 'lane-user', providerId: 'tiktok', jobType: 'initial-backfill' });
    const part = await runWorker(adsQueue(fb.db), workerOptions(handlers, { maxJobs: 1, userId: 'lane-user' }));
    assert.deepEqual(part.jobs.map((j) => [j.id, j.result]), [[backfill.jobId, 'continued']], 'part-way: 3 of 13 chunks');

    const daily = await enqueueJob(fb.db, { userId: 'lane-user', providerId: 'tiktok', jobType: 'scheduled-sync' });
    assert.equal(backfill.duplicate, false);
    assert.equal(daily.duplicate, false);
    // The backfill's next chunk waits until the daily sync has finished, beside it.
    let meanwhile: { backfill: Job; daily: Job } | undefined;
    afterChunk = async (progress) => {
      if (progress.done !== 4) return;
      await waitForJob(fb.db, daily.jobId, (j) => j.status !== 'queued' && j.status !== 'running');
      const jobs = await allJobs(fb.db);
      meanwhile = { backfill: jobs.find((j) => j.id === backfill.jobId)!, daily: jobs.find((j) => j.id === daily.jobId)! };
    };
    const report = await runWorker(adsQueue(fb.db), workerOptions(handlers, { maxJobs: 2, concurrency: 2, userId: 'lane-user' }));
    afterChunk = null;
    assert.equal(meanwhile?.daily.status, 'succeeded', JSON.stringify(report.jobs));
    assert.equal(meanwhile.backfill.status, 'running');
    assert.deepEqual(meanwhile.backfill.progress, { done: 4, total: 13 });
    assert.deepEqual(
      report.jobs.map((j) => [j.id, j.result]).sort(),
      [
        [backfill.jobId, 'continued'],
        [daily.jobId, 'succeeded'],
      ].sort(),
    );
    const integration = await fb.db.doc('users/lane-user/integrations/tiktok').get();
    assert.equal(integration.get('lastSyncStatus'), 'succeeded');
    const today = lookbackWindow(RESTATEMENT_DAYS.tiktok, 'UTC');
    const recent = [...(await metricsOf(fb.db, 'lane-user')).values()].filter((r) => (r.date as string) >= today.start);
    assert.equal(recent.length, expectedRows('tiktok', ACCOUNTS.tiktok.id, 'campaign-daily', today).length, 'the daily window is stored');
  });
});
