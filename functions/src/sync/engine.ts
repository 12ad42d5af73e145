import type { Firestore } from 'firebase-admin/firestore';
import type { ConnectorRegistry, FetchReportResult, ReportWindow } from '../providers/index.js';
import { PermanentError } from '../providers/index.js';
import type { ProviderCredentials, ProviderId, ReportKind } from '../schema/index.js';
import { StoredCredentialRefresher } from './credentials.js';
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
}

export interface SyncWindowResult {
  rowsFetched: number;
  rowsWritten: number;
  rowsUnchanged: number;
  apiCalls: number;
  /** The credentials in force after the sync (refreshed ones were stored when issued). */
  credentials: ProviderCredentials;
}

/**
 * One window of one integration: every report kind is fetched for the whole window at once
 * (never a request per week or per day) and in parallel, the stored rows of the window are
 * read in one query meanwhile, and only new or changed rows are written, in batches.
 */
export async function syncWindow(
  db: Firestore,
  connectors: ConnectorRegistry,
  request: SyncWindowRequest,
  writeOptions: WriteOptions = {},
): Promise<SyncWindowResult> {
  const connector = connectors.get(request.providerId);
  const kinds = request.kinds ?? connector.reportKinds;
  const existing = readExistingMetrics(db, request.userId, request.providerId, request.window);
  existing.catch(() => undefined);
  // Refreshed credentials are stored the moment they are issued (see StoredCredentialRefresher).
  const refresher = new StoredCredentialRefresher(db, request.userId, request.providerId, { signal: request.signal });
  const input = { account: request.accountId, window: request.window, signal: request.signal, refresher };
  let results: FetchReportResult[];
  if (tokenMayExpire(request.credentials)) {
    // Kinds share one token: the first kind goes alone so that only it refreshes the
    // token, and the others use the fresh one.
    const [first, ...rest] = kinds;
    if (!first) throw new PermanentError(request.providerId, 'no report kind to fetch');
    const primary = await connector.fetchReport(first, { ...input, credentials: request.credentials });
    const credentials = primary.credentials ?? request.credentials;
    results = [primary, ...(await Promise.all(rest.map((kind) => connector.fetchReport(kind, { ...input, credentials }))))];
  } else {
    results = await Promise.all(kinds.map((kind) => connector.fetchReport(kind, { ...input, credentials: request.credentials })));
  }
  const refreshed = results.map((r) => r.credentials).filter((c) => c !== undefined).at(-1);

  // Rows arrive validated: each connector checks them against metricRowSchema and names a bad record.
  const rows = results.flatMap((r) => r.rows);
  request.signal?.throwIfAborted();
  const { written, unchanged } = await writeMetrics(db, request.userId, rows, await existing, { ...writeOptions, signal: request.signal });
  return {
    rowsFetched: rows.length,
    rowsWritten: written,
    rowsUnchanged: unchanged,
    apiCalls: results.reduce((sum, r) => sum + r.apiCalls, 0),
    credentials: refreshed ?? request.credentials,
  };
}

/** Refresh margin: a token this close to its expiry is treated as expiring. */
const EXPIRY_MARGIN_MS = 5 * 60_000;

function tokenMayExpire(credentials: ProviderCredentials, now = Date.now()): boolean {
  return credentials.expiresAt !== null && credentials.expiresAt - now < EXPIRY_MARGIN_MS;
}
