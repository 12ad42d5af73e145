import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RateLimitedError, formatWait } from '../../functions/src/providers/errors.js';
import type { PlatformResponse } from '../../functions/src/providers/http.js';
import { checkLinkedInResponse } from '../../functions/src/providers/linkedin.js';
import { nextUtcMidnight } from '../../functions/src/providers/limitSignals.js';

const res = (status: number, body: unknown, headers: Record<string, string> = {}): PlatformResponse => ({ status, body, headers: new Headers(headers) });
const caught = (run: () => void): unknown => {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
};

describe('providers: rate-limit waits', () => {
  it('words a wait for a person, never as 0 s', () => {
    assert.equal(formatWait(0), '1 s');
    assert.equal(formatWait(400), '1 s');
    assert.equal(formatWait(60_000), '60 s');
    assert.equal(formatWait(180_000), '3 min');
    assert.equal(formatWait(3 * 3_600_000 + 61_000), '3 h 2 min');
    assert.equal(formatWait(2 * 3_600_000), '2 h');
  });

  it('midnight UTC follows any moment of the day, and midnight itself', () => {
    assert.equal(nextUtcMidnight(Date.parse('2026-11-25T13:15:00Z')), Date.parse('2026-11-26T00:00:00Z'));
    assert.equal(nextUtcMidnight(Date.parse('2026-12-31T23:59:59.999Z')), Date.parse('2027-01-01T00:00:00Z'));
    assert.equal(nextUtcMidnight(Date.parse('2026-11-26T00:00:00Z')), Date.parse('2026-11-27T00:00:00Z'));
  });

  it("LinkedIn: a DAY limit waits for midnight UTC, for the whole app or for one member", () => {
    const app = caught(() => checkLinkedInResponse(res(429, { status: 429, message: 'Resource level throttle APPLICATION DAY limit for calls to this resource is reached.' })));
    assert.ok(app instanceof RateLimitedError);
    assert.equal(app.scope, 'platform');
    assert.equal(app.resumeAt % 86_400_000, 0);
    assert.ok(app.resumeAt > Date.now() && app.resumeAt <= Date.now() + 86_400_000);
    assert.match(app.message, /LinkedIn Ads daily request limit reached \(it resets at midnight UTC\); retry in /);
    const member = caught(() => checkLinkedInResponse(res(429, { status: 429, message: 'Resource level throttle MEMBER DAY limit for calls to this resource is reached.' })));
    assert.ok(member instanceof RateLimitedError);
    assert.equal(member.scope, 'connection');
    const short = caught(() => checkLinkedInResponse(res(429, { status: 429, message: 'Too many requests' })));
    assert.ok(short instanceof RateLimitedError);
    assert.equal(short.scope, 'request');
    assert.equal(short.retryAfterMs, 0, "the client's floor applies");
  });
});
