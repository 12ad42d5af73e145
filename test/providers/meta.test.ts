import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { TransientError } from '../../functions/src/providers/errors.js';
import { createConnectors, createGates } from '../../functions/src/providers/index.js';
import type { MetaConfig } from '../../functions/src/providers/index.js';
import { DEFAULT_SLICE_DAYS, META_MAX_PAGE_SIZE } from '../../functions/src/providers/meta.js';
import { sliceWindow, windowDays } from '../../functions/src/providers/dates.js';
import type { FetchReportInput, ReportKind } from '../../functions/src/providers/types.js';
import { metricRowId, metricRowSchema } from '../../functions/src/schema/metrics.js';
import { DEMOGRAPHIC_SEGMENTS } from '../../scripts/sandbox/data.js';
import { MAX_LIMIT } from '../../scripts/sandbox/meta.js';
import { accountProfile, expectedRows } from '../../scripts/sandbox/server.js';
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

  it('runs a range above asyncAfterDays as one async report: submit, poll, then page the result', async () => {
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

  it('halves a range Meta finds too heavy before it turns to an async report', async () => {
    // 30 days x 18 segments x 4 campaigns is over the sandbox's 2,000-row limit for a synchronous call; 15 days are not.
    const window = days('2025-01-01', 30);
    const result = await fetchReport('demographics', window);
    assert.deepStrictEqual(sortRows(result.rows), sortRows(expectedRows('meta', id, 'demographics', window)));
    const pages = sliceWindow(window, 15).reduce((n, half) => n + Math.ceil(expectedRows('meta', id, 'demographics', half).length / TEST_PAGING.metaPageSize), 0);
    assert.equal(count(bed.sandbox, 'meta', `GET /v25.0/act_${id}/insights`), 1 + pages, 'the refused 30 days, then every page of both halves');
    assert.equal(count(bed.sandbox, 'meta', `POST /v25.0/act_${id}/insights`), 0);
  });

  /** A connector on the same sandbox without the test bed's asyncAfterDays: long windows go out as slices. */
  const slicing = (config: Partial<MetaConfig> = {}) =>
    createConnectors({ http: { baseDelayMs: 10, maxDelayMs: 50 }, meta: { ...bed.sandbox.baseUrls.meta, asyncPollIntervalMs: 10, ...config } }).get('meta');

  for (const pageSize of [META_MAX_PAGE_SIZE, TEST_PAGING.metaPageSize]) {
    it(`fetches a long window as date slices, every row once (page size ${pageSize})`, async () => {
      const window = days('2024-03-01', 95);
      const slices = sliceWindow(window, 10);
      const result = await slicing({ pageSize, sliceDays: { placement: 10 } }).fetchReport('placement', {
        account: input,
        credentials: { ...bed.sandbox.issueCredentials('meta') },
        window,
      });
      const expected = expectedRows('meta', id, 'placement', window);
      assert.equal(result.rows.length, expected.length);
      assert.equal(new Set(result.rows.map(metricRowId)).size, result.rows.length, 'no row twice');
      assert.deepStrictEqual(sortRows(result.rows), sortRows(expected));
      // One request per page of each slice: a slice bigger than a page follows its own cursor.
      const requests = slices.reduce((sum, slice) => sum + Math.max(1, Math.ceil(expectedRows('meta', id, 'placement', slice).length / pageSize)), 0);
      assert.equal(count(bed.sandbox, 'meta', `GET /v25.0/act_${id}/insights`), requests);
      assert.equal(count(bed.sandbox, 'meta'), requests, 'no async job');
      assert.equal(result.apiCalls, requests);
      // How fast the slices run together is measured by `npm run bench`, not asserted here.
      if (pageSize === META_MAX_PAGE_SIZE) assert.equal(requests, slices.length, 'each slice is one page');
    });
  }

  it('sizes default slices per report kind so a slice is usually one page', () => {
    assert.equal(MAX_LIMIT, META_MAX_PAGE_SIZE, 'the sandbox refuses pages above the connector maximum');
    for (const kind of ['campaign-daily', 'demographics', 'placement'] as const) {
      const perDay = accountProfile('meta', id).campaigns.length * (kind === 'campaign-daily' ? 1 : DEMOGRAPHIC_SEGMENTS.length);
      assert.ok(DEFAULT_SLICE_DAYS[kind] * perDay <= META_MAX_PAGE_SIZE, `${kind}: ${DEFAULT_SLICE_DAYS[kind]} days fit one page`);
    }
    assert.ok(DEFAULT_SLICE_DAYS['campaign-daily'] > DEFAULT_SLICE_DAYS.demographics);
  });

  it('falls back to an async report for just the slices Meta finds too big', async () => {
    // Default slices: 41 + 41 + 18 days. Over the sandbox's 2,000-row limit only the 41-day ones are refused.
    const window = days('2024-05-01', 100);
    const slices = sliceWindow(window, DEFAULT_SLICE_DAYS.demographics);
    const perDay = accountProfile('meta', id).campaigns.length * DEMOGRAPHIC_SEGMENTS.length;
    const tooBig = slices.filter((slice) => windowDays(slice) * perDay > 2_000);
    assert.ok(tooBig.length > 0 && tooBig.length < slices.length);
    // Slices no longer than minSliceDays are not halved: a refused one goes straight to an async job.
    const result = await slicing({ minSliceDays: DEFAULT_SLICE_DAYS.demographics }).fetchReport('demographics', { account: input, credentials: { ...bed.sandbox.issueCredentials('meta') }, window });
    assert.deepStrictEqual(sortRows(result.rows), sortRows(expectedRows('meta', id, 'demographics', window)));
    assert.equal(count(bed.sandbox, 'meta', `GET /v25.0/act_${id}/insights`), slices.length);
    assert.equal(count(bed.sandbox, 'meta', `POST /v25.0/act_${id}/insights`), tooBig.length);
    assert.equal(result.apiCalls, count(bed.sandbox, 'meta'));
  });

  it('refuses a page size above the maximum, as the sandbox does', async () => {
    assert.throws(() => slicing({ pageSize: META_MAX_PAGE_SIZE + 1 }), RangeError);
    const q = new URLSearchParams({
      level: 'campaign',
      time_increment: '1',
      time_range: JSON.stringify({ since: '2025-03-01', until: '2025-03-02' }),
      fields: 'campaign_id',
      limit: String(MAX_LIMIT + 1),
      access_token: bed.sandbox.issueCredentials('meta').accessToken,
    });
    const res = await fetch(`${bed.sandbox.baseUrls.meta.apiBaseUrl}/v25.0/act_${id}/insights?${q.toString()}`);
    const body = (await res.json()) as { error?: { code: number } };
    assert.equal(res.status, 400);
    assert.equal(body.error?.code, 100);
  });

  it('reports a failed async job as TransientError', async () => {
    bed.sandbox.setFaults('meta', { asyncJobsFail: true, asyncPolls: 0 });
    await assert.rejects(fetchReport('campaign-daily', days('2024-01-01', 90)), TransientError);
    assert.equal(count(bed.sandbox, 'meta'), 2, 'submit and one status poll');
  });

  it('slows down when the usage headers report high utilisation, and still completes', async () => {
    // 96 % used: each next page must wait at least one base delay (1 s for this client), however fast Meta answered.
    bed.sandbox.setFaults('meta', { usagePct: 96, usageResetSeconds: 1 });
    const window = days('2025-03-01', 20);
    // Its own connector: the pause after the last page would otherwise hold up the next test.
    const patient = createConnectors({ http: { baseDelayMs: 1000, maxDelayMs: 1000 }, meta: { ...bed.sandbox.baseUrls.meta, pageSize: TEST_PAGING.metaPageSize } }).get('meta');
    const result = await patient.fetchReport('campaign-daily', {
      account: input,
      credentials: { ...bed.sandbox.issueCredentials('meta') },
      window,
    });
    assert.deepStrictEqual(sortRows(result.rows), sortRows(expectedRows('meta', id, 'campaign-daily', window)));
    const log = bed.sandbox.requests('meta').log;
    assert.ok(log.length >= 2, `a window of several pages, got ${log.length} request(s)`);
    for (let i = 1; i < log.length; i++) {
      const waited = log[i]!.receivedAt - log[i - 1]!.at;
      assert.ok(waited >= 1000, `page ${i + 1} arrived ${waited} ms after Meta reported 96 % usage for another 1,000 ms`);
    }
  });

  it('an ad account near its business use case limit slows that account only; the app\'s usage paces every account', async () => {
    // Account 1234567 reports 96 % of its business use case; the app, and account 7654321, 10 %.
    bed.sandbox.setFaults('meta', { usagePct: 10, accountUsagePct: { [id]: 96 } });
    const config = { http: { baseDelayMs: 50, maxDelayMs: 50 }, meta: { ...bed.sandbox.baseUrls.meta, pageSize: TEST_PAGING.metaPageSize } };
    const gates = createGates(config);
    const meta = createConnectors(config, { gates }).get('meta');
    const window = days('2025-03-01', 3);
    const credentials = { ...bed.sandbox.issueCredentials('meta') };
    const [busy, quiet] = await Promise.all([
      meta.fetchReport('campaign-daily', { account: input, credentials, window }),
      meta.fetchReport('campaign-daily', { account: 'act_7654321', credentials, window }),
    ]);
    assert.deepStrictEqual(sortRows(busy.rows), sortRows(expectedRows('meta', id, 'campaign-daily', window)));
    assert.deepStrictEqual(sortRows(quiet.rows), sortRows(expectedRows('meta', '7654321', 'campaign-daily', window)));
    const platform = gates.get('meta')!;
    // The busy account learned a rate of its own; the platform and the quiet account stay unpaced.
    assert.notEqual(platform.account(id).requestsPerSecond, null, 'the busy account is paced');
    assert.equal(platform.account('7654321').requestsPerSecond, null, 'the quiet account is not');
    assert.equal(platform.requestsPerSecond, null, 'nor is Meta as a whole');

    // The app near its limit: every account slows.
    bed.sandbox.setFaults('meta', { usagePct: 96, accountUsagePct: {} });
    await meta.fetchReport('campaign-daily', { account: 'act_7654321', credentials, window });
    assert.notEqual(platform.requestsPerSecond, null, 'Meta as a whole is paced');
  });

  it("one account's pause does not hold the places in flight that other accounts' requests need", async () => {
    const config = { http: { concurrency: 2 }, meta: { ...bed.sandbox.baseUrls.meta, pageSize: TEST_PAGING.metaPageSize } };
    const gates = createGates(config);
    const meta = createConnectors(config, { gates }).get('meta');
    const credentials = { ...bed.sandbox.issueCredentials('meta') };
    // The busy account was told to wait 3 s; its report has three slices, more than the two places in flight.
    gates.get('meta')!.account(id).pauseFor(3_000);
    const busy = meta.fetchReport('demographics', { account: input, credentials, window: days('2025-01-01', 100) });
    const quiet = await meta.fetchReport('campaign-daily', { account: 'act_7654321', credentials, window: days('2025-03-01', 3) });
    assert.equal(quiet.rows.length, expectedRows('meta', '7654321', 'campaign-daily', days('2025-03-01', 3)).length);
    const accountsAsked = () => bed.sandbox.requests('meta').log.map((e) => /act_(\d+)/.exec(e.path)?.[1]);
    assert.equal(accountsAsked().filter((a) => a === id).length, 0, 'the quiet account was served while the busy one still waited');
    await busy;
    assert.ok(accountsAsked().filter((a) => a === id).length >= 3);
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
    const window = days('2025-03-01', 20);
    assert.ok(expectedRows('meta', id, 'campaign-daily', window).length > TEST_PAGING.metaPageSize, 'more than one page to fetch');
    const pending = bed.connectors.get('meta').fetchReport('campaign-daily', {
      account: input,
      credentials: { ...bed.sandbox.issueCredentials('meta') },
      window,
      signal: controller.signal,
    });
    // Abort while the sandbox holds the first page.
    await bed.sandbox.arrived('meta', 1);
    controller.abort();
    await assert.rejects(pending, (error: unknown) => error instanceof Error && error.name === 'AbortError');
    // The sandbox logs a request once its latency has passed: count after that.
    await bed.sandbox.idle();
    assert.equal(count(bed.sandbox, 'meta'), 1, 'no request after the abort');
    assert.equal(bed.sandbox.requests('meta').log[0]!.clientClosed, true, 'the request in flight was cancelled, not awaited');
  });
});
