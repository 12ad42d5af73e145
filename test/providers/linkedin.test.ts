import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { adAnalyticsQuery } from '../../functions/src/providers/linkedin.js';
import { accountProfile, expectedRows } from '../../scripts/sandbox/server.js';
import { ACCOUNTS, count, days, sortRows, useTestBed, TEST_PAGING } from './helpers.js';

const { input, id } = ACCOUNTS.linkedin;
const HEADERS = { authorization: 'Bearer t', 'LinkedIn-Version': '202601', 'X-Restli-Protocol-Version': '2.0.0' };

describe('LinkedIn connector', () => {
  const bed = useTestBed('linkedin');

  const analytics = (queryString: string) => fetch(`${bed.sandbox.baseUrls.linkedin.apiBaseUrl}/rest/adAnalytics?${queryString}`, { headers: HEADERS });

  it('keeps campaigns x days per request under the cap over a long window', async () => {
    const window = days('2024-01-01', 200);
    const result = await bed.connectors
      .get('linkedin')
      .fetchReport('campaign-daily', { account: input, credentials: { ...bed.sandbox.issueCredentials('linkedin') }, window });
    assert.deepStrictEqual(sortRows(result.rows), sortRows(expectedRows('linkedin', id, 'campaign-daily', window)));
    const campaigns = accountProfile('linkedin', id).campaigns.length;
    const slices = Math.ceil(200 / Math.floor(TEST_PAGING.linkedinMaxRows / campaigns));
    assert.equal(count(bed.sandbox, 'linkedin', 'GET /rest/adAnalytics'), slices);
  });

  it('the sandbox refuses Rest.li syntax that arrived URL-encoded', async () => {
    const proper = adAnalyticsQuery(id, days('2025-01-01', 3));
    assert.equal((await analytics(proper)).status, 200);
    const escaped = new URLSearchParams(Object.fromEntries(proper.split('&').map((p) => p.split('=').map(decodeURIComponent)))).toString();
    const res = await analytics(escaped);
    assert.equal(res.status, 400);
    const body = (await res.json()) as { status: number; code: string; message: string };
    assert.equal(body.status, 400);
    assert.equal(body.code, 'ILLEGAL_ARGUMENT');
    assert.match(body.message, /URL-encoded/);
  });

  it('the sandbox refuses more than 20 fields', async () => {
    const fields = 'dateRange,pivotValues,impressions,clicks,costInLocalCurrency,costInUsd,externalWebsiteConversions,landingPageClicks,likes,shares,comments,follows,videoViews,oneClickLeads,totalEngagements,reactions,sends,opens,approximateMemberReach,conversionValueInLocalCurrency,externalWebsitePostClickConversions';
    const query = adAnalyticsQuery(id, days('2025-01-01', 3)).replace(/fields=[^&]*/, `fields=${fields}`);
    const res = await analytics(query);
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { message: string }).message, /at most 20/);
  });

  it('leaves out days without activity rather than sending zeros', async () => {
    const window = days('2025-01-01', 60);
    const { rows } = await bed.connectors
      .get('linkedin')
      .fetchReport('campaign-daily', { account: input, credentials: { ...bed.sandbox.issueCredentials('linkedin') }, window });
    const campaigns = accountProfile('linkedin', id).campaigns.length;
    assert.ok(rows.length < campaigns * 60, 'some campaign-days are dark');
    assert.ok(rows.every((r) => r.impressions > 0));
  });
});
