import type { ProviderId } from '../schema/common.js';
import type { ProviderCredentials } from '../schema/credentials.js';
import type { MetricRow, ReportKind } from '../schema/metrics.js';

export type { ProviderId, ProviderCredentials, MetricRow, ReportKind };

/** Inclusive calendar days, YYYY-MM-DD, in the ad account's timezone. */
export interface ReportWindow {
  start: string;
  end: string;
}

export interface FetchReportInput {
  /** The platform's account id; prefixes and dashes are accepted ("act_123", "123-456-7890"). */
  account: string;
  credentials: ProviderCredentials;
  window: ReportWindow;
  signal?: AbortSignal;
  /** Where a token refresh goes through, when the caller keeps the credentials (see CredentialRefresher). */
  refresher?: CredentialRefresher;
}

/**
 * The caller's part in a token refresh: it gets the stale credentials and a function that
 * asks the platform for new ones, and returns the credentials to use. It may store them at
 * once, or return credentials someone else refreshed meanwhile instead of refreshing again.
 */
export interface CredentialRefresher {
  refresh(stale: ProviderCredentials, refreshAtPlatform: () => Promise<ProviderCredentials>): Promise<ProviderCredentials>;
}

export interface FetchReportResult {
  /** One row per campaign, day (and segment for breakdown kinds), each exactly once. */
  rows: MetricRow[];
  /** HTTP requests sent to the platform for this report, retries and token refreshes included. */
  apiCalls: number;
  /** Present when the access token was refreshed: the caller stores these in place of the old ones. */
  credentials?: ProviderCredentials;
}

export interface Connector {
  readonly providerId: ProviderId;
  readonly reportKinds: readonly ReportKind[];
  /** Days the platform keeps restating (late attribution): the default lookback for incremental syncs. */
  readonly restatementDays: number;
  fetchReport(kind: ReportKind, input: FetchReportInput): Promise<FetchReportResult>;
}
