import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import type { Timestamp } from 'firebase-admin/firestore';
import { monitorObservations } from '../../functions/src/alerts/monitor.js';
import { nextBudgetDay, platformBudgetRef, readUsage, recordUsage } from '../../functions/src/budget/index.js';
import { createConnectors } from '../../functions/src/providers/index.js';
import { jobsCollection, runWorker } from '../../functions/src/queue/index.js';
import { createFanOutHandler, enqueueFanOut } from '../../functions/src/scheduler/fanout.js';
import { platformBudgetDocumentSchema, type BudgetSettings } from '../../functions/src/schema/index.js';
import { createSyncHandlers } from '../../functions/src/sync/handler.js';
import { testFirebase } from '../helpers/firebase.js';
import { allJobs, workerOptions } from '../helpers/queue.js';
import { seedIntegrations } from '../helpers/seed.js';
import { adsQueue, enqueueJob } from '../../functions/src/scheduler/jobs.js';

const fb = testFirebase('scheduler-budget');
beforeEach(() => fb.clear());
after(() => fb.close());

const SETTINGS: BudgetSettings = { daily: { google: 100 }, reserveShare: 0.1 };
/** A Monday in the past (the fan-out's due query compares with the real clock), five minutes into the hourly run. */
const MONDAY_1305 = Date.parse('2026-11-30T13:05:00Z');
const iso = (t: Timestamp | null | undefined) => t?.toDate().toISOString() ?? null;

async function runFanOut(now: number) {
  await enqueueFanOut(fb.db, { mode: 'due', maxUsers: 500, jobType: 'scheduled-sync', timeframeDays: null, providerId: null, priority: null }, `system:budget-test:${now}`, 3);
  const handlers = { 'fan-out': createFanOutHandler(fb.db, { budgets: SETTINGS, now: () => now }) };
  await runWorker(adsQueue(fb.db), workerOptions(handlers, { maxJobs: 10, concurrency: 1 }));
  return (await allJobs(fb.db)).filter((j) => j.jobType === 'scheduled-sync');
}

