import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../functions/src/config/index.js';
import { maxRunMinutesProblem } from '../../functions/src/config/limits.js';

const SECRET = 'a-long-enough-cron-secret-value-0123456789';
const config = (env: Record<string, string>) => loadConfig({ INTEGRATIONS_CRON_SECRET: SECRET, ...env });

describe('unsafe queue settings are named together at startup', () => {
  it('the defaults fit together', () => {
    assert.deepEqual(config({}).unsafeQueueSettings, []);
    assert.deepEqual(config({}).problems, []);
  });

  it('a job timeout above the worker budget (the worker would silently claim nothing)', () => {
    const c = config({ JOB_TIMEOUT_MS: '600000', WORKER_BUDGET_MS: '480000' });
    assert.equal(c.unsafeQueueSettings.length, 1);
    assert.match(c.unsafeQueueSettings[0]!, /^JOB_TIMEOUT_MS \(600 s\) must not exceed WORKER_BUDGET_MS \(480 s\)/);
    assert.ok(c.problems.includes(c.unsafeQueueSettings[0]!), 'health reports it too');
  });

  it('a budget above the worker function\'s timeout (it would be killed mid-job)', () => {
    const c = config({ WORKER_BUDGET_MS: '600000' });
    assert.match(c.unsafeQueueSettings.join('\n'), /^WORKER_BUDGET_MS \(600 s\) must be at most 510 s: the worker function times out after 540 s/m);
  });

  it('a lease longer than reset_stale_jobs\' default limit (live jobs would be reset and run twice)', () => {
    const c = config({ JOB_TIMEOUT_MS: '1800000', WORKER_BUDGET_MS: '500000' });
    assert.match(c.unsafeQueueSettings.join('\n'), /JOB_TIMEOUT_MS plus JOB_LEASE_MARGIN_MS \(1860 s\) must fit within reset_stale_jobs' default maxRunMinutes \(30\)/);
  });

  it('a maxRunMinutes shorter than a job\'s lease is refused, naming the settings it must fit', () => {
    const q = config({}).queue;
    assert.match(maxRunMinutesProblem(1, q) ?? '', /^must be at least 3 \(JOB_TIMEOUT_MS plus JOB_LEASE_MARGIN_MS is 180 s\)/);
    assert.equal(maxRunMinutesProblem(3, q), null);
    assert.equal(maxRunMinutesProblem(30, q), null);
  });
});
