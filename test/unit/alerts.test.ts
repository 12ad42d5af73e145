import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Timestamp } from 'firebase-admin/firestore';
import { alertKey, alertPolicy, effectiveThresholds, runObservations, thresholdFor } from '../../functions/src/alerts/rules.js';
import { slackPayload } from '../../functions/src/alerts/slack.js';
import { claimDue, observe, recordDeliveries, type AlertState, type Judged } from '../../functions/src/alerts/state.js';
import { alertSettingsBodySchema, type AlertMessage } from '../../functions/src/schema/index.js';
import { estimateFinish } from '../../functions/src/status/userStatus.js';

const DEFAULTS = { failureThreshold: 3, throttleMinutes: 60, backlogMinutes: 60 };
const policy = (body: unknown = {}) => alertPolicy(DEFAULTS, alertSettingsBodySchema.parse(body));

describe('alert thresholds', () => {
  it('default: SCHEDULER_ALERT_FAILURE_THRESHOLD for failures in a run, one occurrence for every other kind', () => {
    assert.deepEqual(thresholdFor(policy(), 'run-failures', 'meta'), { threshold: 3, muted: false });
    assert.deepEqual(thresholdFor(policy(), 'job-failed', 'meta'), { threshold: 1, muted: false });
    assert.deepEqual(thresholdFor(policy(), 'backlog', null), { threshold: 1, muted: false });
  });

  it('the most specific override wins: kind and platform, then kind, then platform', () => {
    const p = policy({
      overrides: [
        { kind: null, providerId: 'tiktok', threshold: 7 },
        { kind: 'run-failures', providerId: null, threshold: 5 },
        { kind: 'run-failures', providerId: 'tiktok', threshold: 10 },
        { kind: 'reconnect', providerId: 'linkedin', threshold: 1, muted: true },
      ],
    });
    assert.equal(thresholdFor(p, 'run-failures', 'tiktok').threshold, 10);
    assert.equal(thresholdFor(p, 'run-failures', 'meta').threshold, 5);
    assert.equal(thresholdFor(p, 'job-failed', 'tiktok').threshold, 7);
    assert.equal(thresholdFor(p, 'job-failed', 'meta').threshold, 1);
    assert.deepEqual(thresholdFor(p, 'reconnect', 'linkedin'), { threshold: 1, muted: true });
    assert.deepEqual(thresholdFor(p, 'reconnect', 'google'), { threshold: 1, muted: false });
    const effective = effectiveThresholds(p);
    assert.equal(effective.length, 6 * 4 + 2, 'each platform kind per platform, the queue kinds once');
    assert.deepEqual(effective.find((e) => e.kind === 'run-failures' && e.providerId === 'tiktok'), { kind: 'run-failures', providerId: 'tiktok', threshold: 10, muted: false });
  });

  it('settings refuse a repeated override, by its position', () => {
    const parsed = alertSettingsBodySchema.safeParse({ overrides: [{ kind: 'backlog', providerId: null, threshold: 2 }, { kind: 'backlog', providerId: null, threshold: 3 }] });
    assert.equal(parsed.success, false);
    assert.deepEqual(parsed.error?.issues[0]?.path, ['overrides', 1]);
  });
});

