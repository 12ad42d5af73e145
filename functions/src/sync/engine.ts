import type { Firestore } from 'firebase-admin/firestore';
import type { ConnectorRegistry, FetchReportResult, ReportWindow } from '../providers/index.js';
import { PermanentError, tokenExpiresSoon } from '../providers/index.js';
import type { PendingReport, ProviderCredentials, ProviderId, ReportKind } from '../schema/index.js';
import { StoredCredentialRefresher } from './credentials.js';
import { saveAccountCurrency } from './connection.js';
import { readExistingMetrics, writeMetrics, type WriteOptions } from './store.js';

export interface SyncWindowRequest {
  userId: string;
  providerId: ProviderId;
  accountId: string;
  credentials: ProviderCredentials;
  window: ReportWindow;
  /** Defaults to every kind the platform offers. */
  kinds?: readonly ReportKind[];
  signal?: AbortSignal;
  /** Reports an earlier run left with the platform: only these are fetched, the rest of the window is stored already. */
  pending?: readonly PendingReport[];
  /** The account's currency as the connection knows it (null: not yet known). */
  currency?: string | null;
  /** Google Ads: the connection's manager account (login-customer-id). */
  loginCustomerId?: string | null;
  /** The integration's connectionId when the job started: a learnt currency is stored only while it still holds. */
  connectionId?: string | null;
}

export interface SyncWindowResult {
  rowsFetched: number;
  rowsWritten: number;
  rowsUnchanged: number;
  /** Month and totals documents written (each holds many rows). */
  documentsWritten: number;
  apiCalls: number;
  /** The credentials in force after the sync (refreshed ones were stored when issued). */
  credentials: ProviderCredentials;
  /** Reports the platform is still preparing: the window is complete once a later run has fetched them. */
  pending: PendingReport[];
  /** The account's currency as now known (a newly learnt one is already stored). */
  currency: string | null;
}

/**
 * One window of one integration: every report kind is fetched for the whole window at once
 * (never a request per week or per day) and in parallel, the stored rows of the window are
 * read meanwhile (two queries: month documents and account totals), and only new or
 * changed days are written, each month document once.
 * Reports the platform is still preparing come back as `pending`: the rows of everything
 * else are written now, and a later call with `pending` fetches just those.
 */
export async function syncWindow(
  db: Firestore,
  connectors: ConnectorRegistry,
  request: SyncWindowRequest,
  writeOptions: WriteOptions = {},
): Promise<SyncWindowResult> {
  const connector = connectors.get(request.providerId);
  const resuming = request.pending !== undefined && request.pending.length > 0;
  const kinds = resuming ? [...new Set(request.pending!.map((p) => p.kind))] : (request.kinds ?? connector.reportKinds);
  const existing = readExistingMetrics(db, request.userId, request.providerId, request.window);
  existing.catch(() => undefined);
  // Refreshed credentials are stored the moment they are issued (see StoredCredentialRefresher).
  const refresher = new StoredCredentialRefresher(db, request.userId, request.providerId, { signal: request.signal });
  const fetchKind = (kind: ReportKind, credentials: ProviderCredentials) =>
    connector.fetchReport(kind, {
      account: request.accountId,
      window: request.window,
      signal: request.signal,
      credentials,
      refresher,
      currency: request.currency ?? null,
      loginCustomerId: request.loginCustomerId ?? null,
      ...(resuming ? { pending: request.pending!.filter((p) => p.kind === kind) } : {}),
    });
  let results: FetchReportResult[];
  if (tokenExpiresSoon(request.credentials)) {
    // Kinds share one token: the first kind goes alone so that only it refreshes the
    // token, and the others use the fresh one.
    const [first, ...rest] = kinds;
    if (!first) throw new PermanentError(request.providerId, 'no report kind to fetch');
    const primary = await fetchKind(first, request.credentials);
    const credentials = primary.credentials ?? request.credentials;
    results = [primary, ...(await Promise.all(rest.map((kind) => fetchKind(kind, credentials))))];
  } else {
    results = await Promise.all(kinds.map((kind) => fetchKind(kind, request.credentials)));
  }
  const refreshed = results.map((r) => r.credentials).filter((c) => c !== undefined).at(-1);
  // Kept with the connection, so the platform is asked once, not on every sync.
  const currency = results.map((r) => r.accountCurrency).find((c) => c !== undefined);
  if (currency && currency !== request.currency) {
    const { userId, providerId, accountId } = request;
    await saveAccountCurrency(db, { userId, providerId, accountId, connectionId: request.connectionId ?? null }, currency);
  }

  // Rows arrive validated: each connector checks them against metricRowSchema and names a bad record.
  const rows = results.flatMap((r) => r.rows);
  request.signal?.throwIfAborted();
  const { written, unchanged, documents } = await writeMetrics(db, request.userId, rows, await existing, { ...writeOptions, signal: request.signal });
  return {
    rowsFetched: rows.length,
    rowsWritten: written,
    rowsUnchanged: unchanged,
    documentsWritten: documents,
    apiCalls: results.reduce((sum, r) => sum + r.apiCalls, 0),
    credentials: refreshed ?? request.credentials,
    pending: results.flatMap((r) => r.pending ?? []),
    currency: currency ?? request.currency ?? null,
  };
}
