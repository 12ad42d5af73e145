import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expectedRows } from '../../scripts/sandbox/server.js';
import { ACCOUNTS, count, days, REFRESH_PATHS, sortRows, useTestBed, TEST_PAGING } from './helpers.js';

const { input, id } = ACCOUNTS.tiktok;
const REPORT = 'GET /open_api/v1.3/report/integrated/get/';
const WINDOW = days('2024-06-01', 95);
/** 95 days as TikTok allows them: 30 + 30 + 30 + 5. */
const SLICES = [
  { start: '2024-06-01', end: '2024-06-30' },
  { start: '2024-07-01', end: '2024-07-30' },
  { start: '2024-07-31', end: '2024-08-29' },
  { start: '2024-08-30', end: '2024-09-03' },
];
const PAGES = SLICES.reduce((n, s) => n + Math.max(1, Math.ceil(expectedRows('tiktok', id, 'campaign-daily', s).length / TEST_PAGING.tiktokPageSize)), 0);

describe('TikTok connector', () => {
  const bed = useTestBed('tiktok');

  const report = (params: Record<string, string>) =>
    fetch(
      `${bed.sandbox.baseUrls.tiktok.apiBaseUrl}/open_api/v1.3/report/integrated/get/?${new URLSearchParams({
        advertiser_id: id,
        report_type: 'BASIC',
        data_level: 'AUCTION_CAMPAIGN',
        dimensions: '["campaign_id","stat_time_day"]',
        metrics: '["spend"]',
        ...params,
      }).toString()}`,
      { headers: { 'Access-Token': 't' } },
    ).then(async (res) => ({ status: res.status, body: (await res.json()) as { code: number; message: string } }));

  it('the sandbox answers errors inside HTTP 200 and refuses more than 30 days', async () => {
    const ok = await report({ start_date: '2025-01-01', end_date: '2025-01-30' });
    assert.equal(ok.body.code, 0);
    const tooLong = await report({ start_date: '2025-01-01', end_date: '2025-01-31' });
    assert.equal(tooLong.status, 200);
    assert.equal(tooLong.body.code, 40002);
  });

  it('cuts a long window into 30-day requests that together cover it exactly', async () => {
    const result = await bed.connectors
      .get('tiktok')
      .fetchReport('campaign-daily', { account: input, credentials: { ...bed.sandbox.issueCredentials('tiktok') }, window: WINDOW });
    assert.deepStrictEqual(sortRows(result.rows), sortRows(expectedRows('tiktok', id, 'campaign-daily', WINDOW)));
    assert.equal(count(bed.sandbox, 'tiktok', REPORT), PAGES);
  });

  it('refreshes once even when parallel slices all meet the expired token', async () => {
    const credentials = { ...bed.sandbox.issueCredentials('tiktok') };
    bed.sandbox.setFaults('tiktok', { expiredTokens: true });
    const result = await bed.connectors.get('tiktok').fetchReport('campaign-daily', { account: input, credentials, window: WINDOW });
    assert.deepStrictEqual(sortRows(result.rows), sortRows(expectedRows('tiktok', id, 'campaign-daily', WINDOW)));
    assert.equal(count(bed.sandbox, 'tiktok', REFRESH_PATHS.tiktok ?? ''), 1);
    assert.ok(result.credentials);
  });

  it('waits out code 40100 under an enforced requests-per-second limit', async () => {
    bed.sandbox.setFaults('tiktok', { requestsPerSecond: 2 });
    const result = await bed.connectors
      .get('tiktok')
      .fetchReport('campaign-daily', { account: input, credentials: { ...bed.sandbox.issueCredentials('tiktok') }, window: WINDOW });
    assert.deepStrictEqual(sortRows(result.rows), sortRows(expectedRows('tiktok', id, 'campaign-daily', WINDOW)));
    assert.equal(result.apiCalls, count(bed.sandbox, 'tiktok'), 'report pages and the advertiser lookup, retries included');
    // Four slices start together against a limit of two per second: some must have been turned away.
    assert.ok(result.apiCalls > PAGES);
  });

  it('accepts a long-lived token without a refresh token', async () => {
    const { accessToken } = bed.sandbox.issueCredentials('tiktok');
    const window = days('2025-01-01', 3);
    const result = await bed.connectors
      .get('tiktok')
      .fetchReport('campaign-daily', { account: input, credentials: { accessToken, refreshToken: null, expiresAt: null }, window });
    assert.equal(result.rows.length, expectedRows('tiktok', id, 'campaign-daily', window).length);
  });
});
