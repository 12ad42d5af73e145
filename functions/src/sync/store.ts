import { Timestamp, type Firestore } from 'firebase-admin/firestore';
import type { ReportWindow } from '../providers/index.js';
import {
  integrationDocumentSchema,
  metricRowId,
  providerCredentialsSchema,
  type IntegrationDocument,
  type MetricRow,
  type ProviderCredentials,
  type ProviderId,
} from '../schema/index.js';

/** Server-only (firestore.rules deny every client): tokens never sit in a readable document. */
export const CREDENTIALS_COLLECTION = 'providerCredentials';
export const credentialsRef = (db: Firestore, userId: string, providerId: ProviderId) =>
  db.collection(CREDENTIALS_COLLECTION).doc(`${userId}__${providerId}`);
export const integrationRef = (db: Firestore, userId: string, providerId: ProviderId) =>
  db.collection('users').doc(userId).collection('integrations').doc(providerId);
export const metricsCollection = (db: Firestore, userId: string) => db.collection('users').doc(userId).collection('metrics');

export async function loadIntegration(
  db: Firestore,
  userId: string,
  providerId: ProviderId,
): Promise<{ integration: IntegrationDocument | null; credentials: ProviderCredentials | null; version: Timestamp | null }> {
  const [integration, credentials] = await Promise.all([
    integrationRef(db, userId, providerId).get(),
    credentialsRef(db, userId, providerId).get(),
  ]);
  return {
    integration: integration.exists ? integrationDocumentSchema.parse(integration.data()) : null,
    credentials: credentials.exists ? providerCredentialsSchema.parse(credentials.data()) : null,
    /** The integration's update time as read: a job's later writes are fenced on it (sync/connection.ts). */
    version: integration.updateTime ?? null,
  };
}

/** What decides whether a stored row must be rewritten. */
function fingerprint(row: Pick<MetricRow, 'campaignName' | 'impressions' | 'clicks' | 'spend' | 'currency' | 'conversions'>): string {
  return [row.campaignName, row.impressions, row.clicks, row.spend, row.currency, row.conversions].join('|');
}

/**
 * The window's stored rows of the user's account on this platform, read in one query:
 * id -> fingerprint. (A user has one account per platform, and ids include the account.)
 */
export async function readExistingMetrics(
  db: Firestore,
  userId: string,
  providerId: ProviderId,
  window: ReportWindow,
): Promise<Map<string, string>> {
  const snap = await metricsCollection(db, userId)
    .where('provider', '==', providerId)
    .where('date', '>=', window.start)
    .where('date', '<=', window.end)
    .select('campaignName', 'impressions', 'clicks', 'spend', 'currency', 'conversions')
    .get();
  return new Map(snap.docs.map((doc) => [doc.id, fingerprint(doc.data() as MetricRow)]));
}

export interface WriteOptions {
  batchSize?: number;
  /** Called after each batch is durable; a test uses it to simulate a crash mid-sync. */
  onBatchWritten?: (written: number) => void;
  /** The job's signal: once it is aborted (timeout), no further batch is started. */
  signal?: AbortSignal;
}

/**
 * Writes new and changed rows under deterministic ids (metricRowId), in batches through a
 * BulkWriter: a re-run or a retry after a crash rewrites the same documents.
 */
export async function writeMetrics(
  db: Firestore,
  userId: string,
  rows: readonly MetricRow[],
  existing: ReadonlyMap<string, string>,
  options: WriteOptions = {},
): Promise<{ written: number; unchanged: number }> {
  const changed = rows.filter((row) => existing.get(metricRowId(row)) !== fingerprint(row));
  const batchSize = options.batchSize ?? 500;
  const collection = metricsCollection(db, userId);
  const fetchedAt = Timestamp.now();
  let written = 0;
  for (let i = 0; i < changed.length; i += batchSize) {
    // A timed-out job must stop writing: its retry may already be running elsewhere.
    options.signal?.throwIfAborted();
    const writer = db.bulkWriter();
    const failures: Error[] = [];
    for (const row of changed.slice(i, i + batchSize)) {
      writer.set(collection.doc(metricRowId(row)), { ...row, fetchedAt }).catch((error: Error) => failures.push(error));
    }
    await writer.close();
    if (failures.length > 0) throw new Error(`${failures.length} metric writes failed: ${failures[0]!.message}`);
    written += Math.min(batchSize, changed.length - i);
    options.onBatchWritten?.(written);
  }
  return { written, unchanged: rows.length - changed.length };
}
