import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alertsFor } from '../../functions/src/alerts/index.js';
import { emptyCounts } from '../../functions/src/schema/index.js';
import { estimateFinish } from '../../functions/src/status/userStatus.js';
import { Timestamp } from 'firebase-admin/firestore';

describe('alertsFor', () => {
  const run = { source: 'worker', operation: 'run_jobs', circuitsOpened: [] as string[], permanentFailures: [] };
  it('stays quiet below the failure threshold', () => {
    assert.deepEqual(alertsFor({ ...run, counts: { ...emptyCounts(), failed: 2 } }, { failureThreshold: 3 }), []);
  });
  it('alerts at the threshold, on stale resets, permanent failures and opened circuits', () => {
    const alerts = alertsFor(
      {
        ...run,
        counts: { ...emptyCounts(), failed: 3, reset: 2 },
        circuitsOpened: ['meta'],
        permanentFailures: [{ jobId: 'j1', error: 'boom' }],
      },
      { failureThreshold: 3 },
    );
    assert.deepEqual(alerts.map((a) => a.key), ['failures:worker', 'permanent:j1', 'stale-reset', 'circuit:meta']);
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
