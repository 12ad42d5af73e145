import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createConnectors } from '../../functions/src/providers/index.js';
import { circuitsCollection, runWorker, type HandlerRegistry } from '../../functions/src/queue/index.js';
import type { Timestamp } from 'firebase-admin/firestore';
import { PROVIDER_IDS } from '../../functions/src/schema/index.js';
import { userStatus } from '../../functions/src/status/userStatus.js';
import { createSyncHandlers } from '../../functions/src/sync/handler.js';
import { startSandbox, type Sandbox } from '../../scripts/sandbox/server.js';
import { testFirebase } from '../helpers/firebase.js';
import { allJobs, workerOptions } from '../helpers/queue.js';
import { connectIntegration } from '../helpers/syncBed.js';
import { adsQueue, enqueueJob } from '../../functions/src/scheduler/jobs.js';

const fb = testFirebase('sync-linkedin-limits');
let sandbox: Sandbox;
let handlers: HandlerRegistry;

const DAY_MS = 86_400_000;
const nextMidnight = (now: number) => (Math.floor(now / DAY_MS) + 1) * DAY_MS;

before(async () => {
  sandbox = await startSandbox();
  const urls = sandbox.baseUrls;
  // The production policy for LinkedIn apart from a fast transient backoff: waits of more than two minutes end the run.
  const connectors = createConnectors({
    http: { baseDelayMs: 10, maxDelayMs: 50 },
    linkedin: { ...urls.linkedin, clientId: 'c', clientSecret: 's' },
    meta: { ...urls.meta },
  });
  handlers = createSyncHandlers(fb.db, { connectors });
});
beforeEach(async () => {
  await fb.clear();
  sandbox.resetStats();
  for (const p of PROVIDER_IDS) sandbox.setFaults(p, {});
});
after(async () => {
  await sandbox.close();
  await fb.close();
});

