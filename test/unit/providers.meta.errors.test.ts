import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PermanentError, TransientError } from '../../functions/src/providers/errors.js';
import type { PlatformResponse } from '../../functions/src/providers/http.js';
import { checkMetaResponse } from '../../functions/src/providers/meta.js';

const res = (status: number, error: Record<string, unknown>): PlatformResponse => ({ status, body: { error }, headers: new Headers() });
const REDUCE = "Please reduce the amount of data you're asking for, then retry your request";

describe("Meta: insights error codes (Meta's \"Ads Insights API Error Codes\")", () => {
  it('code 1 is a passing fault unless it asks for less data', () => {
    assert.throws(() => checkMetaResponse(res(500, { code: 1, message: 'An unknown error occurred', is_transient: true })), TransientError);
    assert.throws(() => checkMetaResponse(res(500, { code: 1, message: REDUCE })), (e: unknown) => e instanceof PermanentError && !(e instanceof TransientError));
  });

  it('code 2: intermittent errors are retried, invalid breakdowns and custom metrics are not', () => {
    assert.throws(() => checkMetaResponse(res(500, { code: 2, error_subcode: 1504043, message: 'Intermittent Error' })), TransientError);
    for (const subcode of [1504041, 1504042]) {
      assert.throws(() => checkMetaResponse(res(400, { code: 2, error_subcode: subcode, message: 'No data is available' })), (e: unknown) => e instanceof PermanentError && e.message.includes(String(subcode)));
    }
  });
});
