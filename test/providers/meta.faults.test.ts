import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createConnectors } from '../../functions/src/providers/index.js';
import type { MetaConfig } from '../../functions/src/providers/index.js';
import type { FetchReportResult, ReportKind, ReportWindow } from '../../functions/src/providers/types.js';
import { expectedRows, startSandbox } from '../../scripts/sandbox/server.js';
import type { Sandbox } from '../../scripts/sandbox/server.js';
import type { MetaOversizedAnswer } from '../../scripts/sandbox/state.js';
import { ACCOUNTS, count, countMatching, days, sortRows } from './helpers.js';

const { input, id } = ACCOUNTS.meta;
const INSIGHTS = `GET /v25.0/act_${id}/insights`;
const SUBMIT = `POST /v25.0/act_${id}/insights`;
/** Rows a synchronous request may cover before this sandbox refuses it as too heavy. */
const SYNC_ROW_LIMIT = 300;

describe('Meta connector against the platform refusing heavy requests', () => {
  let sandbox: Sandbox;
  const connector = (config: Partial<MetaConfig> = {}) =>
    createConnectors({ http: { baseDelayMs: 10, maxDelayMs: 50 }, meta: { ...sandbox.baseUrls.meta, asyncPollIntervalMs: 10, ...config } }).get('meta');
  const fetchReport = (kind: ReportKind, window: ReportWindow, config: Partial<MetaConfig> = {}): Promise<FetchReportResult> =>
    connector(config).fetchReport(kind, { account: input, credentials: { ...sandbox.issueCredentials('meta') }, window });

  before(async () => {
    sandbox = await startSandbox({ metaSyncRowLimit: SYNC_ROW_LIMIT });
  });
  after(async () => {
    await sandbox.close();
  });
  beforeEach(() => {
    sandbox.resetStats();
    sandbox.setFaults('meta', {});
  });

  it("the sandbox refuses an oversized request as Meta does: HTTP 500, code 1, no subcode", async () => {
    const q = new URLSearchParams({
      level: 'campaign',
      time_increment: '1',
      time_range: JSON.stringify({ since: '2025-02-01', until: '2025-02-28' }),
      fields: 'campaign_id,impressions',
      breakdowns: 'age,gender',
      access_token: sandbox.issueCredentials('meta').accessToken,
    });
    const res = await fetch(`${sandbox.baseUrls.meta.apiBaseUrl}/v25.0/act_${id}/insights?${q.toString()}`);
    assert.equal(res.status, 500);
    assert.deepEqual(await res.json(), { error: { message: "Please reduce the amount of data you're asking for, then retry your request", code: 1 } });
  });

  for (const answer of ['reduce-data', 'reduce-data-100', 'timeout-100', 'timeout-2'] as const satisfies readonly MetaOversizedAnswer[]) {
    it(`${answer}: halves the slice down to a week, then fetches each refused week as an async report`, async () => {
      sandbox.setFaults('meta', { metaOversizedAs: answer });
      // 4 campaigns x 18 segments: 14 days (1,008 rows) and each 7-day half (504) are over the limit of 300.
      const window = days('2025-02-01', 14);
      const result = await fetchReport('demographics', window);
      assert.deepStrictEqual(sortRows(result.rows), sortRows(expectedRows('meta', id, 'demographics', window)));
      assert.equal(count(sandbox, 'meta', INSIGHTS), 3, 'the 14 days, then each week once');
      assert.equal(count(sandbox, 'meta', SUBMIT), 2, 'one async report per refused week');
      assert.equal(countMatching(sandbox, 'meta', /^GET \/v25\.0\/\d+\/insights$/), 2, 'each report read in one page');
      assert.equal(result.apiCalls, count(sandbox, 'meta'));
    });
  }

  it('a smaller range that Meta accepts is fetched synchronously, without an async report', async () => {
    // 8 days (576 rows) are refused; each 4-day half (288) is not.
    const window = days('2025-03-01', 8);
    const result = await fetchReport('demographics', window);
    assert.deepStrictEqual(sortRows(result.rows), sortRows(expectedRows('meta', id, 'demographics', window)));
    assert.equal(count(sandbox, 'meta', INSIGHTS), 3);
    assert.equal(count(sandbox, 'meta', SUBMIT), 0);
  });

  it('minSliceDays decides how far a refused slice is halved', async () => {
    const window = days('2025-02-01', 14);
    await fetchReport('demographics', window, { minSliceDays: 14 });
    assert.equal(count(sandbox, 'meta', INSIGHTS), 1);
    assert.equal(count(sandbox, 'meta', SUBMIT), 1);
  });
});
