import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TransientError } from '../../functions/src/providers/index.js';
import { jobFromSnapshot, jobsCollection, runWorker } from '../../functions/src/queue/index.js';
import { createSyncHandlers } from '../../functions/src/sync/handler.js';
import { backfillChunks } from '../../functions/src/sync/window.js';
import { hookedConnectors } from '../helpers/connectors.js';
import { workerOptions } from '../helpers/queue.js';
import { connectIntegration, metricsOf, useSyncBed } from '../helpers/syncBed.js';
import { adsQueue, enqueueJob } from '../../functions/src/scheduler/jobs.js';

const test = useSyncBed('sync-backfill-resume');
const { fb } = test;

describe('a backfill resumes where it got to', () => {
  it('a slow account that fails every run after two chunks still finishes, fetching each chunk once', async () => {
    await connectIntegration(fb.db, test.bed.sandbox, 'slow', 'tiktok');
    const { jobId } = await enqueueJob(fb.db, { userId: 'slow', providerId: 'tiktok', jobType: 'initial-backfill', maxAttempts: 2 });
    const chunks = backfillChunks(730, 60, 'UTC');
    const fetchedStarts: string[] = [];
    let inThisRun = 0;
    // Every run gets through two chunks, then the platform gives out (as a timeout would).
    const connectors = hookedConnectors(test.bed.connectors, async (_kind, input, fetch) => {
      if (++inThisRun > 2) throw new TransientError('tiktok', 'gateway timeout');
      fetchedStarts.push(input.window.start);
      return fetch();
    });
    const handlers = createSyncHandlers(fb.db, { connectors, backfillChunkDays: 60, backfillChunksPerRun: 4 });
    // The circuit stays closed: this account's failures are its own, not the platform's.
    const options = workerOptions(handlers, { maxJobs: 1, retry: { baseMs: 1, maxMs: 1, maxAttempts: 2 }, circuit: { failureThreshold: 1000, cooldownMs: 1 } });

    await runWorker(adsQueue(fb.db), options);
    let job = jobFromSnapshot(await jobsCollection(fb.db).doc(jobId).get());
    assert.equal(job.status, 'queued');
    assert.deepEqual(job.progress, { done: 2, total: chunks.length });
    assert.equal((job.payload.backfill as { next: number }).next, 2, 'the position is stored, not only on continuation');

    for (let run = 0; run < 20 && job.status === 'queued'; run++) {
      inThisRun = 0;
      await new Promise((resolve) => setTimeout(resolve, 5));
      await runWorker(adsQueue(fb.db), options);
      job = jobFromSnapshot(await jobsCollection(fb.db).doc(jobId).get());
    }
    assert.equal(job.status, 'succeeded', job.lastError ?? '');
    assert.deepEqual(job.progress, { done: chunks.length, total: chunks.length });
    assert.deepEqual(fetchedStarts, chunks.map((c) => c.start), 'every chunk fetched once, oldest first');
    const dates = [...(await metricsOf(fb.db, 'slow')).values()].map((r) => r.date as string).sort();
    assert.ok(dates[0]! >= chunks[0]!.start && dates.at(-1)! <= chunks.at(-1)!.end);
  });
});
