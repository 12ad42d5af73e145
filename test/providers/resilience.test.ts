import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AuthExpiredError, PermanentError, RateLimitedError, TransientError } from '../../functions/src/providers/errors.js';
import { createConnectors } from '../../functions/src/providers/index.js';
import type { FetchReportInput, FetchReportResult, ProviderId } from '../../functions/src/providers/types.js';
import { PROVIDER_IDS } from '../../functions/src/schema/common.js';
import { expectedRows } from '../../scripts/sandbox/server.js';
import { ACCOUNTS, count, days, REFRESH_PATHS, sortRows, startTestBed } from './helpers.js';
import type { TestBed } from './helpers.js';

const WINDOW = days('2025-05-01', 5);
const LABELS: Record<ProviderId, string> = { meta: 'Meta Ads', google: 'Google Ads', linkedin: 'LinkedIn Ads', tiktok: 'TikTok Ads' };

describe('connector resilience against platform faults', () => {
  let bed: TestBed;
  /** Requests a clean fetch of WINDOW needs, per platform: each fault adds a known number on top. */
  const baseline = new Map<ProviderId, number>();

  const fetchReport = (provider: ProviderId, overrides: Partial<FetchReportInput> = {}, connectors = bed.connectors): Promise<FetchReportResult> =>
    connectors.get(provider).fetchReport('campaign-daily', {
      account: ACCOUNTS[provider].input,
      credentials: { ...bed.sandbox.issueCredentials(provider) },
      window: WINDOW,
      ...overrides,
    });
  const assertComplete = (provider: ProviderId, result: FetchReportResult) =>
    assert.deepStrictEqual(sortRows(result.rows), sortRows(expectedRows(provider, ACCOUNTS[provider].id, 'campaign-daily', WINDOW)));

  before(async () => {
    bed = await startTestBed();
    for (const provider of PROVIDER_IDS) {
      bed.sandbox.resetStats();
      await fetchReport(provider);
      baseline.set(provider, count(bed.sandbox, provider));
    }
  });
  after(async () => {
    await bed.sandbox.close();
  });
  beforeEach(() => {
    bed.sandbox.resetStats();
    for (const provider of PROVIDER_IDS) bed.sandbox.setFaults(provider, {});
  });

  for (const provider of PROVIDER_IDS) {
    describe(provider, () => {
      const refreshPath = REFRESH_PATHS[provider];
      const base = () => baseline.get(provider) ?? NaN;

      it("waits out the platform's rate limit and succeeds", async () => {
        bed.sandbox.setFaults(provider, { rateLimit: { count: 2, retryAfterSeconds: 1 } });
        const result = await fetchReport(provider);
        assertComplete(provider, result);
        assert.equal(count(bed.sandbox, provider), base() + 2);
        assert.equal(result.apiCalls, base() + 2);
      });

      it('retries a burst of server errors and succeeds', async () => {
        bed.sandbox.setFaults(provider, { serverErrors: 3 });
        const result = await fetchReport(provider);
        assertComplete(provider, result);
        assert.equal(count(bed.sandbox, provider), base() + 3);
      });

      it('gives up on endless server errors with TransientError after a bounded number of tries', async () => {
        bed.sandbox.setFaults(provider, { serverErrors: 1000 });
        await assert.rejects(fetchReport(provider), TransientError);
        assert.equal(count(bed.sandbox, provider), 5, 'one try and four retries');
      });

      if (refreshPath) {
        it('refreshes an expired access token exactly once and returns the new credentials', async () => {
          const credentials = { ...bed.sandbox.issueCredentials(provider) };
          bed.sandbox.setFaults(provider, { expiredTokens: true });
          const result = await fetchReport(provider, { credentials });
          assertComplete(provider, result);
          assert.equal(count(bed.sandbox, provider, refreshPath), 1);
          assert.equal(count(bed.sandbox, provider), base() + 2, 'one rejected call, one refresh');
          assert.ok(result.credentials);
          assert.notEqual(result.credentials.accessToken, credentials.accessToken);
          assert.ok(result.credentials.refreshToken);
          assert.ok((result.credentials.expiresAt ?? 0) > Date.now());

          bed.sandbox.resetStats();
          const again = await fetchReport(provider, { credentials: result.credentials });
          assert.equal(again.credentials, undefined, 'the stored new token works as is');
          assert.equal(count(bed.sandbox, provider, refreshPath), 0);
        });

        it('refreshes before the first call when the stored token has already expired', async () => {
          const credentials = { ...bed.sandbox.issueCredentials(provider), expiresAt: Date.now() - 1000 };
          const result = await fetchReport(provider, { credentials });
          assertComplete(provider, result);
          assert.equal(count(bed.sandbox, provider, refreshPath), 1);
          assert.equal(count(bed.sandbox, provider), base() + 1);
          assert.ok(result.credentials);
        });

        it('ends a revoked grant as AuthExpiredError without a retry storm', async () => {
          bed.sandbox.setFaults(provider, { revoked: true });
          await assert.rejects(fetchReport(provider), (error: unknown) => {
            assert.ok(error instanceof AuthExpiredError);
            assert.match(error.message, new RegExp(`reconnect ${LABELS[provider]}`));
            return true;
          });
          assert.equal(count(bed.sandbox, provider, refreshPath), 1);
          assert.equal(count(bed.sandbox, provider), 2);
        });
      } else {
        it('treats an expired token as "reconnect" at once: the platform has no refresh', async () => {
          const credentials = { ...bed.sandbox.issueCredentials(provider) };
          bed.sandbox.setFaults(provider, { expiredTokens: true });
          await assert.rejects(fetchReport(provider, { credentials }), (error: unknown) => {
            assert.ok(error instanceof AuthExpiredError);
            assert.match(error.message, new RegExp(`reconnect ${LABELS[provider]}`));
            assert.match(error.message, /expired/);
            return true;
          });
          assert.equal(count(bed.sandbox, provider), 1);
        });

        it('ends a revoked token as AuthExpiredError after one request', async () => {
          bed.sandbox.setFaults(provider, { revoked: true });
          await assert.rejects(fetchReport(provider), AuthExpiredError);
          assert.equal(count(bed.sandbox, provider), 1);
        });
      }

      it('refuses a malformed window with PermanentError before sending anything', async () => {
        for (const window of [
          { start: '2025-02-30', end: '2025-03-02' },
          { start: '2025-03-05', end: '2025-03-01' },
          { start: '03/01/2025', end: '2025-03-02' },
        ]) {
          await assert.rejects(fetchReport(provider, { window }), PermanentError);
        }
        assert.equal(count(bed.sandbox, provider), 0);
      });

      it('turns a request the platform rejects as malformed into PermanentError, without retrying', async () => {
        bed.sandbox.setFaults(provider, { invalidRequests: 1 });
        await assert.rejects(fetchReport(provider), PermanentError);
        assert.equal(count(bed.sandbox, provider), 1);
      });

      if (provider === 'linkedin') {
        it('waits out a 429 that names no daily limit: LinkedIn sends no Retry-After (its daily limits are tested in linkedin.limits)', async () => {
          bed.sandbox.setFaults(provider, { rateLimit: { count: 1, retryAfterSeconds: 3600 } });
          assertComplete(provider, await fetchReport(provider));
          assert.equal(count(bed.sandbox, provider), base() + 1, 'one limit answer, then the same request again');
          assert.equal(bed.sandbox.requests(provider).log[0]!.status, 429);
        });
      } else if (provider === 'tiktok') {
        it('waits out its in-body limit answer (code 40100): TikTok sends no wait hint, its limit is per second', async () => {
          bed.sandbox.setFaults(provider, { rateLimit: { count: 1, retryAfterSeconds: 3600 } });
          assertComplete(provider, await fetchReport(provider));
          assert.equal(count(bed.sandbox, provider), base() + 1, 'one limit answer (code 40100), then the same request again');
          assert.equal(bed.sandbox.requests(provider).log[0]!.code, '40100');
        });

        it('surfaces a limit longer than it may wait as RateLimitedError carrying its one-second window', async () => {
          // A client allowed to wait less than TikTok's one-second window must hand the wait to the queue.
          const impatient = createConnectors({
            http: { baseDelayMs: 10, maxDelayMs: 50, maxRateLimitWaitMs: 500 },
            tiktok: { ...bed.sandbox.baseUrls.tiktok, appId: 'tiktok-app', secret: 'tiktok-secret' },
          });
          bed.sandbox.setFaults(provider, { rateLimit: { count: 1 } });
          await assert.rejects(fetchReport(provider, {}, impatient), (error: unknown) => {
            assert.ok(error instanceof RateLimitedError);
            assert.equal(error.retryAfterMs, 1000);
            return true;
          });
          assert.equal(count(bed.sandbox, provider), 1);
        });
      } else {
        it('surfaces a rate limit longer than it may wait as RateLimitedError carrying the hint', async () => {
          bed.sandbox.setFaults(provider, { rateLimit: { count: 1, retryAfterSeconds: 3600 } });
          await assert.rejects(fetchReport(provider), (error: unknown) => {
            assert.ok(error instanceof RateLimitedError);
            assert.equal(error.retryAfterMs, 3_600_000);
            return true;
          });
          assert.equal(count(bed.sandbox, provider), 1);
        });
      }
    });
  }
});
