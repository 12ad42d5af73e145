import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PermissionError, createConnectors } from '../../functions/src/providers/index.js';
import type { GoogleAdsConfig } from '../../functions/src/providers/index.js';
import { campaignDailyQuery } from '../../functions/src/providers/google.js';
import { expectedRows } from '../../scripts/sandbox/server.js';
import { ACCOUNTS, count, days, sortRows, useTestBed } from './helpers.js';

const { input, id } = ACCOUNTS.google;
const MANAGER = '9998887777';
const WINDOW = days('2025-01-01', 5);

describe('Google Ads connector: client accounts reached through a manager account', () => {
  const bed = useTestBed('google');
  const connector = (config: Partial<GoogleAdsConfig> = {}) =>
    createConnectors({ google: { ...bed.sandbox.baseUrls.google, developerToken: 'd', clientId: 'c', clientSecret: 's', ...config } }).get('google');
  const fetchReport = (config: Partial<GoogleAdsConfig>, loginCustomerId?: string | null) =>
    connector(config).fetchReport('campaign-daily', { account: input, credentials: { ...bed.sandbox.issueCredentials('google') }, window: WINDOW, loginCustomerId });
  const search = (headers: Record<string, string>) =>
    fetch(`${bed.sandbox.baseUrls.google.apiBaseUrl}/v23/customers/${id}/googleAds:searchStream`, {
      method: 'POST',
      headers: { authorization: 'Bearer t', 'developer-token': 'd', 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query: campaignDailyQuery(WINDOW) }),
    });

  it('the sandbox refuses a client account without its manager in login-customer-id, as the API does', async () => {
    bed.sandbox.setGoogleManagers({ [id]: MANAGER });
    try {
      for (const headers of [{}, { 'login-customer-id': '1112223333' }] as Array<Record<string, string>>) {
        const res = await search(headers);
        assert.equal(res.status, 403);
        const [failure] = (await res.json()) as Array<{ error: { status: string; details: Array<{ errors: Array<{ errorCode: Record<string, string>; message: string }> }> } }>;
        assert.equal(failure!.error.status, 'PERMISSION_DENIED');
        const error = failure!.error.details[0]!.errors[0]!;
        assert.deepEqual(error.errorCode, { authorizationError: 'USER_PERMISSION_DENIED' });
        assert.match(error.message, /the manager's customer id must be set in the 'login-customer-id' header/);
      }
      assert.equal((await search({ 'login-customer-id': MANAGER })).status, 200);
    } finally {
      bed.sandbox.setGoogleManagers({});
    }
  });

  it("sends the connection's manager, which wins over the deployment's", async () => {
    bed.sandbox.setGoogleManagers({ [id]: MANAGER });
    try {
      const result = await fetchReport({ loginCustomerId: '1112223333' }, MANAGER);
      assert.deepStrictEqual(sortRows(result.rows), sortRows(expectedRows('google', id, 'campaign-daily', WINDOW)));
      assert.equal(count(bed.sandbox, 'google'), 1);
    } finally {
      bed.sandbox.setGoogleManagers({});
    }
  });

  it("falls back to the deployment's manager when the connection names none", async () => {
    bed.sandbox.setGoogleManagers({ [id]: MANAGER });
    try {
      const result = await fetchReport({ loginCustomerId: MANAGER }, null);
      assert.equal(result.rows.length, expectedRows('google', id, 'campaign-daily', WINDOW).length);
    } finally {
      bed.sandbox.setGoogleManagers({});
    }
  });

  it('without any manager, a client account ends as PermissionError telling the user to pick the manager, after one request', async () => {
    bed.sandbox.setGoogleManagers({ [id]: MANAGER });
    try {
      await assert.rejects(fetchReport({}, null), (error: unknown) => {
        assert.ok(error instanceof PermissionError);
        assert.match(error.message, /reached through a manager account/);
        assert.match(error.message, /reconnect Google Ads/);
        return true;
      });
      assert.equal(count(bed.sandbox, 'google'), 1);
    } finally {
      bed.sandbox.setGoogleManagers({});
    }
  });
});
