import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthExpiredError, PermanentError, PermissionError, RateLimitedError, TransientError } from '../../functions/src/providers/errors.js';
import { checkGoogleResponse } from '../../functions/src/providers/google.js';
import type { PlatformResponse } from '../../functions/src/providers/http.js';
import { checkLinkedInResponse } from '../../functions/src/providers/linkedin.js';
import { checkMetaResponse } from '../../functions/src/providers/meta.js';
import { checkTikTokResponse } from '../../functions/src/providers/tiktok.js';

const res = (status: number, body: unknown, headers: Record<string, string> = {}): PlatformResponse => ({ status, body, headers: new Headers(headers) });
const metaError = (code: number, subcode?: number) => ({ error: { message: 'm', type: 'OAuthException', code, error_subcode: subcode } });
const googleError = (code: number, status: string, errorCode: Record<string, string>, details: Record<string, unknown> = {}) => [
  { error: { code, message: 'm', status, details: [{ '@type': 'GoogleAdsFailure', errors: [{ errorCode, message: 'm', details }] }] } },
];

describe('providers: response classification', () => {
  it('Meta: error codes in HTTP 400 bodies', () => {
    assert.doesNotThrow(() => checkMetaResponse(res(200, { data: [] })));
    assert.throws(() => checkMetaResponse(res(400, metaError(190, 463))), (e: unknown) => e instanceof AuthExpiredError && /the token expired/.test(e.message) && /reconnect Meta Ads/.test(e.message));
    for (const code of [4, 17, 32, 613, 80000, 80004]) assert.throws(() => checkMetaResponse(res(400, metaError(code))), RateLimitedError);
    assert.throws(() => checkMetaResponse(res(400, metaError(200))), (e: unknown) => e instanceof PermissionError && e.permission === 'ads_read');
    assert.throws(() => checkMetaResponse(res(400, metaError(100))), PermanentError);
    assert.throws(() => checkMetaResponse(res(500, metaError(1))), TransientError);
    assert.throws(() => checkMetaResponse(res(502, '<html>')), TransientError);
  });

  it("Meta: a rate limit waits for the usage headers' estimate", () => {
    const headers = { 'x-business-use-case-usage': JSON.stringify({ '1': [{ type: 'ads_insights', call_count: 100, estimated_time_to_regain_access: 2 }] }) };
    assert.throws(() => checkMetaResponse(res(400, metaError(80000), headers)), (e: unknown) => e instanceof RateLimitedError && e.retryAfterMs === 120_000);
  });

  it('Google: status, error codes and retryDelay', () => {
    assert.doesNotThrow(() => checkGoogleResponse(res(200, [{ results: [] }])));
    assert.throws(() => checkGoogleResponse(res(401, googleError(401, 'UNAUTHENTICATED', { authenticationError: 'OAUTH_TOKEN_EXPIRED' }))), /OAUTH_TOKEN_EXPIRED/);
    assert.throws(
      () => checkGoogleResponse(res(429, googleError(429, 'RESOURCE_EXHAUSTED', { quotaError: 'RESOURCE_TEMPORARILY_EXHAUSTED' }, { quotaErrorDetails: { retryDelay: '37s' } }))),
      (e: unknown) => e instanceof RateLimitedError && e.retryAfterMs === 37_000,
    );
    assert.throws(() => checkGoogleResponse(res(429, {}, { 'retry-after': '5' })), (e: unknown) => e instanceof RateLimitedError && e.retryAfterMs === 5000);
    assert.throws(() => checkGoogleResponse(res(403, googleError(403, 'PERMISSION_DENIED', { authorizationError: 'DEVELOPER_TOKEN_NOT_APPROVED' }))), (e: unknown) => e instanceof PermissionError && /developer token/.test(e.permission));
    assert.throws(() => checkGoogleResponse(res(400, googleError(400, 'INVALID_ARGUMENT', { queryError: 'UNRECOGNIZED_FIELD' }))), PermanentError);
    assert.throws(() => checkGoogleResponse(res(503, googleError(503, 'UNAVAILABLE', {}))), TransientError);
    // An error inside an otherwise successful stream still counts.
    assert.throws(() => checkGoogleResponse(res(200, [{ results: [] }, ...googleError(500, 'INTERNAL', {})])), TransientError);
  });

  it('LinkedIn: HTTP statuses with Retry-After', () => {
    assert.doesNotThrow(() => checkLinkedInResponse(res(200, { elements: [] })));
    assert.throws(() => checkLinkedInResponse(res(401, { status: 401, message: 'expired' })), AuthExpiredError);
    assert.throws(() => checkLinkedInResponse(res(403, { status: 403, message: 'no' })), (e: unknown) => e instanceof PermissionError && e.permission === 'r_ads_reporting');
    assert.throws(() => checkLinkedInResponse(res(429, {}, { 'retry-after': '3' })), (e: unknown) => e instanceof RateLimitedError && e.retryAfterMs === 3000);
    assert.throws(() => checkLinkedInResponse(res(429, {})), (e: unknown) => e instanceof RateLimitedError && e.retryAfterMs === 0);
    assert.throws(() => checkLinkedInResponse(res(400, { status: 400, message: 'bad' })), /bad/);
    assert.throws(() => checkLinkedInResponse(res(504, {})), TransientError);
  });

  it('TikTok: codes inside HTTP 200', () => {
    const body = (code: number) => ({ code, message: 'm', request_id: 'r', data: {} });
    assert.doesNotThrow(() => checkTikTokResponse(res(200, body(0))));
    assert.throws(() => checkTikTokResponse(res(200, body(40100))), RateLimitedError);
    assert.throws(() => checkTikTokResponse(res(200, body(40105))), AuthExpiredError);
    assert.throws(() => checkTikTokResponse(res(200, body(40001))), PermissionError);
    assert.throws(() => checkTikTokResponse(res(200, body(40002))), PermanentError);
    assert.throws(() => checkTikTokResponse(res(200, body(50000))), TransientError);
    assert.throws(() => checkTikTokResponse(res(503, undefined)), TransientError);
  });
});
