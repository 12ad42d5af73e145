import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDuration, parseMetaUsage, parseRetryAfter } from '../../functions/src/providers/limitSignals.js';

describe('providers/limitSignals', () => {
  it('reads Retry-After as seconds or as an HTTP date', () => {
    assert.equal(parseRetryAfter('37'), 37_000);
    assert.equal(parseRetryAfter('0.5'), 500);
    const now = Date.parse('2025-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:10 GMT', now), 10_000);
    assert.equal(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', now), 0, 'a date in the past means now');
    assert.equal(parseRetryAfter(null), null);
    assert.equal(parseRetryAfter('soon'), null);
  });

  it("reads Google's retryDelay durations", () => {
    assert.equal(parseDuration('37s'), 37_000);
    assert.equal(parseDuration('0.250s'), 250);
    assert.equal(parseDuration('37'), null);
    assert.equal(parseDuration(undefined), null);
  });

  it("takes the highest of Meta's usage percentages and the longest wait it estimates, the app's apart from the account's", () => {
    const headers = new Headers({
      'x-app-usage': JSON.stringify({ call_count: 12, total_time: 40, total_cputime: 3 }),
      'x-ad-account-usage': JSON.stringify({ acc_id_util_pct: 70, reset_time_duration: 90 }),
      'x-business-use-case-usage': JSON.stringify({
        '123': [{ type: 'ads_insights', call_count: 96, total_cputime: 20, total_time: 30, estimated_time_to_regain_access: 3 }],
      }),
    });
    assert.deepStrictEqual(parseMetaUsage(headers), { maxPct: 96, waitMs: 180_000, app: { maxPct: 40, waitMs: 0 }, account: { maxPct: 96, waitMs: 180_000 } });
  });

  it("tolerates missing or malformed Meta headers", () => {
    assert.equal(parseMetaUsage(new Headers()), null);
    assert.deepStrictEqual(parseMetaUsage(new Headers({ 'x-app-usage': 'not json', 'x-ad-account-usage': '{"acc_id_util_pct": 5}' })), {
      maxPct: 5,
      waitMs: 0,
      app: { maxPct: 0, waitMs: 0 },
      account: { maxPct: 5, waitMs: 0 },
    });
  });
});
