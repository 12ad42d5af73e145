import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PermanentError, RateLimitedError, TransientError, createConnectors } from '../../functions/src/providers/index.js';
import type { MetaConfig } from '../../functions/src/providers/index.js';
import type { FetchReportResult, ReportKind, ReportWindow } from '../../functions/src/providers/types.js';
import { expectedRows } from '../../scripts/sandbox/server.js';
import type { MetaOversizedAnswer } from '../../scripts/sandbox/state.js';
import { ACCOUNTS, count, countMatching, days, sortRows, useSandbox } from './helpers.js';

const { input, id } = ACCOUNTS.meta;
const INSIGHTS = `GET /v25.0/act_${id}/insights`;
const SUBMIT = `POST /v25.0/act_${id}/insights`;
/** Rows a synchronous request may cover before this sandbox refuses it as too heavy. */
const SYNC_ROW_LIMIT = 300;

describe('Meta connector against the platform refusing heavy requests', () => {
  const bed = useSandbox('meta', { metaSyncRowLimit: SYNC_ROW_LIMIT });
  const connector = (config: Partial<MetaConfig> = {}) =>
    createConnectors({ http: { baseDelayMs: 10, maxDelayMs: 50 }, meta: { ...bed.sandbox.baseUrls.meta, asyncPollIntervalMs: 10, ...config } }).get('meta');
  const fetchReport = (kind: ReportKind, window: ReportWindow, config: Partial<MetaConfig> = {}): Promise<FetchReportResult> =>
    connector(config).fetchReport(kind, { account: input, credentials: { ...bed.sandbox.issueCredentials('meta') }, window });


  it("the sandbox refuses an oversized request as Meta does: HTTP 500, code 1, no subcode", async () => {
    const q = new URLSearchParams({
      level: 'campaign',
      time_increment: '1',
      time_range: JSON.stringify({ since: '2025-02-01', until: '2025-02-28' }),
      fields: 'campaign_id,impressions',
      breakdowns: 'age,gender',
      access_token: bed.sandbox.issueCredentials('meta').accessToken,
    });
    const res = await fetch(`${bed.sandbox.baseUrls.meta.apiBaseUrl}/v25.0/act_${id}/insights?${q.toString()}`);
    assert.equal(res.status, 500);
    assert.deepEqual(await res.json(), { error: { message: "Please reduce the amount of data you're asking for, then retry your request", code: 1 } });
  });

  for (const answer of ['reduce-data', 'reduce-data-100', 'timeout-100', 'timeout-2'] as const satisfies readonly MetaOversizedAnswer[]) {
    it(`${answer}: halves the slice down to a week, then fetches each refused week as an async report`, async () => {
      bed.sandbox.setFaults('meta', { metaOversizedAs: answer });
      // 4 campaigns x 18 segments: 14 days (1,008 rows) and each 7-day half (504) are over the limit of 300.
      const window = days('2025-02-01', 14);
      const result = await fetchReport('demographics', window);
      assert.deepStrictEqual(sortRows(result.rows), sortRows(expectedRows('meta', id, 'demographics', window)));
      assert.equal(count(bed.sandbox, 'meta', INSIGHTS), 3, 'the 14 days, then each week once');
      assert.equal(count(bed.sandbox, 'meta', SUBMIT), 2, 'one async report per refused week');
      assert.equal(countMatching(bed.sandbox, 'meta', /^GET \/v25\.0\/\d+\/insights$/), 2, 'each report read in one page');
      assert.equal(result.apiCalls, count(bed.sandbox, 'meta'));
    });
  }

  it('a smaller range that Meta accepts is fetched synchronously, without an async report', async () => {
    // 8 days (576 rows) are refused; each 4-day half (288) is not.
    const window = days('2025-03-01', 8);
    const result = await fetchReport('demographics', window);
    assert.deepStrictEqual(sortRows(result.rows), sortRows(expectedRows('meta', id, 'demographics', window)));
    assert.equal(count(bed.sandbox, 'meta', INSIGHTS), 3);
    assert.equal(count(bed.sandbox, 'meta', SUBMIT), 0);
  });

  it('minSliceDays decides how far a refused slice is halved', async () => {
    const window = days('2025-02-01', 14);
    await fetchReport('demographics', window, { minSliceDays: 14 });
    assert.equal(count(bed.sandbox, 'meta', INSIGHTS), 1);
    assert.equal(count(bed.sandbox, 'meta', SUBMIT), 1);
  });
});

