import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffBoundsMs, backoffDelayMs } from '../../functions/src/queue/backoff.js';

const policy = { baseMs: 60_000, maxMs: 3_600_000 };

describe('backoffDelayMs', () => {
  it('doubles per attempt with half of it jittered', () => {
    assert.deepEqual(backoffBoundsMs(1, policy), { min: 30_000, max: 60_000 });
    assert.deepEqual(backoffBoundsMs(2, policy), { min: 60_000, max: 120_000 });
    assert.deepEqual(backoffBoundsMs(3, policy), { min: 120_000, max: 240_000 });
  });

  it('is capped at maxMs', () => {
    assert.deepEqual(backoffBoundsMs(20, policy), { min: 1_800_000, max: 3_600_000 });
  });

  it('stays within its bounds for any random draw', () => {
    for (let attempt = 1; attempt <= 8; attempt++) {
      const { min, max } = backoffBoundsMs(attempt, policy);
      for (let i = 0; i < 200; i++) {
        const delay = backoffDelayMs(attempt, policy);
        assert.ok(delay >= min && delay <= max, `attempt ${attempt}: ${delay}`);
      }
    }
  });
});
