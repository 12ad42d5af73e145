import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { ProviderId } from '../../functions/src/providers/types.js';
import { PROVIDER_IDS } from '../../functions/src/schema/common.js';
import { metricRowId, metricRowSchema } from '../../functions/src/schema/metrics.js';
import { accountProfile, expectedRows } from '../../scripts/sandbox/server.js';
import { ACCOUNTS, count, countMatching, days, sortRows, startTestBed, TEST_PAGING } from './helpers.js';
import type { TestBed } from './helpers.js';

/** 45 days: several Meta pages, Google batches, LinkedIn slices and two TikTok 30-day slices. */
const WINDOW = days('2025-03-01', 45);

/** The requests a correct connector needs for WINDOW: the platforms' paging rules, worked out independently. */
function expectedRequests(provider: ProviderId): number {
  const { id } = ACCOUNTS[provider];
  const rows = expectedRows(provider, id, 'campaign-daily', WINDOW);
  switch (provider) {
    case 'meta':
      return Math.ceil(rows.length / TEST_PAGING.metaPageSize);
    case 'google':
      return 1;
    case 'linkedin': {
      const campaigns = accountProfile('linkedin', id).campaigns.length;
      const daysPerSlice = Math.floor(TEST_PAGING.linkedinMaxRows / campaigns);
      return 1 + Math.ceil(campaigns / TEST_PAGING.linkedinCampaignPage) + Math.ceil(45 / daysPerSlice);
    }
    case 'tiktok': {
      // The advertiser's currency (advertiser/info/, asked once per connection), then the report pages.
      const first = rows.filter((r) => r.date <= '2025-03-30').length;
      return 1 + Math.max(1, Math.ceil(first / TEST_PAGING.tiktokPageSize)) + Math.max(1, Math.ceil((rows.length - first) / TEST_PAGING.tiktokPageSize));
    }
  }
}

describe('connector contract (campaign-daily against the sandbox)', () => {
  let bed: TestBed;
  before(async () => {
    bed = await startTestBed();
  });
  after(async () => {
    await bed.sandbox.close();
  });
  beforeEach(() => bed.sandbox.resetStats());

  for (const provider of PROVIDER_IDS) {
    describe(provider, () => {
      const { input, id } = ACCOUNTS[provider];
      const credentials = () => ({ ...bed.sandbox.issueCredentials(provider) });

      it('returns every (campaign, date) row exactly once with the platform numbers', async () => {
        const result = await bed.connectors.get(provider).fetchReport('campaign-daily', { account: input, credentials: credentials(), window: WINDOW });
        const expected = expectedRows(provider, id, 'campaign-daily', WINDOW);
        assert.ok(expected.length > 100, 'the window should hold enough rows to page');
        assert.equal(result.rows.length, expected.length);
        assert.equal(new Set(result.rows.map(metricRowId)).size, result.rows.length, 'no duplicate (campaign, date)');
        assert.deepStrictEqual(sortRows(result.rows), sortRows(expected));
        for (const row of result.rows) metricRowSchema.parse(row);
        assert.equal(result.credentials, undefined, 'no refresh happened');
      });

      it('uses as few requests as the platform allows, and reports them as apiCalls', async () => {
        const result = await bed.connectors.get(provider).fetchReport('campaign-daily', { account: input, credentials: credentials(), window: WINDOW });
        assert.equal(result.apiCalls, count(bed.sandbox, provider));
        assert.equal(result.apiCalls, expectedRequests(provider));
      });

      it('normalizes types: integer counts, money as a number, ISO dates, bare ids', async () => {
        const { rows } = await bed.connectors.get(provider).fetchReport('campaign-daily', { account: input, credentials: credentials(), window: days('2025-03-10', 3) });
        assert.ok(rows.length > 0);
        for (const row of rows) {
          assert.equal(row.provider, provider);
          assert.equal(row.accountId, id);
          assert.ok(Number.isInteger(row.impressions) && Number.isInteger(row.clicks));
          assert.equal(typeof row.spend, 'number');
          assert.match(row.date, /^2025-03-1[0-2]$/);
          assert.match(row.campaignId, /^\d+$/);
          assert.ok(row.campaignName.length > 0);
          assert.ok(row.clicks <= row.impressions && row.conversions <= row.clicks);
          assert.match(row.currency, /^[A-Z]{3}$/);
        }
      });

      it('answers an empty window with no rows, not an error', async () => {
        const result = await bed.connectors.get(provider).fetchReport('campaign-daily', { account: input, credentials: credentials(), window: days('2019-06-01', 5) });
        assert.deepStrictEqual(result.rows, []);
        assert.equal(countMatching(bed.sandbox, provider, /token|accessToken/), 0);
      });
    });
  }
});
