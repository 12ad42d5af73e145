import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { enqueueJob, runWorker, type HandlerRegistry } from '../../functions/src/queue/index.js';
import { createSyncHandlers } from '../../functions/src/sync/handler.js';
import { backfillChunks } from '../../functions/src/sync/window.js';
import { idTokenFor, serveEndpoints, testContext, testFirebase, type TestServer } from '../helpers/firebase.js';
import { allJobs, workerOptions } from '../helpers/queue.js';
import { connectIntegration, metricsOf } from '../helpers/syncBed.js';
import { startTestBed, type TestBed } from '../providers/helpers.js';

const fb = testFirebase('sync-backfill');
let bed: TestBed;
let handlers: HandlerRegistry;
let server: TestServer;

before(async () => {
  await fb.clear();
  bed = await startTestBed();
  handlers = createSyncHandlers(fb.db, { connectors: bed.connectors, backfillChunkDays: 60, backfillChunksPerRun: 3 });
  server = await serveEndpoints(testContext(fb, { handlers }));
});
after(async () => {
  await server.close();
  await bed.sandbox.close();
  await fb.close();
});

describe('initial backfill', () => {
  it('cuts two years into chunks, shows progress and an ETA while running, and reaches total', async () => {
    const { uid, token } = await idTokenFor(fb, { email: 'marketer@example.com' });
    await connectIntegration(fb.db, bed.sandbox, uid, 'tiktok');
    const { jobId } = await enqueueJob(fb.db, { userId: uid, providerId: 'tiktok', jobType: 'initial-backfill' });
    const total = backfillChunks(730, 60, 'UTC').length;
    assert.equal(total, 13);

    const first = await runWorker(fb.db, workerOptions(handlers, { maxJobs: 1 }));
    assert.equal(first.jobs[0]!.result, 'continued');
    let job = (await allJobs(fb.db)).find((j) => j.id === jobId)!;
    assert.equal(job.status, 'queued', 'the job continues in a later run');
    assert.deepEqual(job.progress, { done: 3, total });

    const status = await fetch(`${server.url}/status`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(status.status, 200);
    const body = (await status.json()) as { recentJobs: { id: string; progress: { done: number; total: number }; eta: string | null }[] };
    const view = body.recentJobs.find((j) => j.id === jobId)!;
    assert.deepEqual(view.progress, { done: 3, total });
    assert.ok(view.eta && Date.parse(view.eta) > Date.now(), `eta ${view.eta}`);

    for (let run = 0; run < 10 && job.status !== 'succeeded'; run++) {
      await runWorker(fb.db, workerOptions(handlers, { maxJobs: 1 }));
      job = (await allJobs(fb.db)).find((j) => j.id === jobId)!;
    }
    assert.equal(job.status, 'succeeded');
    assert.deepEqual(job.progress, { done: total, total });
    const stored = [...(await metricsOf(fb.db, uid)).values()];
    const dates = stored.map((r) => r.date as string).sort();
    const chunks = backfillChunks(730, 60, 'UTC');
    assert.equal(dates[0]! >= chunks[0]!.start, true);
    assert.equal(dates.at(-1)! <= chunks.at(-1)!.end, true);
    // TikTok: 30 days per request at most, so 60-day chunks take two calls each; never one per day.
    assert.ok(bed.sandbox.requests('tiktok').total < 730 / 7, `requests: ${bed.sandbox.requests('tiktok').total}`);
  });

  it('runs in its own lane: a daily sync of the same integration is not blocked', async () => {
    const backfill = await enqueueJob(fb.db, { userId: 'lane-user', providerId: 'meta', jobType: 'initial-backfill' });
    const daily = await enqueueJob(fb.db, { userId: 'lane-user', providerId: 'meta', jobType: 'scheduled-sync' });
    assert.equal(backfill.duplicate, false);
    assert.equal(daily.duplicate, false);
  });
});
