import type { Firestore } from 'firebase-admin/firestore';
import type { ConnectorRegistry, ReportWindow } from '../providers/index.js';
import { PermanentError } from '../providers/index.js';
import { metricRowSchema, type MetricRow, type ProviderCredentials, type ProviderId, type ReportKind } from '../schema/index.js';
import { readExistingMetrics, saveCredentials, writeMetrics, type WriteOptions } from './store.js';

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
  /** The credentials in force after the sync (refreshed ones are already stored). */
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
  // Kinds share one token: fetch the main kind first when the token may need a refresh,
  // so two parallel calls never both refresh it.
  const [first, ...rest] = kinds;
  if (!first) throw new PermanentError(request.providerId, 'no report kind to fetch');
  const existing = readExistingMetrics(db, request.userId, request.providerId, request.window);
  existing.catch(() => undefined);
  const input = { account: request.accountId, window: request.window, signal: request.signal };
  const primary = await connector.fetchReport(first, { ...input, credentials: request.credentials });
  const credentials = primary.credentials ?? request.credentials;
  const others = await Promise.all(rest.map((kind) => connector.fetchReport(kind, { ...input, credentials })));
  const results = [primary, ...others];
  const refreshed = results.map((r) => r.credentials).filter((c) => c !== undefined).at(-1);
  if (refreshed) await saveCredentials(db, request.userId, request.providerId, refreshed);

  const rows = results.flatMap((r) => r.rows);
  assertValidRows(request.providerId, rows);
  const { written, unchanged } = await writeMetrics(db, request.userId, rows, await existing, writeOptions);
  return {
    rowsFetched: rows.length,
    rowsWritten: written,
    rowsUnchanged: unchanged,
    apiCalls: results.reduce((sum, r) => sum + r.apiCalls, 0),
    credentials: refreshed ?? credentials,
  };
}

/** Bad data fails the job and names the record, instead of storing garbage. */
function assertValidRows(providerId: ProviderId, rows: readonly MetricRow[]): void {
  for (const row of rows) {
    const parsed = metricRowSchema.safeParse(row);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new PermanentError(
        providerId,
        `invalid ${issue.path.join('.')}: ${issue.message}`,
        `campaign ${String(row.campaignId)} on ${String(row.date)}`,
      );
    }
  }
}
