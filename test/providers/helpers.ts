import { after, before, beforeEach } from 'node:test';
import { addDays } from '../../functions/src/providers/dates.js';
import { createConnectors } from '../../functions/src/providers/index.js';
import type { ConnectorRegistry } from '../../functions/src/providers/index.js';
import type { MetricRow, ProviderId, ReportWindow } from '../../functions/src/providers/types.js';
import { metricRowId } from '../../functions/src/schema/metrics.js';
import { startSandbox } from '../../scripts/sandbox/server.js';
import type { Sandbox, SandboxOptions } from '../../scripts/sandbox/server.js';

/** Small pages and caps so a few weeks of data already spans several requests. */
export const TEST_PAGING = { metaPageSize: 40, googleBatchSize: 25, linkedinMaxRows: 60, linkedinCampaignPage: 4, tiktokPageSize: 30 };

export interface TestBed {
  sandbox: Sandbox;
  connectors: ConnectorRegistry;
}

export async function startTestBed(options: SandboxOptions = {}): Promise<TestBed> {
  // The sandbox cuts LinkedIn answers off at the connector's planning size: a request over it loses rows, which the tests' row comparisons catch.
  const sandbox = await startSandbox({ latencyMs: 1, googleBatchSize: TEST_PAGING.googleBatchSize, linkedinRowCap: TEST_PAGING.linkedinMaxRows, ...options });
  const urls = sandbox.baseUrls;
  const connectors = createConnectors({
    // Fast backoff keeps the suite quick; the platforms' own waits (Retry-After and friends) still apply,
    // and a hint below a second (Meta's "0 minutes") waits one second instead of Meta's minute.
    http: { baseDelayMs: 10, maxDelayMs: 50, retries: 4, maxRateLimitWaitMs: 5_000, minRateLimitWaitMs: 1000, timeoutMs: 10_000 },
    meta: { ...urls.meta, pageSize: TEST_PAGING.metaPageSize, asyncAfterDays: 60, asyncPollIntervalMs: 10 },
    google: { ...urls.google, developerToken: 'dev-token', clientId: 'google-client', clientSecret: 'google-secret' },
    linkedin: {
      ...urls.linkedin,
      clientId: 'linkedin-client',
      clientSecret: 'linkedin-secret',
      maxRowsPerRequest: TEST_PAGING.linkedinMaxRows,
      campaignPageSize: TEST_PAGING.linkedinCampaignPage,
    },
    tiktok: { ...urls.tiktok, appId: 'tiktok-app', secret: 'tiktok-secret', pageSize: TEST_PAGING.tiktokPageSize },
  });
  return { sandbox, connectors };
}

/** Each platform's account as a user would paste it, and the bare id rows carry. */
export const ACCOUNTS: Record<ProviderId, { input: string; id: string }> = {
  meta: { input: 'act_1234567', id: '1234567' },
  google: { input: '123-456-7890', id: '1234567890' },
  linkedin: { input: 'urn:li:sponsoredAccount:5551234', id: '5551234' },
  tiktok: { input: '7000000000000000001', id: '7000000000000000001' },
};

/** Where each platform refreshes tokens; Meta has no refresh. */
export const REFRESH_PATHS: Record<ProviderId, string | null> = {
  meta: null,
  google: 'POST /token',
  linkedin: 'POST /oauth/v2/accessToken',
  tiktok: 'POST /open_api/v1.3/oauth2/refresh_token/',
};

export function sortRows(rows: readonly MetricRow[]): MetricRow[] {
  return [...rows].sort((a, b) => (metricRowId(a) < metricRowId(b) ? -1 : metricRowId(a) > metricRowId(b) ? 1 : 0));
}

export function days(start: string, count: number): ReportWindow {
  return { start, end: addDays(start, count - 1) };
}

/** Requests the sandbox received for a platform, optionally only those to one "METHOD path". */
export function count(sandbox: Sandbox, provider: ProviderId, path?: string): number {
  const stats = sandbox.requests(provider);
  return path === undefined ? stats.total : (stats.byPath[path] ?? 0);
}

/** Requests whose path matches, for paths that carry ids (report runs, accounts). */
export function countMatching(sandbox: Sandbox, provider: ProviderId, pattern: RegExp): number {
  return sandbox.requests(provider).log.filter((e) => pattern.test(`${e.method} ${e.path}`)).length;
}

/**
 * Registers the suite's hooks: a sandbox for the whole suite, and before each test the
 * platform's request counts reset and its faults cleared. Use inside `describe`.
 */
export function useTestBed(provider: ProviderId): TestBed {
  let current: TestBed | undefined;
  before(async () => {
    current = await startTestBed();
  });
  after(async () => {
    await current?.sandbox.close();
  });
  beforeEach(() => {
    current!.sandbox.resetStats();
    current!.sandbox.setFaults(provider, {});
  });
  return {
    get sandbox() {
      return current!.sandbox;
    },
    get connectors() {
      return current!.connectors;
    },
  };
}

/**
 * Registers a suite's hooks around a sandbox of its own (for suites that need sandbox options
 * of their own and build their own connectors): started once, its request counts reset and
 * the platform's faults cleared before each test.
 */
export function useSandbox(provider: ProviderId, options: SandboxOptions = {}): { readonly sandbox: Sandbox } {
  let current: Sandbox | undefined;
  before(async () => {
    current = await startSandbox(options);
  });
  after(async () => {
    await current?.close();
  });
  beforeEach(() => {
    current!.resetStats();
    current!.setFaults(provider, {});
  });
  return {
    get sandbox() {
      return current!;
    },
  };
}
