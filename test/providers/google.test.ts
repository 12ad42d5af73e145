import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createConnectors } from '../../functions/src/providers/index.js';
import { campaignDailyQuery } from '../../functions/src/providers/google.js';
import { expectedRows } from '../../scripts/sandbox/server.js';
import { ACCOUNTS, count, days, sortRows, useTestBed, TEST_PAGING } from './helpers.js';

const { input, id } = ACCOUNTS.google;

describe('Google Ads connector', () => {
  const bed = useTestBed('google');

  const search = (query: string, headers: Record<string, string> = {}) =>
    fetch(`${bed.sandbox.baseUrls.google.apiBaseUrl}/v23/customers/${id}/googleAds:searchStream`, {
      method: 'POST',
      headers: { authorization: 'Bearer t', 'developer-token': 'd', 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query }),
    });

  it('reads a window streamed in several batches from one request', async () => {
    const window = days('2025-01-01', 30);
    const raw = (await (await search(campaignDailyQuery(window))).json()) as Array<{ results?: unknown[] }>;
    const expected = expectedRows('google', id, 'campaign-daily', window);
    assert.equal(raw.length, Math.ceil(expected.length / TEST_PAGING.googleBatchSize));

    bed.sandbox.resetStats();
    const result = await bed.connectors
      .get('google')
      .fetchReport('campaign-daily', { account: input, credentials: { ...bed.sandbox.issueCredentials('google') }, window });
    assert.deepStrictEqual(sortRows(result.rows), sortRows(expected));
    assert.equal(count(bed.sandbox, 'google'), 1);
  });

  it('the sandbox refuses malformed GAQL the way Google does', async () => {
    const res = await search("SELECT campaign.id, metrics.bogus FROM campaign WHERE segments.date BETWEEN '2025-01-01' AND '2025-01-02'");
    assert.equal(res.status, 400);
    const body = (await res.json()) as Array<{ error: { status: string; details: Array<{ errors: Array<{ errorCode: Record<string, string> }> }> } }>;
    assert.equal(body[0]?.error.status, 'INVALID_ARGUMENT');
    assert.equal(body[0]?.error.details[0]?.errors[0]?.errorCode.queryError, 'UNRECOGNIZED_FIELD');
    const noRange = await search('SELECT campaign.id, segments.date FROM campaign');
    assert.equal(noRange.status, 400);
  });

  it('sends login-customer-id when it goes through a manager account', async () => {
    const connectors = createConnectors({
      google: { ...bed.sandbox.baseUrls.google, developerToken: 'd', clientId: 'c', clientSecret: 's', loginCustomerId: '999-888-7777' },
    });
    const window = days('2025-01-01', 2);
    const result = await connectors.get('google').fetchReport('campaign-daily', { account: input, credentials: { ...bed.sandbox.issueCredentials('google') }, window });
    assert.equal(result.rows.length, expectedRows('google', id, 'campaign-daily', window).length);
    const [sent] = bed.sandbox.requests('google').log;
    assert.equal(count(bed.sandbox, 'google'), 1);
    assert.equal(sent!.headers['login-customer-id'], '9998887777', 'the manager id, digits only');

    // Direct access (the test bed's connector has no manager account) sends no such header.
    bed.sandbox.resetStats();
    await bed.connectors.get('google').fetchReport('campaign-daily', { account: input, credentials: { ...bed.sandbox.issueCredentials('google') }, window });
    assert.equal(bed.sandbox.requests('google').log[0]!.headers['login-customer-id'], undefined);
  });

  it('refuses a customer id that is not 10 digits before sending anything', async () => {
    await assert.rejects(
      bed.connectors.get('google').fetchReport('campaign-daily', {
        account: '12345',
        credentials: { ...bed.sandbox.issueCredentials('google') },
        window: days('2025-01-01', 2),
      }),
      /customer id must be 10 digits/,
    );
    assert.equal(count(bed.sandbox, 'google'), 0);
  });
});
