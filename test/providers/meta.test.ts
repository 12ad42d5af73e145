import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { TransientError } from '../../functions/src/providers/errors.js';
import type { FetchReportInput, ReportKind } from '../../functions/src/providers/types.js';
import { metricRowId, metricRowSchema } from '../../functions/src/schema/metrics.js';
import { expectedRows } from '../../scripts/sandbox/server.js';
import { ACCOUNTS, count, countMatching, days, sortRows, startTestBed, TEST_PAGING } from './helpers.js';
import type { TestBed } from './helpers.js';

const { input, id } = ACCOUNTS.meta;

describe('Meta connector', () => {
  let bed: TestBed;
  const fetchReport = (kind: ReportKind, window: FetchReportInput['window']) =>
    bed.connectors.get('meta').fetchReport(kind, { account: input, credentials: { ...bed.sandbox.issueCredentials('meta') }, window });

  before(async () => {
    bed = await startTestBed({ metaSyncRowLimit: 2_000 });
  });
  after(async () => {
    await bed.sandbox.close();
  });
  beforeEach(() => {
    bed.sandbox.resetStats();
    bed.sandbox.setFaults('meta', {});
  });

  for (const [kind, keys] of [
    ['demographics', ['age', 'gender']],
    ['placement', ['publisherPlatform', 'platformPosition']],
  ] as const) {
    it(`fetches the ${kind} breakdown: one row per campaign, day and segment`, async () => {
      const window = days('2025-02-01', 7);
      const result = await fetchReport(kind, window);
      const expected = expectedRows('meta', id, kind, window);
      assert.ok(expected.length > TEST_PAGING.metaPageSize * 2);
      assert.deepStrictEqual(sortRows(result.rows), sortRows(expected));
      assert.equal(new Set(result.rows.map(metricRowId)).size, result.rows.length);
      for (const row of result.rows) {
        const parsed = metricRowSchema.parse(row);
        assert.equal(parsed.kind, kind);
        assert.ok('breakdown' in parsed);
        assert.deepStrictEqual(Object.keys(parsed.breakdown).sort(), [...keys].sort());
      }
      assert.equal(count(bed.sandbox, 'meta'), Math.ceil(expected.length / TEST_PAGING.metaPageSize));
    });
  }

  it('runs a long range as an async report: submit, poll, then page the result', async () => {
    bed.sandbox.setFaults('meta', { asyncPolls: 3 });
    const window = days('2024-01-01', 120);
    const result = await fetchReport('campaign-daily', window);
    const expected = expectedRows('meta', id, 'campaign-daily', window);
    assert.deepStrictEqual(sortRows(result.rows), sortRows(expected));
    assert.equal(count(bed.sandbox, 'meta', `POST /v25.0/act_${id}/insights`), 1);
    assert.equal(count(bed.sandbox, 'meta', `GET /v25.0/act_${id}/insights`), 0, 'no synchronous request for a long range');
    assert.equal(countMatching(bed.sandbox, 'meta', /^GET \/v25\.0\/\d+$/), 4, 'three "Job Running" polls and the one that completes');
    assert.equal(countMatching(bed.sandbox, 'meta', /^GET \/v25\.0\/\d+\/insights$/), Math.ceil(expected.length / TEST_PAGING.metaPageSize));
    assert.equal(result.apiCalls, count(bed.sandbox, 'meta'));
  });

  it('switches to an async report when Meta asks for less data', async () => {
    // 30 days x 18 segments x 3+ campaigns is over the sandbox's 2,000-row limit for a synchronous call.
    const window = days('2025-01-01', 30);
    const result = await fetchReport('demographics', window);
    assert.deepStrictEqual(sortRows(result.rows), sortRows(expectedRows('meta', id, 'demographics', window)));
    assert.equal(count(bed.sandbox, 'meta', `GET /v25.0/act_${id}/insights`), 1);
    assert.equal(count(bed.sandbox, 'meta', `POST /v25.0/act_${id}/insights`), 1);
  });

  it('reports a failed async job as TransientError', async () => {
    bed.sandbox.setFaults('meta', { asyncJobsFail: true, asyncPolls: 0 });
    await assert.rejects(fetchReport('campaign-daily', days('2024-01-01', 90)), TransientError);
    assert.equal(count(bed.sandbox, 'meta'), 2, 'submit and one status poll');
  });

  it('slows down when the usage headers report high utilisation, and still completes', async () => {
    bed.sandbox.setFaults('meta', { usagePct: 96 });
    const window = days('2025-03-01', 10);
    const result = await fetchReport('campaign-daily', window);
    assert.deepStrictEqual(sortRows(result.rows), sortRows(expectedRows('meta', id, 'campaign-daily', window)));
  });

  it('counts only the configured conversion actions, not aggregates like "lead"', async () => {
    const window = days('2025-03-01', 3);
    const { rows } = await fetchReport('campaign-daily', window);
    const expected = expectedRows('meta', id, 'campaign-daily', window);
    assert.deepStrictEqual(
      sortRows(rows).map((r) => r.conversions),
      sortRows(expected).map((r) => r.conversions),
    );
    assert.ok(rows.some((r) => r.conversions > 0));
  });

  it('never puts the access token in an error message', async () => {
    const credentials = { ...bed.sandbox.issueCredentials('meta') };
    bed.sandbox.setFaults('meta', { invalidRequests: 1 });
    await assert.rejects(
      bed.connectors.get('meta').fetchReport('campaign-daily', { account: input, credentials, window: days('2025-03-01', 2) }),
      (error: unknown) => error instanceof Error && !error.message.includes(credentials.accessToken),
    );
  });

  it('the sandbox models the long-lived token exchange, which needs a still-valid token', async () => {
    const exchange = async (token: string) => {
      const q = new URLSearchParams({ grant_type: 'fb_exchange_token', client_id: 'app', client_secret: 's', fb_exchange_token: token });
      const res = await fetch(`${bed.sandbox.baseUrls.meta.apiBaseUrl}/v25.0/oauth/access_token?${q.toString()}`);
      return (await res.json()) as { access_token?: string; error?: { code: number; error_subcode?: number } };
    };
    const { accessToken } = bed.sandbox.issueCredentials('meta');
    assert.ok((await exchange(accessToken)).access_token);
    bed.sandbox.setFaults('meta', { expiredTokens: true });
    const refused = await exchange(accessToken);
    assert.equal(refused.error?.code, 190);
    assert.equal(refused.error?.error_subcode, 463);
  });

  it('stops when the caller aborts', async () => {
    bed.sandbox.setFaults('meta', { latencyMs: 200 });
    const controller = new AbortController();
    const pending = bed.connectors.get('meta').fetchReport('campaign-daily', {
      account: input,
      credentials: { ...bed.sandbox.issueCredentials('meta') },
      window: days('2025-03-01', 20),
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(pending);
    assert.ok(count(bed.sandbox, 'meta') <= 1);
  });
});