describe("LinkedIn's daily limits", () => {
  it('the application DAY limit: the job waits for midnight UTC without spending an attempt, and LinkedIn pauses', async () => {
    sandbox.setFaults('linkedin', { rateLimit: { count: 1000 }, linkedinDailyLimit: 'APPLICATION' });
    await connectIntegration(fb.db, sandbox, 'u1', 'linkedin');
    await connectIntegration(fb.db, sandbox, 'u2', 'linkedin');
    await connectIntegration(fb.db, sandbox, 'u2', 'meta');
    const { jobId } = await enqueueJob(fb.db, { userId: 'u1', providerId: 'linkedin', jobType: 'scheduled-sync' });

    const before = Date.now();
    const first = await runWorker(adsQueue(fb.db), workerOptions(handlers, { maxJobs: 1 }));
    const after = Date.now();
    assert.equal(first.jobs[0]!.result, 'deferred');
    assert.equal(sandbox.requests('linkedin').total, 1, 'no retry before the reset');
    const [job] = await allJobs(fb.db);
    assert.equal(job!.id, jobId);
    assert.equal(job!.status, 'queued');
    assert.equal(job!.attempts, 0, 'the attempt is given back');
    assert.ok([nextMidnight(before), nextMidnight(after)].includes(job!.runAfter.toMillis()), `runAfter ${job!.runAfter.toDate().toISOString()}`);
    assert.match(job!.lastError ?? '', /daily request limit reached \(it resets at midnight UTC\); retry in \d/);
    assert.doesNotMatch(job!.lastError ?? '', /\b0 s\b/);

    const circuit = await circuitsCollection(fb.db).doc('linkedin').get();
    assert.equal((circuit.get('openUntil') as Timestamp).toMillis(), job!.runAfter.toMillis());
    assert.equal(circuit.get('consecutiveFailures') ?? 0, 0, 'not counted as a failure');
    const status = await userStatus(fb.db, 'u2');
    assert.deepEqual(status.pausedProviders.map((p) => [p.providerId, Date.parse(p.until)]), [['linkedin', job!.runAfter.toMillis()]]);

    // Another user's LinkedIn sync waits for the reset too; other platforms carry on.
    sandbox.resetStats();
    await enqueueJob(fb.db, { userId: 'u2', providerId: 'linkedin', jobType: 'scheduled-sync' });
    await enqueueJob(fb.db, { userId: 'u2', providerId: 'meta', jobType: 'scheduled-sync' });
    const second = await runWorker(adsQueue(fb.db), workerOptions(handlers));
    assert.deepEqual(second.jobs.map((j) => [j.providerId, j.result]), [['meta', 'succeeded']]);
    assert.equal(sandbox.requests('linkedin').total, 0);
  });

  it("a member's DAY limit postpones only that connection's job", async () => {
    sandbox.setFaults('linkedin', { rateLimit: { count: 1 }, linkedinDailyLimit: 'MEMBER' });
    await connectIntegration(fb.db, sandbox, 'u1', 'linkedin');
    await connectIntegration(fb.db, sandbox, 'u2', 'linkedin');
    await enqueueJob(fb.db, { userId: 'u1', providerId: 'linkedin', jobType: 'scheduled-sync' });
    const before = Date.now();
    const first = await runWorker(adsQueue(fb.db), workerOptions(handlers, { maxJobs: 1 }));
    const after = Date.now();
    assert.equal(first.jobs[0]!.result, 'deferred');
    assert.equal((await circuitsCollection(fb.db).doc('linkedin').get()).exists, false, 'LinkedIn is not paused');
    await enqueueJob(fb.db, { userId: 'u2', providerId: 'linkedin', jobType: 'scheduled-sync' });
    const second = await runWorker(adsQueue(fb.db), workerOptions(handlers));
    assert.deepEqual(second.jobs.map((j) => j.result), ['succeeded']);
    const waiting = (await allJobs(fb.db)).find((j) => j.userId === 'u1')!;
    assert.equal(waiting.status, 'queued');
    assert.equal(waiting.attempts, 0);
    assert.ok([nextMidnight(before), nextMidnight(after)].includes(waiting.runAfter.toMillis()));
  });

  it('a 429 without "DAY" that outlasts the in-place waits is taken as the daily limit: the job waits for midnight UTC', async () => {
    sandbox.setFaults('linkedin', { rateLimit: { count: 100_000 }, linkedinDailyLimit: 'UNNAMED' });
    await connectIntegration(fb.db, sandbox, 'u1', 'linkedin');
    await enqueueJob(fb.db, { userId: 'u1', providerId: 'linkedin', jobType: 'scheduled-sync' });
    const before = Date.now();
    // Five in-place waits of at least a second each, and the pacing slows after every 429: room beyond the usual 10 s.
    const first = await runWorker(adsQueue(fb.db), workerOptions(handlers, { jobTimeoutMs: 60_000, budgetMs: 120_000 }));
    const after = Date.now();
    assert.deepEqual(first.jobs.map((j) => j.result), ['deferred'], first.jobs[0]?.error);
    assert.equal(sandbox.requests('linkedin').total, 6, 'the first request and its five in-place waits, nothing more');
    const [job] = await allJobs(fb.db);
    assert.equal(job!.attempts, 0);
    assert.ok([nextMidnight(before), nextMidnight(after)].includes(job!.runAfter.toMillis()), `runAfter ${job!.runAfter.toDate().toISOString()}`);
    assert.match(job!.lastError ?? '', /daily request limit reached/);
    assert.equal((await circuitsCollection(fb.db).doc('linkedin').get()).exists, false, 'only this connection waits');
    const integration = (await fb.db.doc('users/u1/integrations/linkedin').get()).data()!;
    assert.deepEqual([integration.lastSyncStatus, integration.lastError], [null, null], 'a wait is not a failed sync');
    const second = await runWorker(adsQueue(fb.db), workerOptions(handlers));
    assert.equal(second.counts.processed, 0, 'nothing runs again before midnight');
    assert.equal(sandbox.requests('linkedin').total, 6);
  });

  it('a 429 that names no daily limit is waited out in place, and the sync completes', async () => {
    sandbox.setFaults('linkedin', { rateLimit: { count: 1 } });
    await connectIntegration(fb.db, sandbox, 'u1', 'linkedin');
    await enqueueJob(fb.db, { userId: 'u1', providerId: 'linkedin', jobType: 'scheduled-sync' });
    const report = await runWorker(adsQueue(fb.db), workerOptions(handlers));
    assert.equal(report.jobs[0]!.result, 'succeeded');
    assert.equal(sandbox.requests('linkedin').log.filter((r) => r.status === 429).length, 1);
  });
});
