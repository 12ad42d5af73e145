import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accountProfile, expectedRows } from '../../scripts/sandbox/server.js';
import { ACCOUNTS, count, days, sortRows, useTestBed } from './helpers.js';

const { input, id } = ACCOUNTS.tiktok;
const REPORT = 'GET /open_api/v1.3/report/integrated/get/';
const ADVERTISER = 'GET /open_api/v1.3/advertiser/info/';
const WINDOW = days('2025-02-01', 20);

describe('TikTok connector against what TikTok sends', () => {
  const bed = useTestBed('tiktok');
  const tiktok = () => bed.connectors.get('tiktok');
  const credentials = () => ({ ...bed.sandbox.issueCredentials('tiktok') });

  const rawReport = async (metrics: string[]) => {
    const q = new URLSearchParams({
      advertiser_id: id,
      report_type: 'BASIC',
      data_level: 'AUCTION_CAMPAIGN',
      dimensions: '["campaign_id","stat_time_day"]',
      metrics: JSON.stringify(metrics),
      start_date: WINDOW.start,
      end_date: WINDOW.end,
      page_size: '1000',
    });
    const res = await fetch(`${bed.sandbox.baseUrls.tiktok.apiBaseUrl}/open_api/v1.3/report/integrated/get/?${q.toString()}`, { headers: { 'Access-Token': 't' } });
    return (await res.json()) as { code: number; message: string; data: { list: Array<{ dimensions: { campaign_id: string }; metrics: Record<string, string> }> } };
  };

  it('the sandbox sends "-" for a metric without a value, and refuses currency as a report metric', async () => {
    const body = await rawReport(['conversion', 'spend']);
    assert.equal(body.code, 0);
    const untracked = accountProfile('tiktok', id).campaigns[0]!.id;
    const rows = body.data.list.filter((r) => r.dimensions.campaign_id === untracked);
    assert.ok(rows.length > 0);
    assert.ok(rows.every((r) => r.metrics.conversion === '-'));
    assert.ok(body.data.list.some((r) => r.metrics.conversion !== '-'));
    const refused = await rawReport(['spend', 'currency']);
    assert.equal(refused.code, 40002);
    assert.match(refused.message, /currency/);
  });

  it('reads "-" as no value: 0 for an additive metric, and keeps the row', async () => {
    const result = await tiktok().fetchReport('campaign-daily', { account: input, credentials: credentials(), window: WINDOW });
    const expected = expectedRows('tiktok', id, 'campaign-daily', WINDOW);
    assert.deepStrictEqual(sortRows(result.rows), sortRows(expected));
    const untracked = accountProfile('tiktok', id).campaigns[0]!.id;
    const dashed = result.rows.filter((r) => r.campaignId === untracked);
    assert.ok(dashed.length > 0 && dashed.every((r) => r.conversions === 0 && r.impressions > 0));
  });

  it("takes the currency from the advertiser's info, once per report, and not when the connection knows it", async () => {
    const result = await tiktok().fetchReport('campaign-daily', { account: input, credentials: credentials(), window: WINDOW });
    const currency = accountProfile('tiktok', id).currency;
    assert.equal(result.accountCurrency, currency);
    assert.ok(result.rows.every((r) => r.currency === currency));
    assert.equal(count(bed.sandbox, 'tiktok', ADVERTISER), 1);
    assert.equal(result.apiCalls, count(bed.sandbox, 'tiktok'));

    bed.sandbox.resetStats();
    const known = await tiktok().fetchReport('campaign-daily', { account: input, credentials: credentials(), window: WINDOW, currency });
    assert.equal(count(bed.sandbox, 'tiktok', ADVERTISER), 0);
    assert.equal(known.accountCurrency, undefined);
    assert.ok(known.rows.every((r) => r.currency === currency));
    assert.equal(known.apiCalls, count(bed.sandbox, 'tiktok', REPORT));
  });
});
