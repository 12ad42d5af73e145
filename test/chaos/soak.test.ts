import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FIRESTORE_HOST } from '../helpers/firebase.js';
import { runSoak } from '../../scripts/chaos/soak.js';

/**
 * The chaos soak at test size: 50 users x 4 platforms, five worker processes SIGKILLed while
 * they run jobs, Google down for the first seconds, 5 % 5xx, 429 bursts, 2 % revoked
 * tokens, duplicate scheduler deliveries and reset_stale_jobs alongside. The assertions are
 * the invariants; `npm run bench` measures the same soak at 1,000 users.
 */
describe('chaos soak', () => {
  it('keeps every promise under many faults at once', { timeout: 480_000 }, async () => {
    assert.ok(FIRESTORE_HOST);
    const { figures, violations } = await runSoak({
      users: 50,
      kills: 5,
      workers: 4,
      down: { provider: 'google', forMs: 10_000 },
      latencyMs: 20,
      lookbackDays: 2,
      env: {
        // Above the 10 s refresh lease, as in production (120 s): a run waiting for a killed refresher takes over.
        // And well above a run's wait at the platforms' request gates: a run that times out after a
        // revoked token's refusal is retried like any timeout, and would meet the refusal twice.
        JOB_TIMEOUT_MS: '30000',
        JOB_LEASE_MARGIN_MS: '2000',
        WORKER_BUDGET_MS: '40000',
        RETRY_BASE_MS: '500',
        RETRY_MAX_MS: '3000',
        JOB_MAX_ATTEMPTS: '10',
        CIRCUIT_FAILURE_THRESHOLD: '3',
        CIRCUIT_COOLDOWN_MS: '3000',
      },
      // Generous: a loaded machine slows the soak; the assertions are invariants, not timings.
      timeoutMs: 420_000,
      log: (line) => console.log(`[soak] ${line}`),
    });
    console.log(`[soak] ${JSON.stringify(figures)}`);
    assert.equal(violations.length, 0, `${violations.length} broken promises, first ones:\n${violations.slice(0, 30).join('\n')}`);
    assert.equal(figures.kills, 5, 'five workers were killed while running jobs');
    assert.ok(figures.resets >= 1, 'jobs of killed workers came back through reset_stale_jobs');
    assert.equal(figures.revoked, 4);
  });
});
