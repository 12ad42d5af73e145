import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jobFromSnapshot, jobsCollection, runWorker } from '../../functions/src/queue/index.js';
import { createSyncHandlers } from '../../functions/src/sync/handler.js';
import { hookedConnectors } from '../helpers/connectors.js';
import { workerOptions } from '../helpers/queue.js';
import { connectIntegration, metricsOf, useSyncBed } from '../helpers/syncBed.js';
import { enqueueJob } from '../../functions/src/scheduler/jobs.js';
import { adsQueue } from '../../functions/src/scheduler/jobs.js';

const test = useSyncBed('sync-abort');
const { fb } = test;

describe('a timed-out sync stops', () => {
  it('rows fetched after the timeout are never written, and the integration is not marked synced', async () => {
    await connectIntegration(fb.db, test.bed.sandbox, 'u1', 'linkedin');
    const { jobId } = await enqueueJob(fb.db, { userId: 'u1', providerId: 'linkedin', jobType: 'scheduled-sync' });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let fetched = 0;
    // The platform answers in full (whatever the job's signal says), but only after the job's timeout has passed.
    const connectors = hookedConnectors(test.bed.connectors, async (kind, input, _fetch, connector) => {
      const result = await connector.fetchReport(kind, { ...input, signal: undefined });
      fetched += result.rows.length;
      await held;
      return result;
    });
    let finished!: () => void;
    const handlerDone = new Promise<void>((resolve) => (finished = resolve));
    const sync = createSyncHandlers(fb.db, { connectors })['scheduled-sync']!;
    const report = await runWorker(
      adsQueue(fb.db),
      workerOptions(
        { 'scheduled-sync': (ctx) => sync(ctx).finally(finished) },
        { jobTimeoutMs: 150, retry: { baseMs: 60_000, maxMs: 60_000, maxAttempts: 3 } },
      ),
    );
    assert.equal(report.jobs[0]!.result, 'retried');

    release();
    await handlerDone.catch(() => undefined);
    assert.ok(fetched > 0, 'the platform did answer');
    assert.equal((await metricsOf(fb.db, 'u1')).size, 0, 'no metric document written after the timeout');
    const integration = (await fb.db.doc('users/u1/integrations/linkedin').get()).data()!;
    assert.equal(integration.lastSyncStatus, null);
    assert.equal(integration.lastSyncedAt, null);
    const job = jobFromSnapshot(await jobsCollection(fb.db).doc(jobId).get());
    assert.equal(job.status, 'queued');
    assert.match(job.lastError ?? '', /timeout/);
  });
});
