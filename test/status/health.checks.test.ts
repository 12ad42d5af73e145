import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { Timestamp } from 'firebase-admin/firestore';
import { saveAlertSettings } from '../../functions/src/alerts/index.js';
import { circuitsCollection, jobsCollection } from '../../functions/src/queue/index.js';
import { checkHealth } from '../../functions/src/status/health.js';
import { TEST_CRON_KEY, serveEndpoints, testConfig, testContext, testFirebase } from '../helpers/firebase.js';
import { enqueueJob } from '../../functions/src/scheduler/jobs.js';

const fb = testFirebase('health-checks');
beforeEach(() => fb.clear());
after(() => fb.close());

const NOW = Date.now();
const MIN = 60_000;
const check = () => checkHealth(fb.db, testConfig(), NOW - 1000, NOW);

async function dueSince(minutesAgo: number, userId = `u${minutesAgo}`): Promise<void> {
  const { jobId } = await enqueueJob(fb.db, { userId, providerId: 'meta', jobType: 'manual-sync' });
  await jobsCollection(fb.db).doc(jobId).update({ runAfter: Timestamp.fromMillis(NOW - minutesAgo * MIN) });
}

describe('health: circuits and the queue', () => {
  it('healthy: nothing failed, nothing paused, no due job', async () => {
    const report = await check();
    assert.equal(report.status, 'healthy');
    assert.deepEqual(report.failed, []);
    assert.deepEqual(report.checks.circuits.paused, []);
    assert.deepEqual([report.checks.queue.ok, report.checks.queue.oldestDueAgeMs, report.checks.queue.overdue, report.checks.queue.limitMinutes], [true, null, 0, 60]);
  });

  it('reports the age of the oldest due job, and is unhealthy once due jobs wait past the backlog limit (the admins\' setting)', async () => {
    await dueSince(10);
    const waiting = await check();
    assert.equal(waiting.status, 'healthy');
    assert.equal(waiting.checks.queue.oldestDueAgeMs, 10 * MIN);

    await dueSince(125);
    await dueSince(61);
    const stuck = await check();
    assert.equal(stuck.status, 'unhealthy');
    assert.deepEqual(stuck.failed, ['queue: 2 due job(s) waited more than 60 minutes; the oldest 125 minutes']);
    assert.deepEqual([stuck.checks.queue.ok, stuck.checks.queue.oldestDueAgeMs, stuck.checks.queue.overdue], [false, 125 * MIN, 2]);

    await saveAlertSettings(fb.db, { throttleMinutes: null, backlogMinutes: 180, overrides: [] }, 'admin@example.com');
    const relaxed = await check();
    assert.deepEqual([relaxed.status, relaxed.checks.queue.limitMinutes], ['healthy', 180]);
  });

  it('a circuit opened by failures is unhealthy; a platform\'s rate-limit pause is listed and healthy; no error text is shown', async () => {
    const until = Timestamp.fromMillis(NOW + 10 * MIN);
    await circuitsCollection(fb.db).doc('linkedin').set({ consecutiveFailures: 0, openUntil: until, lastError: 'LinkedIn APPLICATION DAY limit', pausedBy: 'rate-limit' });
    const limited = await check();
    assert.equal(limited.status, 'healthy');
    assert.deepEqual(limited.checks.circuits.paused, [{ providerId: 'linkedin', until: until.toDate().toISOString(), reason: 'rate-limit' }]);

    await circuitsCollection(fb.db).doc('google').set({ consecutiveFailures: 5, openUntil: until, lastError: 'Google Ads answered 503 for customer 1234567890' });
    const broken = await check();
    assert.equal(broken.status, 'unhealthy');
    assert.deepEqual(broken.failed, [`circuits: Google Ads is paused after repeated failures until ${until.toDate().toISOString()}`]);
    assert.doesNotMatch(JSON.stringify(broken), /1234567890|APPLICATION DAY/);
  });

  it('the endpoint answers 503 with what failed, and never a secret', async () => {
    await dueSince(90);
    const server = await serveEndpoints(testContext(fb));
    try {
      const response = await fetch(`${server.url}/health`);
      const text = await response.text();
      assert.equal(response.status, 503);
      const { failed } = JSON.parse(text) as { failed: string[] };
      // The endpoint runs on the real clock: 90 minutes after the job was due, or a minute more by now.
      assert.equal(failed.length, 1);
      assert.match(failed[0]!, /^queue: 1 due job\(s\) waited more than 60 minutes; the oldest 9[01] minutes$/);
      assert.ok(!text.includes(TEST_CRON_KEY));
    } finally {
      await server.close();
    }
  });
});