describe('daily request budgets', () => {
  it('stretches hourly syncs to every 6 hours, starts only the hour\'s allowance (oldest first) and tells the cards and the alerts', async () => {
    // Google: 60 of 100 spent in 30 syncs today (2 requests a sync); reserve 10, so 30 are left for scheduled syncs.
    await recordUsage(fb.db, 'google', { calls: 60, syncs: 30 }, MONDAY_1305);
    // 12 hourly Google integrations, due since 1 to 12 minutes ago; 2 hourly Meta ones (no budget).
    const dueAt = (i: number) => new Date(MONDAY_1305 - (12 - i) * 60_000);
    await seedIntegrations(fb.db, [
      ...Array.from({ length: 12 }, (_, i) => ({ userId: `g${String(i).padStart(2, '0')}`, providerId: 'google' as const, cadence: 'hourly' as const, nextRunAt: dueAt(i) })),
      { userId: 'm1', providerId: 'meta', cadence: 'hourly' },
      { userId: 'm2', providerId: 'meta', cadence: 'hourly' },
    ]);

    const jobs = await runFanOut(MONDAY_1305);

    // At the cadences set, 12 × 11 runs × 2 = 264 requests are left today; every 6 hours, 12 × 1 (18:00) × 2 = 24 after
    // this hour, which leaves (30 − 24) / 2 = 3 syncs for this hour.
    const plan = platformBudgetDocumentSchema.parse((await platformBudgetRef(fb.db, 'google').get()).data());
    assert.deepEqual(
      { ...plan, planAt: plan.planAt.toMillis() },
      { providerId: 'google', day: '2026-11-30', budget: 100, reserve: 10, spent: 60, callsPerSync: 2, demand: 264, stretchedTo: 'every6h', hourAllowance: 3, planAt: MONDAY_1305 },
    );
    assert.equal((await platformBudgetRef(fb.db, 'meta').get()).exists, false, 'no budget, no plan');

    assert.deepEqual(jobs.map((j) => `${j.providerId}/${j.userId}`).sort(), ['google/g00', 'google/g01', 'google/g02', 'meta/m1', 'meta/m2']);
    for (let i = 0; i < 12; i++) {
      const doc = await fb.db.doc(`users/g${String(i).padStart(2, '0')}/integrations/google`).get();
      // The three that ran next at 18:00 (the 6-hour grid), the others are still due and untouched.
      assert.equal(iso(doc.get('nextRunAt')), i < 3 ? '2026-11-30T18:00:00.000Z' : dueAt(i).toISOString(), `g${i}`);
      assert.equal(doc.get('lastRequestedAt') === null, i >= 3, `g${i} requested`);
    }
    for (const user of ['m1', 'm2']) {
      assert.equal(iso((await fb.db.doc(`users/${user}/integrations/meta`).get()).get('nextRunAt')), '2026-11-30T14:00:00.000Z', 'Meta keeps its cadence');
    }

    const observations = await monitorObservations(fb.db, { backlogMs: 3_600_000, circuitFailureThreshold: 5, now: MONDAY_1305 });
    const budget = observations.filter((o) => o.kind === 'budget');
    assert.deepEqual(budget.map((o) => [o.providerId, o.count]), [['google', 1], ['meta', 0], ['linkedin', 0], ['tiktok', 0]]);
    assert.match(budget[0]!.summary, /The daily request budget for Google Ads will not cover today's scheduled syncs: faster cadences run at most every 6 hours until midnight UTC\. 60 of 100 requests spent/);
    // The plan is the day's: the next day it no longer holds.
    const nextDay = await monitorObservations(fb.db, { backlogMs: 3_600_000, circuitFailureThreshold: 5, now: nextBudgetDay(MONDAY_1305) + 60_000 });
    assert.equal(nextDay.find((o) => o.kind === 'budget' && o.providerId === 'google')!.count, 0);
  });

  it('keeps every cadence and starts everything due while the day fits', async () => {
    await seedIntegrations(fb.db, Array.from({ length: 4 }, (_, i) => ({ userId: `g${i}`, providerId: 'google' as const, cadence: 'hourly' as const, nextRunAt: new Date(MONDAY_1305 - 60_000) })));
    const jobs = await runFanOut(MONDAY_1305);
    assert.equal(jobs.length, 4);
    const plan = platformBudgetDocumentSchema.parse((await platformBudgetRef(fb.db, 'google').get()).data());
    // No syncs counted yet: the estimate for Google is one request a sync; 4 × 11 = 44 ≤ 90.
    assert.deepEqual([plan.stretchedTo, plan.demand, plan.callsPerSync, plan.hourAllowance], [null, 44, 1, 90 - 40]);
    assert.equal(iso((await fb.db.doc('users/g0/integrations/google').get()).get('nextRunAt')), '2026-11-30T14:00:00.000Z');
  });

  it('a retry waits for the next budget day once only the reserve is left; a first run still goes, and every run is counted', async () => {
    const now = Date.now();
    await recordUsage(fb.db, 'google', { calls: 91, syncs: 40 }, now);
    await seedIntegrations(fb.db, [{ userId: 'u', providerId: 'google' }, { userId: 'v', providerId: 'google' }]);
    const retry = await enqueueJob(fb.db, { userId: 'u', providerId: 'google', jobType: 'scheduled-sync' });
    // Its first attempt failed: the next claim is its second.
    await jobsCollection(fb.db).doc(retry.jobId).update({ attempts: 1 });
    let sent = 0;
    // Google is not configured here: a run that got past the budget would fail naming the settings.
    const handlers = createSyncHandlers(fb.db, {
      connectors: createConnectors({}),
      budget: { settings: SETTINGS, takeSentCount: () => ++sent, now: () => now },
    });
    const report = await runWorker(adsQueue(fb.db), workerOptions(handlers));
    assert.equal(report.counts.deferred, 1);
    const held = (await allJobs(fb.db))[0]!;
    assert.equal(held.status, 'queued');
    assert.equal(held.attempts, 1, 'waiting for the budget gives the attempt back');
    assert.equal(held.runAfter.toMillis(), nextBudgetDay(now));
    assert.match(held.lastError ?? '', /The daily request budget for Google Ads is down to its reserve \(9 of 100 left\): retries wait for the new budget day at midnight UTC/);

    // A first run (Sync now) may use the reserve: it gets to the platform (which is not configured here).
    const manual = await enqueueJob(fb.db, { userId: 'v', providerId: 'google', jobType: 'manual-sync' });
    await runWorker(adsQueue(fb.db), workerOptions(handlers));
    const ran = (await allJobs(fb.db)).find((j) => j.id === manual.jobId)!;
    assert.equal(ran.status, 'failed');
    assert.match(ran.lastError ?? '', /Google Ads is not configured on the server/);
    // The run was counted (the gate's one request, one sync); the held retry sent nothing.
    assert.deepEqual(await readUsage(fb.db, 'google', now), { calls: 92, syncs: 41 });
  });
});
