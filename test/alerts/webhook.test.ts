import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Timestamp } from 'firebase-admin/firestore';
import { evaluateAlerts, type Observation } from '../../functions/src/alerts/index.js';
import type { AppContext } from '../../functions/src/context.js';
import { PermanentJobError, circuitsCollection, jobsCollection, type HandlerRegistry } from '../../functions/src/queue/index.js';
import { runCronOperation, runWorkerCall } from '../../functions/src/scheduler/operations.js';
import { ALERT_STATES_PATH, RECONNECT_REASON, alertStateSchema, type ProviderId } from '../../functions/src/schema/index.js';
import { ADMIN_EMAIL, dumpDatabase, changedPaths, idTokenFor, testConfig, testContext, testFirebase, type TestServer } from '../helpers/firebase.js';
import { serveHub } from '../helpers/hub.js';
import { allJobs } from '../helpers/queue.js';
import { seedIntegrations } from '../helpers/seed.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook.js';
import { enqueueJob } from '../../functions/src/scheduler/jobs.js';

const fb = testFirebase('alerts-webhook');
const HUB = 'https://ads-hub.example';
let receiver: WebhookReceiver;
/** Jobs of these platforms fail (for good when out of attempts); `reconnect` ones as a revoked grant would. */
const failing = new Set<string>();
const handlers: HandlerRegistry = {
  'manual-sync': async ({ job }) => {
    if (failing.has(`${job.providerId}:reconnect`)) throw new PermanentJobError('Meta Ads access was revoked: reconnect Meta Ads.', RECONNECT_REASON);
    if (failing.has(job.providerId ?? '')) throw new PermanentJobError(`${job.providerId} answered 400`);
  },
};
let ctx: AppContext;

before(async () => {
  receiver = await startWebhookReceiver();
  ctx = testContext(fb, {
    handlers,
    config: testConfig({ SCHEDULER_ALERT_WEBHOOK_URL: receiver.url, ADS_HUB_URL: HUB, SCHEDULER_ALERT_TIMEOUT_MS: '500' }),
  });
});
beforeEach(async () => {
  await fb.clear();
  receiver.reset();
  failing.clear();
});
after(async () => {
  await receiver.close();
  await fb.close();
});

async function enqueue(providerId: ProviderId, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    ids.push((await enqueueJob(fb.db, { userId: `${providerId}-user-${i}`, providerId, jobType: 'manual-sync' }, 1)).jobId);
  }
  return ids;
}

