import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDue, nextRunAfter } from '../../functions/src/scheduler/cadence.js';

const at = (iso: string) => new Date(iso);

describe('nextRunAfter', () => {
  it('snaps to the next boundary of each cadence', () => {
    const now = at('2026-11-25T13:07:00Z'); // a Wednesday
    assert.equal(nextRunAfter('hourly', now).toISOString(), '2026-11-25T14:00:00.000Z');
    assert.equal(nextRunAfter('every6h', now).toISOString(), '2026-11-25T18:00:00.000Z');
    assert.equal(nextRunAfter('daily', now).toISOString(), '2026-11-26T00:00:00.000Z');
    assert.equal(nextRunAfter('weekly', now).toISOString(), '2026-11-30T00:00:00.000Z');
  });

  it('a run that starts late does not drift the next one', () => {
    assert.equal(nextRunAfter('daily', at('2026-11-25T00:04:59Z')).toISOString(), '2026-11-26T00:00:00.000Z');
    assert.equal(nextRunAfter('hourly', at('2026-11-25T23:59:59Z')).toISOString(), '2026-11-26T00:00:00.000Z');
  });

  it('exactly on a boundary moves to the following one', () => {
    assert.equal(nextRunAfter('every6h', at('2026-11-25T06:00:00Z')).toISOString(), '2026-11-25T12:00:00.000Z');
  });
});

describe('isDue', () => {
  const now = at('2026-11-25T02:00:00Z');
  it('is due at or before now, and within two minutes of slack', () => {
    assert.equal(isDue(at('2026-11-25T01:00:00Z'), now), true);
    assert.equal(isDue(at('2026-11-25T02:01:30Z'), now), true);
    assert.equal(isDue(at('2026-11-25T02:03:00Z'), now), false);
    assert.equal(isDue(null, now), true);
  });
});
