import type { ProviderId } from '../schema/common.js';
import type { ProviderCredentials } from '../schema/credentials.js';
import type { DateWindow } from '../schema/jobs.js';
import type { MetricRow, PendingReport, ReportKind } from '../schema/metrics.js';

export type { ProviderId, ProviderCredentials, MetricRow, PendingReport, ReportKind };

/** Inclusive calendar days, YYYY-MM-DD, in the ad account's timezone: the window a job stores. */
export type ReportWindow = DateWindow;

export interface FetchReportInput {
  /** The platform's account id; prefixes and dashes are accepted ("act_123", "123-456-7890"). */
  account: string;
  credentials: ProviderCredentials;
  window: ReportWindow;
  signal?: AbortSignal;
  /**
   * Parts of this report the platform was still preparing when an earlier run stopped: only
   * these are resumed (the rest of the window was fetched then). Connectors without
   * long-running reports never return any.
   */
  pending?: readonly PendingReport[];
  /** The account's currency (ISO 4217) when the connection already knows it: a connector that looks it up separately skips that call. */
  currency?: string | null;
  /**
   * Google Ads: the manager account (10 digits) this connection reaches its client account
   * through, sent as login-customer-id; null or absent falls back to the deployment's.
   */
  loginCustomerId?: string | null;
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
  /**
   * Parts the platform is still preparing: `rows` cover the rest of the window. Call again
   * later with these as `pending` instead of holding a worker while the platform works.
   */
  pending?: PendingReport[];
  /** The account's currency, when the connector looked it up (TikTok): the caller keeps it with the connection. */
  accountCurrency?: string;
}

export interface Connector {
  readonly providerId: ProviderId;
  readonly reportKinds: readonly ReportKind[];
  fetchReport(kind: ReportKind, input: FetchReportInput): Promise<FetchReportResult>;
}