const work = () => runWorkerCall(ctx, { maxJobs: 50 }, 'worker');
const state = async (key: string) => alertStateSchema.parse((await fb.db.collection(ALERT_STATES_PATH).doc(key).get()).data());
const button = { type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open the Ads Hub admin view' }, url: `${HUB}/admin` }] };

describe('alerts from worker runs, over HTTP to a webhook', () => {
  it('failures at the threshold: exact Slack payloads; the next clean run posts one "resolved" per alert', async () => {
    failing.add('meta');
    const ids = await enqueue('meta', 3);
    await work();
    const jobs = await allJobs(fb.db);
    const errorOf = (id: string) => jobs.find((j) => j.id === id)!.lastError!;
    assert.deepEqual(receiver.headers().sort(), ['Alert: Jobs failed for good, Meta Ads', 'Alert: Jobs failing, Meta Ads']);
    const failures = receiver.received.find((p) => p.text.startsWith('Ads Hub Sync alert: Jobs failing'))!;
    const since = (failures.blocks[3] as { elements: { text: string }[] }).elements[0]!.text;
    assert.match(since, /^Since \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    const examples = ids
      .map((id) => `• job ${id}: ${errorOf(id).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}`)
      .sort();
    const shown = (failures.blocks[2] as { text: { text: string } }).text.text.split('\n').sort();
    assert.deepEqual(shown, examples);
    assert.deepEqual({ ...failures, blocks: failures.blocks.filter((_, i) => i !== 2) }, {
      text: 'Ads Hub Sync alert: Jobs failing, Meta Ads: 3 Meta Ads jobs of 3 failed in one worker run (run_jobs).',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'Alert: Jobs failing, Meta Ads' } },
        {
          type: 'section',
          text: { type: 'mrkdwn', text: '3 Meta Ads jobs of 3 failed in one worker run (run_jobs).' },
          fields: [
            { type: 'mrkdwn', text: '*Platform*\nMeta Ads' },
            { type: 'mrkdwn', text: '*Count*\n3' },
            { type: 'mrkdwn', text: '*Threshold*\n3' },
          ],
        },
        { type: 'context', elements: [{ type: 'mrkdwn', text: since }] },
        button,
      ],
    });

    receiver.reset();
    failing.clear();
    await enqueue('meta', 2);
    await work();
    assert.deepEqual(receiver.headers().sort(), ['Resolved: Jobs failed for good, Meta Ads', 'Resolved: Jobs failing, Meta Ads']);
    assert.deepEqual(receiver.received.find((p) => p.text.includes('Jobs failing'))!.blocks[1], {
      type: 'section',
      text: { type: 'mrkdwn', text: 'No longer applies: 3 Meta Ads jobs of 3 failed in one worker run (run_jobs).' },
    });
    receiver.reset();
    await enqueue('meta', 1);
    await work();
    assert.deepEqual(receiver.received, [], 'resolved once only');
    assert.deepEqual([(await state('run-failures:meta')).open, (await state('run-failures:meta')).expireAt !== null], [false, true]);
  });

  it('below the threshold nothing is posted; a revoked grant raises the reconnect alert', async () => {
    failing.add('google');
    await enqueue('google', 2);
    failing.add('meta:reconnect');
    await enqueue('meta', 1);
    await work();
    assert.deepEqual(receiver.headers().sort(), [
      'Alert: Integrations need a reconnect, Meta Ads',
      'Alert: Jobs failed for good, Google Ads',
      'Alert: Jobs failed for good, Meta Ads',
    ]);
    const reconnect = receiver.received.find((p) => p.text.includes('reconnect'))!;
    assert.equal(reconnect.text, 'Ads Hub Sync alert: Integrations need a reconnect, Meta Ads: 1 Meta Ads integration moved to error in one worker run (run_jobs): their users must reconnect Meta Ads.');
  });
});

