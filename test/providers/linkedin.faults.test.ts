import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { halveWindow, windowDays } from '../../functions/src/providers/dates.js';
import { PermanentError, createConnectors } from '../../functions/src/providers/index.js';
import type { LinkedInConfig } from '../../functions/src/providers/index.js';
import { adAnalyticsQuery } from '../../functions/src/providers/linkedin.js';
import type { ReportWindow } from '../../functions/src/providers/types.js';
import { metricRowId } from '../../functions/src/schema/metrics.js';
import { expectedRows } from '../../scripts/sandbox/server.js';
import { ACCOUNTS, count, days, sortRows, useSandbox } from './helpers.js';

const { input, id } = ACCOUNTS.linkedin;
const ANALYTICS = 'GET /rest/adAnalytics';
/** The sandbox's element cap for this suite, standing in for LinkedIn's 15,000. */
const CAP = 50;

describe('LinkedIn connector against answers cut off at the element cap', () => {
  const bed = useSandbox('linkedin', { linkedinRowCap: CAP });
  const connector = (config: Partial<LinkedInConfig> = {}) =>
    createConnectors({
      http: { baseDelayMs: 10, maxDelayMs: 50 },
      // Planned as if the account were small: the first requests reach the cap.
      linkedin: { ...bed.sandbox.baseUrls.linkedin, clientId: 'c', clientSecret: 's', maxRowsPerRequest: 10_000, elementCap: CAP, ...config },
    }).get('linkedin');
  const fetchReport = (window: ReportWindow, config: Partial<LinkedInConfig> = {}) =>
    connector(config).fetchReport('campaign-daily', { account: input, credentials: { ...bed.sandbox.issueCredentials('linkedin') }, window });


  it('the sandbox answers a request over the cap with exactly the cap, HTTP 200, no error', async () => {
    const window = days('2025-01-01', 30);
    assert.ok(expectedRows('linkedin', id, 'campaign-daily', window).length > CAP);
    const res = await fetch(`${bed.sandbox.baseUrls.linkedin.apiBaseUrl}/rest/adAnalytics?${adAnalyticsQuery(id, window)}`, {
      headers: { authorization: 'Bearer t', 'LinkedIn-Version': '202601', 'X-Restli-Protocol-Version': '2.0.0' },
    });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { elements: unknown[] }).elements.length, CAP);
  });

  it('asks again in halves when an answer reaches the cap, and stores every day complete', async () => {
    const window = days('2025-01-01', 30);
    const result = await fetchReport(window);
    const expected = expectedRows('linkedin', id, 'campaign-daily', window);
    assert.equal(result.rows.length, expected.length);
    assert.equal(new Set(result.rows.map(metricRowId)).size, result.rows.length, 'no row twice');
    assert.deepStrictEqual(sortRows(result.rows), sortRows(expected));
    // A window whose answer reaches the cap costs its own request plus its halves'.
    const requests = (w: ReportWindow): number =>
      expectedRows('linkedin', id, 'campaign-daily', w).length < CAP ? 1 : 1 + halveWindow(w).reduce((n, half) => n + requests(half), 0);
    assert.ok(requests(window) > 3);
    assert.equal(count(bed.sandbox, 'linkedin', ANALYTICS), requests(window));
  });

  it('fails naming the day rather than store part of it when one day alone reaches the cap', async () => {
    const window = days('2025-01-06', 2);
    const perDay = expectedRows('linkedin', id, 'campaign-daily', { start: window.start, end: window.start }).length;
    assert.ok(perDay >= 3 && windowDays(window) === 2);
    await assert.rejects(fetchReport(window, { elementCap: 3 }), (error: unknown) => {
      assert.ok(error instanceof PermanentError);
      assert.match(error.message, /2025-01-0[67]/);
      assert.match(error.message, /cannot be fetched completely/);
      return true;
    });
  });
});