describe('what a worker run reports', () => {
  it('per platform it ran: failures (retried or for good), failures for good, reconnects; circuits it opened', () => {
    const observations = runObservations({
      source: 'worker',
      operation: 'run_jobs',
      circuitsOpened: ['meta'],
      jobs: [
        { id: 'm1', providerId: 'meta', result: 'retried', error: 'TransientError: 503' },
        { id: 'm2', providerId: 'meta', result: 'failed', error: 'PermanentJobError: revoked', reason: 'reconnect' },
        { id: 'm3', providerId: 'meta', result: 'succeeded' },
        { id: 'g1', providerId: 'google', result: 'succeeded' },
        { id: 'g2', providerId: 'google', result: 'deferred', error: 'rate limited' },
      ],
    });
    assert.deepEqual(
      observations.map((o) => [alertKey(o.kind, o.providerId), o.count]),
      [
        ['run-failures:meta', 2],
        ['job-failed:meta', 1],
        ['reconnect:meta', 1],
        ['run-failures:google', 0],
        ['job-failed:google', 0],
        ['reconnect:google', 0],
        ['circuit-open:meta', 1],
      ],
    );
    assert.equal(observations[0]!.summary, '2 Meta Ads jobs of 3 failed in one worker run (run_jobs).');
    assert.deepEqual(observations[0]!.details, ['job m1: TransientError: 503', 'job m2: PermanentJobError: revoked']);
  });

  it('an error quoted in an alert (Slack is a third party) carries no credential', () => {
    const [failures] = runObservations({
      source: 'worker',
      operation: 'run_jobs',
      circuitsOpened: [],
      jobs: [{ id: 'm1', providerId: 'meta', result: 'retried', error: 'fetch https://graph.facebook.com/v25.0/me?access_token=EAAB-secret failed; Authorization: Bearer ya29.secret' }],
    });
    assert.deepEqual(failures!.details, ['job m1: fetch https://graph.facebook.com/v25.0/me?access_token=<redacted> failed; Authorization: <redacted> <redacted>']);
  });
});

