import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backfillChunks, lookbackWindow, todayIn } from '../../functions/src/sync/window.js';

const now = new Date('2026-11-23T03:30:00Z');

describe('sync windows', () => {
  it('today is the account timezone\'s date', () => {
    assert.equal(todayIn('UTC', now), '2026-11-23');
    assert.equal(todayIn('America/Los_Angeles', now), '2026-11-22');
    assert.equal(todayIn('Asia/Tokyo', new Date('2026-11-23T20:00:00Z')), '2026-11-24');
  });

  it('a lookback of N days ends today and holds N days', () => {
    assert.deepEqual(lookbackWindow(28, 'UTC', now), { start: '2026-10-27', end: '2026-11-23' });
    assert.deepEqual(lookbackWindow(1, 'America/Los_Angeles', now), { start: '2026-11-22', end: '2026-11-22' });
  });

  it('a backfill ends yesterday, is at most two years, and its chunks cover it exactly once', () => {
    const chunks = backfillChunks(5000, 90, 'UTC', now);
    assert.equal(chunks[0]!.start, '2024-11-23');
    assert.equal(chunks.at(-1)!.end, '2026-11-22');
    assert.equal(chunks.length, Math.ceil(730 / 90));
    for (let i = 1; i < chunks.length; i++) {
      const gap = (Date.parse(chunks[i]!.start) - Date.parse(chunks[i - 1]!.end)) / 86_400_000;
      assert.equal(gap, 1, 'no gap, no overlap');
    }
  });
});