describe("Meta connector against Meta's throttling and async report states", () => {
  const bed = useSandbox('meta');
  const credentials = () => ({ ...bed.sandbox.issueCredentials('meta') });
  /** Meta's own floor (a minute) unless a test says otherwise; waits longer than 5 s surface at once. */
  const connector = (http: Record<string, number> = {}) =>
    createConnectors({ http: { baseDelayMs: 10, maxDelayMs: 50, maxRateLimitWaitMs: 5_000, ...http }, meta: { ...bed.sandbox.baseUrls.meta, asyncPollIntervalMs: 10, asyncAfterDays: 60 } }).get('meta');
  const insights = async () => {
    const q = new URLSearchParams({
      level: 'campaign',
      time_increment: '1',
      time_range: JSON.stringify({ since: '2025-02-01', until: '2025-02-02' }),
      fields: 'campaign_id',
      access_token: credentials().accessToken,
    });
    const res = await fetch(`${bed.sandbox.baseUrls.meta.apiBaseUrl}/v25.0/act_${id}/insights?${q.toString()}`);
    return { res, body: (await res.json()) as { error?: { code: number; error_subcode?: number; message: string } } };
  };


  it('the sandbox throttles as the rate-limiting page pairs them: 17 / 2446079 and 613 / 1487742, the wait in minutes', async () => {
    bed.sandbox.setFaults('meta', { rateLimit: { count: 1, retryAfterSeconds: 180 } });
    const user = await insights();
    assert.equal(user.res.status, 400);
    assert.equal(user.body.error?.code, 17);
    assert.equal(user.body.error?.error_subcode, 2446079);
    assert.equal(user.body.error?.message, 'User request limit reached');
    const usage = JSON.parse(user.res.headers.get('x-business-use-case-usage') ?? '{}') as Record<string, Array<{ estimated_time_to_regain_access: number }>>;
    assert.equal(usage[id]?.[0]?.estimated_time_to_regain_access, 3);
    assert.equal(user.res.headers.get('x-ad-account-usage'), null, 'a v3.3-and-older header');

    bed.sandbox.setFaults('meta', { rateLimit: { count: 1 }, metaThrottleCode: 613 });
    const account = await insights();
    assert.equal(account.body.error?.code, 613);
    assert.equal(account.body.error?.error_subcode, 1487742);
    assert.match(account.body.error?.message ?? '', /too many calls from this ad-account/);
  });

  for (const code of [17, 613] as const) {
    it(`waits out throttle code ${code} and completes`, async () => {
      bed.sandbox.setFaults('meta', { rateLimit: { count: 1, retryAfterSeconds: 1 }, metaThrottleCode: code });
      const window = days('2025-02-01', 5);
      const result = await connector({ minRateLimitWaitMs: 200 }).fetchReport('campaign-daily', { account: input, credentials: credentials(), window });
      assert.deepStrictEqual(sortRows(result.rows), sortRows(expectedRows('meta', id, 'campaign-daily', window)));
      assert.equal(count(bed.sandbox, 'meta'), 2);
    });
  }

  it('a regain estimate of 0 minutes means a wait of at least a minute, never "retry in 0 s"', async () => {
    bed.sandbox.setFaults('meta', { rateLimit: { count: 100, retryAfterSeconds: 20 } });
    await assert.rejects(connector().fetchReport('campaign-daily', { account: input, credentials: credentials(), window: days('2025-02-01', 5) }), (error: unknown) => {
      assert.ok(error instanceof RateLimitedError);
      assert.equal(error.retryAfterMs, 60_000);
      assert.match(error.message, /retry in 60 s/);
      assert.doesNotMatch(error.message, /\b0 s\b/);
      return true;
    });
    assert.equal(count(bed.sandbox, 'meta'), 1, 'a minute is longer than this connector may wait in place: no immediate retries');
  });

  it('reads the regain estimate as minutes', async () => {
    bed.sandbox.setFaults('meta', { rateLimit: { count: 100, retryAfterSeconds: 180 } });
    await assert.rejects(connector().fetchReport('campaign-daily', { account: input, credentials: credentials(), window: days('2025-02-01', 5) }), (error: unknown) => {
      assert.ok(error instanceof RateLimitedError);
      assert.equal(error.retryAfterMs, 180_000);
      assert.match(error.message, /retry in 3 min/);
      return true;
    });
  });

  it('an async report passes through "Job Not Started", "Job Started" and "Job Running" before "Job Completed"', async () => {
    bed.sandbox.setFaults('meta', { asyncPolls: 4 });
    const token = credentials().accessToken;
    const submit = await fetch(`${bed.sandbox.baseUrls.meta.apiBaseUrl}/v25.0/act_${id}/insights`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ level: 'campaign', time_increment: '1', time_range: JSON.stringify({ since: '2025-01-01', until: '2025-01-31' }), fields: 'campaign_id', access_token: token }).toString(),
    });
    const { report_run_id: runId } = (await submit.json()) as { report_run_id: string };
    const statuses: string[] = [];
    for (let poll = 0; poll < 5; poll++) {
      const res = await fetch(`${bed.sandbox.baseUrls.meta.apiBaseUrl}/v25.0/${runId}?access_token=${token}`);
      statuses.push(((await res.json()) as { async_status: string }).async_status);
    }
    assert.deepEqual(statuses, ['Job Not Started', 'Job Started', 'Job Running', 'Job Running', 'Job Completed']);

    bed.sandbox.resetStats();
    const window = days('2024-01-01', 90);
    const result = await connector().fetchReport('campaign-daily', { account: input, credentials: credentials(), window });
    assert.deepStrictEqual(sortRows(result.rows), sortRows(expectedRows('meta', id, 'campaign-daily', window)));
    assert.equal(countMatching(bed.sandbox, 'meta', /^GET \/v25\.0\/\d+$/), 5);
  });

  it('an async report still running after a run\'s polls is handed back, then resumed, resubmitted when overdue, and given up after asyncResubmits', async () => {
    bed.sandbox.setFaults('meta', { asyncPolls: 1000 });
    const meta = createConnectors({ meta: { ...bed.sandbox.baseUrls.meta, asyncAfterDays: 60, asyncInlinePolls: 2, asyncPollIntervalMs: 10 } }).get('meta');
    const window = days('2024-01-01', 90);
    const input = { account: ACCOUNTS.meta.input, credentials: credentials(), window };
    const first = await meta.fetchReport('campaign-daily', input);
    assert.deepEqual(first.rows, []);
    assert.equal(first.pending?.length, 1);
    const [report] = first.pending!;
    assert.deepEqual({ kind: report!.kind, window: report!.window, submissions: report!.submissions }, { kind: 'campaign-daily', window, submissions: 1 });
    assert.equal(count(bed.sandbox, 'meta', SUBMIT), 1);
    assert.equal(countMatching(bed.sandbox, 'meta', /^GET \/v25\.0\/\d+$/), 2, 'asyncInlinePolls');

    const resumed = await meta.fetchReport('campaign-daily', { ...input, pending: first.pending });
    assert.deepEqual(resumed.pending, first.pending, 'still running: the same report, nothing submitted again');
    assert.equal(count(bed.sandbox, 'meta', SUBMIT), 1);

    // Submitted more than 70 minutes ago (the default asyncTimeoutMs): submitted again, once.
    const overdue = { ...report!, submittedAt: Date.now() - 71 * 60_000 };
    const again = await meta.fetchReport('campaign-daily', { ...input, pending: [overdue] });
    assert.equal(count(bed.sandbox, 'meta', SUBMIT), 2);
    assert.equal(again.pending?.[0]?.submissions, 2);
    assert.notEqual(again.pending?.[0]?.reportRunId, report!.reportRunId);

    await assert.rejects(meta.fetchReport('campaign-daily', { ...input, pending: [{ ...overdue, submissions: 3 }] }), (error: unknown) => {
      assert.ok(error instanceof PermanentError);
      assert.match(error.message, /after 3 tries: report job \d+ did not finish within 70 min/);
      return true;
    });
    assert.equal(count(bed.sandbox, 'meta', SUBMIT), 2);
  });

  for (const [fault, status] of [
    [{ asyncJobsFail: true }, 'Job Failed'],
    [{ asyncJobsSkip: true }, 'Job Skipped'],
  ] as const) {
    it(`a report that ends as "${status}" is a TransientError naming it`, async () => {
      bed.sandbox.setFaults('meta', { ...fault, asyncPolls: 2 });
      await assert.rejects(connector().fetchReport('campaign-daily', { account: input, credentials: credentials(), window: days('2024-01-01', 90) }), (error: unknown) => {
        assert.ok(error instanceof TransientError);
        assert.match(error.message, new RegExp(status));
        if (status === 'Job Failed') assert.match(error.message, /-2\/2490547 Generating the report failed/);
        return true;
      });
    });
  }
});
