import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import type { Timestamp } from 'firebase-admin/firestore';
import { monitorObservations } from '../../functions/src/alerts/monitor.js';
import { nextBudgetDay, platformBudgetRef, readUsage, recordUsage } from '../../functions/src/budget/index.js';
import { createConnectors } from '../../functions/src/providers/index.js';
import { circuitsCollection, jobsCollection, runWorker } from '../../functions/src/queue/index.js';
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

async function runFanOut(now: number, budgets = SETTINGS) {
  await enqueueFanOut(fb.db, { mode: 'due', maxUsers: 500, jobType: 'scheduled-sync', timeframeDays: null, providerId: null, priority: null }, `system:budget-test:${now}`, 3);
  const handlers = { 'fan-out': createFanOutHandler(fb.db, { budgets, now: () => now }) };
  await runWorker(adsQueue(fb.db), workerOptions(handlers, { maxJobs: 10, concurrency: 1 }));
  return (await allJobs(fb.db)).filter((j) => j.jobType === 'scheduled-sync');
}

describe('daily request budgets', () => {
  const googleAt = (userId: string) => fb.db.doc(`users/${userId}/integrations/google`).get();
  const plan = async () => platformBudgetDocumentSchema.parse((await platformBudgetRef(fb.db, 'google').get()).data());

  it('stretches hourly syncs to every 6 hours when that fits the rest of the day, and tells the cards and the alerts', async () => {
    // Google: 40 of 100 spent in 20 syncs today (2 requests a sync); reserve 10, so 50 are left for scheduled syncs.
    await recordUsage(fb.db, 'google', { calls: 40, syncs: 20 }, MONDAY_1305);
    const dueAt = (i: number) => new Date(MONDAY_1305 - (12 - i) * 60_000);
    await seedIntegrations(fb.db, [
      ...Array.from({ length: 12 }, (_, i) => ({ userId: `g${String(i).padStart(2, '0')}`, providerId: 'google' as const, cadence: 'hourly' as const, nextRunAt: dueAt(i) })),
      { userId: 'm1', providerId: 'meta', cadence: 'hourly', nextRunAt: dueAt(0) },
      { userId: 'm2', providerId: 'meta', cadence: 'hourly', nextRunAt: dueAt(0) },
    ]);

    const jobs = await runFanOut(MONDAY_1305);

    // As set: 12 now + 12 × 10 later hours = 264 requests. Every 6 hours: 24 now + 24 at 18:00 = 48 ≤ 50, and this hour
    // may spend what 18:00 leaves: (50 − 24) / 2 = 13 syncs.
    const stored = await plan();
    assert.deepEqual(
      { ...stored, planAt: stored.planAt.toMillis(), hourStart: stored.hourStart.toMillis() },
      { providerId: 'google', day: '2026-11-30', budget: 100, reserve: 10, spent: 40, callsPerSync: 2, demand: 264, stretchedTo: 'every6h', hourAllowance: 13, hourStart: MONDAY_1305 - 5 * 60_000, reserveReached: false, planAt: MONDAY_1305 },
    );
    assert.equal((await platformBudgetRef(fb.db, 'meta').get()).exists, false, 'no budget, no plan');
    assert.equal(jobs.length, 14);
    for (let i = 0; i < 12; i++) assert.equal(iso((await googleAt(`g${String(i).padStart(2, '0')}`)).get('nextRunAt')), '2026-11-30T18:00:00.000Z', `g${i} on the 6-hour grid`);
    for (const user of ['m1', 'm2']) {
      assert.equal(iso((await fb.db.doc(`users/${user}/integrations/meta`).get()).get('nextRunAt')), '2026-11-30T14:00:00.000Z', 'Meta keeps its cadence');
    }

    const observations = await monitorObservations(fb.db, { backlogMs: 3_600_000, circuitFailureThreshold: 5, now: MONDAY_1305 });
    const budget = observations.filter((o) => o.kind === 'budget');
    assert.deepEqual(budget.map((o) => [o.providerId, o.count]), [['google', 1], ['meta', 0], ['linkedin', 0], ['tiktok', 0]]);
    assert.match(budget[0]!.summary, /The daily request budget for Google Ads will not cover today's scheduled syncs: faster cadences run at most every 6 hours until midnight UTC\. 40 of 100 requests spent/);
    // The plan is the day's: the next day it no longer holds.
    const nextDay = await monitorObservations(fb.db, { backlogMs: 3_600_000, circuitFailureThreshold: 5, now: nextBudgetDay(MONDAY_1305) + 60_000 });
    assert.equal(nextDay.find((o) => o.kind === 'budget' && o.providerId === 'google')!.count, 0);
  });

  it('when not even daily syncs fit, spreads the rest over the day: the hour\'s share, oldest first, never granted twice, the rest next hour', async () => {
    const SPREAD: BudgetSettings = { daily: { google: 1_000 }, reserveShare: 0.1 };
    // 600 of 1,000 spent (2 a sync): 300 left, 200 hourly integrations due, 400 requests: not even daily fits.
    await recordUsage(fb.db, 'google', { calls: 600, syncs: 300 }, MONDAY_1305);
    const user = (i: number) => `g${String(i).padStart(3, '0')}`;
    const dueAt = (i: number) => new Date(MONDAY_1305 - (200 - i) * 10_000);
    await seedIntegrations(fb.db, Array.from({ length: 200 }, (_, i) => ({ userId: user(i), providerId: 'google' as const, cadence: 'hourly' as const, nextRunAt: dueAt(i) })));

    const first = await runFanOut(MONDAY_1305, SPREAD);
    // 300 over the 11 hours to midnight: 27 requests, 13 syncs this hour, the 13 that waited longest.
    assert.deepEqual([(await plan()).stretchedTo, (await plan()).hourAllowance], ['daily', 13]);
    assert.deepEqual(first.map((j) => j.userId).sort(), Array.from({ length: 13 }, (_, i) => user(i)));
    assert.equal(iso((await googleAt(user(0))).get('nextRunAt')), '2026-12-01T00:00:00.000Z', 'at most once today, back on its cadence tomorrow');
    assert.equal(iso((await googleAt(user(13))).get('nextRunAt')), dueAt(13).toISOString(), 'left due, untouched');

    // The same hour's run again (a repeated delivery, a retried page): the hour's allowance is not granted twice.
    assert.equal((await runFanOut(MONDAY_1305 + 15 * 60_000, SPREAD)).length, 13);

    // 14:05: the 13 syncs spent 26; 274 left over 10 hours: 13 more, the next oldest.
    await recordUsage(fb.db, 'google', { calls: 26, syncs: 13 }, MONDAY_1305);
    const second = await runFanOut(MONDAY_1305 + 3_600_000, SPREAD);
    assert.deepEqual(second.map((j) => j.userId).sort(), Array.from({ length: 26 }, (_, i) => user(i)));
  });

  it('keeps every cadence and starts everything due while the day fits', async () => {
    await seedIntegrations(fb.db, Array.from({ length: 4 }, (_, i) => ({ userId: `g${i}`, providerId: 'google' as const, cadence: 'hourly' as const, nextRunAt: new Date(MONDAY_1305 - 60_000) })));
    const jobs = await runFanOut(MONDAY_1305);
    assert.equal(jobs.length, 4);
    // No syncs counted yet: the estimate for Google is one request a sync; 4 now + 4 × 10 later = 44 ≤ 90.
    const stored = await plan();
    assert.deepEqual([stored.stretchedTo, stored.demand, stored.callsPerSync, stored.hourAllowance], [null, 44, 1, 90 - 40]);
    assert.equal(iso((await googleAt('g0')).get('nextRunAt')), '2026-11-30T14:00:00.000Z');
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
    // Google has failed twice in a row: a held retry sent nothing, so it must not count as a success that resets the circuit.
    const policy = { failureThreshold: 5, cooldownMs: 60_000 };
    await adsQueue(fb.db).circuits.recordFailure('google', 'HTTP 503', policy);
    await adsQueue(fb.db).circuits.recordFailure('google', 'HTTP 503', policy);
    const report = await runWorker(adsQueue(fb.db), workerOptions(handlers));
    assert.deepEqual([report.counts.succeeded, report.counts.failed, report.counts.retried, report.counts.deferred], [0, 0, 0, 1]);
    const held = (await allJobs(fb.db))[0]!;
    assert.equal(held.status, 'queued');
    // Held as a continuation: no attempt and no deferral counted against it; it runs as a first run tomorrow.
    assert.deepEqual([held.attempts, held.deferrals], [0, 0]);
    assert.ok(Math.abs(held.runAfter.toMillis() - nextBudgetDay(now)) < 60_000, 'waits until midnight UTC');
    assert.equal((await circuitsCollection(fb.db).doc('google').get()).get('consecutiveFailures'), 2, 'the circuit neither reset nor counted');

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