describe('thresholds and overrides set by an admin', () => {
  let hub: TestServer;
  before(async () => {
    hub = await serveHub(ctx);
  });
  after(() => hub.close());

  const settings = async (token: string, body?: unknown) => {
    const response = await fetch(`${hub.url}/admin/alertSettings`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('an override per platform and kind changes what alerts; muted is silent; bad input changes nothing', async () => {
    const admin = await idTokenFor(fb, { email: ADMIN_EMAIL });
    const user = await idTokenFor(fb, { email: 'someone@example.com' });
    const saved = await settings(admin.token, {
      throttleMinutes: 30,
      overrides: [
        { kind: 'run-failures', providerId: 'meta', threshold: 2 },
        { kind: 'job-failed', providerId: null, threshold: 1, muted: true },
        { kind: null, providerId: 'tiktok', threshold: 4 },
      ],
    });
    assert.equal(saved.status, 200);
    const effective = saved.body.effective as { kind: string; providerId: string | null; threshold: number; muted: boolean }[];
    assert.deepEqual(
      effective.filter((e) => e.providerId === 'meta' || e.providerId === 'tiktok').filter((e) => e.kind === 'run-failures' || e.kind === 'job-failed'),
      [
        { kind: 'run-failures', providerId: 'meta', threshold: 2, muted: false },
        { kind: 'run-failures', providerId: 'tiktok', threshold: 4, muted: false },
        { kind: 'job-failed', providerId: 'meta', threshold: 1, muted: true },
        { kind: 'job-failed', providerId: 'tiktok', threshold: 1, muted: true },
      ],
    );
    assert.deepEqual(saved.body.defaults, { failureThreshold: 3, throttleMinutes: 60, backlogMinutes: 60, webhookConfigured: true });

    const before = await dumpDatabase(fb);
    for (const [token, body, status, field] of [
      [admin.token, { overrides: [{ kind: 'everything', providerId: null, threshold: 1 }] }, 400, 'overrides.0.kind'],
      [admin.token, { overrides: [{ kind: 'backlog', providerId: null, threshold: 0 }] }, 400, 'overrides.0.threshold'],
      [admin.token, { throttleMinutes: 30, surprise: true }, 400, 'surprise'],
      [user.token, { throttleMinutes: 1 }, 403, undefined],
      ['not-a-token', { throttleMinutes: 1 }, 401, 'authorization'],
    ] as const) {
      const refused = await settings(token, body);
      assert.equal(refused.status, status, JSON.stringify(refused.body));
      assert.equal(refused.body.field, field);
    }
    assert.deepEqual(changedPaths(before, await dumpDatabase(fb)), []);

    failing.add('meta').add('tiktok');
    await enqueue('meta', 2);
    await enqueue('tiktok', 3);
    await work();
    assert.deepEqual(receiver.headers(), ['Alert: Jobs failing, Meta Ads'], 'meta at its 2; tiktok under its 4; failures for good muted');
    assert.equal((await settings(admin.token)).status, 200);
  });
});

describe('throttle, delivery and retries (the clock given)', () => {
  const T0 = Date.parse('2026-03-02T10:00:00Z');
  const MIN = 60_000;
  const rt = (now: number) => ({ db: fb.db, config: ctx.config.alerts, now: () => now });
  const backlog = (count: number): Observation => ({ kind: 'backlog', providerId: null, count, summary: `${count} due jobs have waited more than 60 minutes.`, details: [] });

  it('one message per key and window, even from runs at the same moment; the next says how many were suppressed', async () => {
    const reports = await Promise.all([1, 2, 3, 4, 5].map(() => evaluateAlerts(rt(T0), [backlog(4)])));
    assert.equal(receiver.received.length, 1);
    assert.equal(reports.reduce((n, r) => n + r.delivered, 0), 1);
    await evaluateAlerts(rt(T0 + 30 * MIN), [backlog(5)]);
    assert.equal(receiver.received.length, 1, 'inside the window');
    await evaluateAlerts(rt(T0 + 61 * MIN), [backlog(6)]);
    assert.deepEqual(receiver.received.map((p) => p.text), [
      'Ads Hub Sync alert: Queue backlog, the queue: 4 due jobs have waited more than 60 minutes.',
      'Ads Hub Sync alert: Queue backlog, the queue: 6 due jobs have waited more than 60 minutes. (5 similar suppressed)',
    ]);
  });

  it('a failed delivery stays, is retried after its backoff, and only then starts the throttle', async () => {
    receiver.answers = [500];
    const first = await evaluateAlerts(rt(T0), [backlog(2)]);
    assert.deepEqual([first.delivered, first.failed], [0, 1]);
    const waiting = await state('backlog');
    assert.deepEqual([waiting.lastDeliveredAt, waiting.outbox.length, waiting.outbox[0]!.attempts, waiting.outbox[0]!.nextAttemptAt], [null, 1, 1, T0 + MIN]);
    await evaluateAlerts(rt(T0 + 30_000), []);
    assert.equal(receiver.received.length, 1, 'not before its backoff');
    const retried = await evaluateAlerts(rt(T0 + MIN), []);
    assert.deepEqual([retried.delivered, receiver.received.length], [1, 2]);
    assert.equal(receiver.received[1]!.text, receiver.received[0]!.text);
    const delivered = await state('backlog');
    assert.deepEqual([delivered.lastDeliveredAt, delivered.outbox.length], [T0 + MIN, 0]);
    await evaluateAlerts(rt(T0 + 30 * MIN), [backlog(3)]);
    assert.equal(receiver.received.length, 2, 'throttled from the delivery');
  });

  it('a slow or unreachable webhook costs a run at most the timeout, fails nothing, and the message waits', { timeout: 30_000 }, async () => {
    receiver.hang = true;
    const slow = await evaluateAlerts(rt(T0), [backlog(2)]);
    assert.deepEqual([slow.delivered, slow.failed], [0, 1]);
    assert.equal(receiver.received.length, 1, 'the webhook got it but never answered');
    const down = await evaluateAlerts({ db: fb.db, config: { ...ctx.config.alerts, webhookUrl: 'http://127.0.0.1:9/hook' }, now: () => T0 + 2 * MIN }, []);
    assert.deepEqual([down.delivered, down.failed], [0, 1]);
    const waiting = await state('backlog');
    assert.deepEqual([waiting.outbox.length, waiting.outbox[0]!.attempts], [1, 2]);
    receiver.hang = false;
    assert.equal((await evaluateAlerts(rt(T0 + 10 * MIN), [])).delivered, 1);
  });
});

describe('the queue checks in reset_stale_jobs', () => {
  it('backlog, stale data, an open circuit and stale jobs alert; each resolves once fixed', async () => {
    const hours = (h: number) => Timestamp.fromMillis(Date.now() - h * 3_600_000);
    const [waiting] = await enqueue('linkedin', 1);
    await jobsCollection(fb.db).doc(waiting!).update({ runAfter: hours(2) });
    const [dead] = await enqueue('google', 1);
    await jobsCollection(fb.db).doc(dead!).update({ status: 'running', attempts: 0, startedAt: hours(1), lease: { workerId: 'gone', expiresAt: hours(1) } });
    await seedIntegrations(fb.db, [
      { userId: 'stale-user', providerId: 'meta', cadence: 'daily' },
      { userId: 'fresh-user', providerId: 'meta', cadence: 'daily' },
      { userId: 'hourly-user', providerId: 'tiktok', cadence: 'hourly' },
    ]);
    await fb.db.doc('users/stale-user/integrations/meta').update({ lastSyncedAt: hours(49) });
    await fb.db.doc('users/fresh-user/integrations/meta').update({ lastSyncedAt: hours(47) });
    await fb.db.doc('users/hourly-user/integrations/tiktok').update({ lastSyncedAt: hours(1) });
    await circuitsCollection(fb.db).doc('google').set({ consecutiveFailures: 5, openUntil: Timestamp.fromMillis(Date.now() + 600_000), lastError: 'Google Ads answered 503' });
    await circuitsCollection(fb.db).doc('linkedin').set({ consecutiveFailures: 0, openUntil: Timestamp.fromMillis(Date.now() + 600_000), pausedBy: 'rate-limit' });

    await runCronOperation(ctx, { operation: 'reset_stale_jobs', maxRunMinutes: 30 });
    // Each check raises once, and each is resolved once fixed.
    const checks = ['Data is stale, Meta Ads', 'Platform paused (circuit open), Google Ads', 'Queue backlog, the queue', 'Stale jobs reset, the queue'];
    assert.deepEqual(receiver.headers().sort(), checks.map((c) => `Alert: ${c}`));
    const stale = receiver.received.find((p) => p.text.includes('Data is stale'))!;
    assert.match(JSON.stringify(stale.blocks), /user stale-user: last successful sync \d{4}-\d\d-\d\d \d\d:\d\d UTC \(daily\)/);
    assert.doesNotMatch(JSON.stringify(stale.blocks), /fresh-user/);

    receiver.reset();
    await jobsCollection(fb.db).doc(waiting!).update({ runAfter: Timestamp.fromMillis(Date.now() + 600_000) });
    await fb.db.doc('users/stale-user/integrations/meta').update({ lastSyncedAt: Timestamp.now() });
    await circuitsCollection(fb.db).doc('google').set({ consecutiveFailures: 0, openUntil: null });
    await runCronOperation(ctx, { operation: 'reset_stale_jobs', maxRunMinutes: 30 });
    assert.deepEqual(receiver.headers().sort(), checks.map((c) => `Resolved: ${c}`));
  });
});