const T0 = Date.parse('2026-03-02T10:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
let ids = 0;
const newId = () => `m${++ids}`;

function judged(count: number, threshold = 3): Judged {
  return {
    key: 'run-failures:meta',
    kind: 'run-failures',
    providerId: 'meta',
    count,
    threshold,
    applies: count >= threshold,
    summary: `${count} Meta Ads jobs failed.`,
    details: [],
  };
}

/** What the webhook took: every message claimed now, delivered or not. */
function deliver(state: AlertState, now: number, ok: boolean): { state: AlertState; sent: AlertMessage[] } {
  const { state: claimed, claimed: sent } = claimDue(state, now, 'run', 33_000);
  return { state: recordDeliveries(claimed, sent.map((m) => ({ messageId: m.id, ok })), now).state, sent };
}

describe('one alert key over time', () => {
  it('below the threshold nothing is kept; at it one firing message waits for delivery', () => {
    assert.equal(observe(null, judged(2), T0, HOUR, newId), null);
    const state = observe(null, judged(3), T0, HOUR, newId)!;
    assert.equal(state.active, true);
    assert.equal(state.open, true);
    assert.equal(state.expireAt, null);
    assert.deepEqual(state.outbox.map((m) => [m.type, m.suppressed, m.since]), [['firing', 0, T0]]);
  });

  it('throttled per window: one message, the suppressed count in the next; the marker moves only on delivery', () => {
    let state = observe(null, judged(3), T0, HOUR, newId)!;
    state = observe(state, judged(4), T0 + MIN, HOUR, newId)!;
    assert.deepEqual(state.outbox.map((m) => [m.type, m.alert.count, m.suppressed]), [['firing', 4, 1]], 'not sent yet: one message, the newest content');
    state = deliver(state, T0 + 2 * MIN, true).state;
    assert.equal(state.lastDeliveredAt, T0 + 2 * MIN);
    for (let i = 3; i < 10; i++) state = observe(state, judged(3), T0 + i * MIN, HOUR, newId)!;
    assert.deepEqual([state.outbox.length, state.suppressed], [0, 7], 'inside the window: counted, not sent');
    state = observe(state, judged(5), T0 + 2 * MIN + HOUR, HOUR, newId)!;
    assert.deepEqual(state.outbox.map((m) => [m.type, m.alert.count, m.suppressed, m.since]), [['firing', 5, 7, T0]], 'the window has passed: sent again, with the count');
    assert.equal(state.suppressed, 0);
  });

  it('a failed delivery is retried with backoff, never swallowed by the throttle; a day-old one is dropped', () => {
    let state = observe(null, judged(3), T0, HOUR, newId)!;
    state = deliver(state, T0, false).state;
    assert.equal(state.lastDeliveredAt, null, 'no throttle marker without a delivery');
    assert.deepEqual(state.outbox.map((m) => [m.attempts, m.nextAttemptAt, m.claim]), [[1, T0 + MIN, null]]);
    assert.deepEqual(deliver(state, T0 + 30_000, true).sent, [], 'not due before its backoff');
    state = deliver(state, T0 + MIN, false).state;
    assert.equal(state.outbox[0]!.nextAttemptAt, T0 + MIN + 2 * MIN);
    state = observe(state, judged(6), T0 + 2 * MIN, HOUR, newId)!;
    assert.deepEqual(state.outbox.map((m) => [m.alert.count, m.suppressed]), [[6, 1]], 'a raise meanwhile updates the waiting message');
    const delivered = deliver(state, T0 + 3 * MIN, true);
    assert.equal(delivered.sent.length, 1);
    assert.equal(delivered.state.lastDeliveredAt, T0 + 3 * MIN);

    let old = observe(null, judged(3), T0, HOUR, newId)!;
    old = deliver(old, T0, false).state;
    const { claimed } = claimDue(old, T0 + 25 * HOUR, 'late', 33_000);
    const last = recordDeliveries(claimDue(old, T0 + 25 * HOUR, 'late', 33_000).state, claimed.map((m) => ({ messageId: m.id, ok: false })), T0 + 25 * HOUR);
    assert.deepEqual([last.dropped.length, last.state.outbox.length], [1, 0]);
  });

  it('one "resolved" when an announced episode ends; flapping inside the window stays quiet and is counted', () => {
    let state = deliver(observe(null, judged(3), T0, HOUR, newId)!, T0, true).state;
    state = observe(state, judged(0), T0 + 5 * MIN, HOUR, newId)!;
    assert.deepEqual(state.outbox.map((m) => [m.type, m.alert.count, m.since]), [['resolved', 3, T0]], 'resolved, about what fired');
    assert.equal(state.active, false);
    state = observe(state, judged(0), T0 + 6 * MIN, HOUR, newId)!;
    assert.equal(state.outbox.length, 1, 'only one');
    state = deliver(state, T0 + 6 * MIN, true).state;
    assert.equal(state.lastDeliveredAt, T0, 'a resolved message does not move the throttle');
    assert.equal(state.open, false);
    assert.equal(state.expireAt, T0 + 6 * MIN + 7 * 24 * HOUR, 'an idle state expires a week later');

    state = observe(state, judged(4), T0 + 10 * MIN, HOUR, newId)!;
    assert.deepEqual([state.active, state.announced, state.outbox.length, state.suppressed], [true, false, 0, 1], 'inside the window: counted');
    state = observe(state, judged(0), T0 + 11 * MIN, HOUR, newId)!;
    assert.deepEqual([state.active, state.outbox.length], [false, 0], 'never announced: ends without a resolved');
    state = observe(state, judged(3), T0 + 2 * HOUR, HOUR, newId)!;
    assert.deepEqual(state.outbox.map((m) => [m.type, m.suppressed]), [['firing', 1]]);
  });

  it('claims keep order and respect other runs: nothing goes ahead of a message that is not due or taken', () => {
    let state = observe(null, judged(3), T0, HOUR, newId)!;
    state = observe(state, judged(0), T0, HOUR, newId)!;
    const first = claimDue(state, T0, 'a', 33_000);
    assert.deepEqual(first.claimed.map((m) => m.type), ['firing', 'resolved']);
    assert.deepEqual(claimDue(first.state, T0 + 1_000, 'b', 33_000).claimed, [], 'taken by run a');
    assert.deepEqual(claimDue(first.state, T0 + 34_000, 'b', 33_000).claimed.length, 2, 'run a went away: its claim lapsed');
    const afterFailure = recordDeliveries(first.state, [{ messageId: first.claimed[0]!.id, ok: false }], T0).state;
    assert.deepEqual(claimDue(afterFailure, T0 + 1_000, 'c', 33_000).claimed, [], 'the resolved message waits behind the firing one');
  });
});

describe('the Slack message', () => {
  const alert = {
    kind: 'run-failures' as const,
    providerId: 'meta' as const,
    count: 4,
    threshold: 3,
    summary: '4 Meta Ads jobs of 9 failed in one worker run (run_jobs).',
    details: ['job j1: <script> & co'],
  };
  const message = (type: 'firing' | 'resolved', suppressed = 0): AlertMessage => ({
    id: 'x',
    type,
    alert,
    suppressed,
    since: T0,
    createdAt: T0,
    attempts: 0,
    nextAttemptAt: T0,
    claim: null,
  });

  it('firing: what happened, the platform, the counts, examples, suppressed alerts, and the admin view', () => {
    assert.deepEqual(slackPayload(message('firing', 2), { adminUrl: 'https://ads-hub.example/admin', now: T0 + HOUR }), {
      text: 'Ads Hub Sync alert: Jobs failing, Meta Ads: 4 Meta Ads jobs of 9 failed in one worker run (run_jobs). (2 similar suppressed)',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'Alert: Jobs failing, Meta Ads' } },
        {
          type: 'section',
          text: { type: 'mrkdwn', text: '4 Meta Ads jobs of 9 failed in one worker run (run_jobs).' },
          fields: [
            { type: 'mrkdwn', text: '*Platform*\nMeta Ads' },
            { type: 'mrkdwn', text: '*Count*\n4' },
            { type: 'mrkdwn', text: '*Threshold*\n3' },
          ],
        },
        { type: 'section', text: { type: 'mrkdwn', text: '• job j1: &lt;script&gt; &amp; co' } },
        {
          type: 'context',
          elements: [
            { type: 'mrkdwn', text: 'Since 2026-03-02 10:00 UTC' },
            { type: 'mrkdwn', text: '2 similar alerts suppressed since the last message' },
          ],
        },
        { type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open the Ads Hub admin view' }, url: 'https://ads-hub.example/admin' }] },
      ],
    });
  });

  it('resolved: what no longer applies, and since when', () => {
    const payload = slackPayload(message('resolved'), { adminUrl: null, now: T0 + HOUR });
    assert.deepEqual(payload, {
      text: 'Ads Hub Sync resolved: Jobs failing, Meta Ads: no longer applies.',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'Resolved: Jobs failing, Meta Ads' } },
        { type: 'section', text: { type: 'mrkdwn', text: 'No longer applies: 4 Meta Ads jobs of 9 failed in one worker run (run_jobs).' } },
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'Began 2026-03-02 10:00 UTC, resolved 2026-03-02 11:00 UTC' }] },
      ],
    });
  });
});

describe('estimateFinish', () => {
  it('projects the finish from the progress rate so far', () => {
    const startedAt = Timestamp.fromMillis(1_000_000);
    const eta = estimateFinish({ status: 'running', progress: { done: 2, total: 8 }, startedAt, payload: {} }, 1_000_000 + 60_000);
    assert.equal(eta?.getTime(), 1_000_000 + 240_000);
  });
  it('has no estimate before any progress or when not running', () => {
    const startedAt = Timestamp.fromMillis(0);
    assert.equal(estimateFinish({ status: 'running', progress: { done: 0, total: 8 }, startedAt, payload: {} }), null);
    assert.equal(estimateFinish({ status: 'succeeded', progress: { done: 2, total: 8 }, startedAt, payload: {} }), null);
  });
  it('counts from the first start of a job that continues over several runs', () => {
    const eta = estimateFinish(
      { status: 'queued', progress: { done: 4, total: 8 }, startedAt: Timestamp.fromMillis(9_000_000), payload: { firstStartedAt: 1_000_000 } },
      1_000_000 + 100_000,
    );
    assert.equal(eta?.getTime(), 1_000_000 + 200_000);
  });
});

