import { FieldPath, Timestamp, type DocumentReference, type Firestore } from 'firebase-admin/firestore';
import type { ReportWindow } from '../providers/index.js';
import {
  integrationDocumentSchema,
  credentialsPath,
  dayValues,
  integrationPath,
  metricMonthId,
  metricMonthsPath,
  metricTotalsId,
  metricTotalsPath,
  monthOf,
  segmentKey,
  type CampaignDay,
  type MetricMonth,
  type MetricTotals,
  providerCredentialsSchema,
  type IntegrationDocument,
  type MetricRow,
  type ProviderCredentials,
  type ProviderId,
} from '../schema/index.js';

export const credentialsRef = (db: Firestore, userId: string, providerId: ProviderId) => db.doc(credentialsPath(userId, providerId));
export const integrationRef = (db: Firestore, userId: string, providerId: ProviderId) => db.doc(integrationPath(userId, providerId));

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

const byKey = <T>(a: [string, T], b: [string, T]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/**
 * A stored day, or a row group about to be stored, as text: equal text, nothing to write.
 * Keys in order, since Firestore does not keep a map's key order.
 */
const dayFingerprint = (value: unknown): string =>
  JSON.stringify(value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.entries(value).sort(byKey) : value);

interface StoredDoc {
  /** Everything but the days and the campaign names (campaign name and currency, or the totals' currency). */
  header: string;
  days: Map<string, string>;
  /** Totals: campaign id -> name. */
  names?: Map<string, string>;
}

/** The window's stored documents: month id -> its header and each day's fingerprint. */
export interface StoredMetrics {
  months: Map<string, StoredDoc>;
  totals: Map<string, StoredDoc>;
}

const monthHeader = (d: Pick<MetricMonth, 'campaignName' | 'currency'>) => dayFingerprint([d.campaignName, d.currency]);
const totalsHeader = (d: Pick<MetricTotals, 'currency'>) => dayFingerprint([d.currency]);

function storedDoc(header: string, days: Record<string, unknown>): StoredDoc {
  return { header, days: new Map(Object.entries(days).map(([date, value]) => [date, dayFingerprint(value)])) };
}

/**
 * The stored month documents (every kind and campaign) and the account totals of the
 * months the window touches, read in two queries. (A user has one account per platform,
 * and ids include the account.)
 */
export async function readExistingMetrics(
  db: Firestore,
  userId: string,
  providerId: ProviderId,
  window: ReportWindow,
): Promise<StoredMetrics> {
  const inWindow = (collectionPath: string) =>
    db
      .collection(collectionPath)
      .where('provider', '==', providerId)
      .where('month', '>=', monthOf(window.start))
      .where('month', '<=', monthOf(window.end))
      .get();
  const [months, totals] = await Promise.all([inWindow(metricMonthsPath(userId)), inWindow(metricTotalsPath(userId))]);
  return {
    months: new Map(months.docs.map((doc) => {
      const d = doc.data() as MetricMonth;
      return [doc.id, storedDoc(monthHeader(d), d.days ?? {})];
    })),
    totals: new Map(totals.docs.map((doc) => {
      const d = doc.data() as MetricTotals;
      return [doc.id, { ...storedDoc(totalsHeader(d), d.days ?? {}), names: new Map(Object.entries(d.campaigns ?? {})) }];
    })),
  };
}

export const emptyStoredMetrics = (): StoredMetrics => ({ months: new Map(), totals: new Map() });

export interface PlannedDoc {
  ref: DocumentReference;
  header: Record<string, unknown>;
  /** The days to replace whole, with their new content. */
  days: Map<string, unknown>;
  /** Rows these days hold (0 for the totals, which repeat the campaign-daily rows). */
  rows: number;
}

/** What a set of fetched rows changes: the month and totals documents, each with only its changed days. */
export function planMetricWrites(db: Firestore, userId: string, rows: readonly MetricRow[], existing: StoredMetrics, options: { onlyMissingDays?: boolean } = {}): PlannedDoc[] {
  const monthDocs = db.collection(metricMonthsPath(userId));
  const totalsDocs = db.collection(metricTotalsPath(userId));
  const months = new Map<string, { first: MetricRow; days: Map<string, Map<string, CampaignDay>> }>();
  const totals = new Map<string, { first: MetricRow; campaigns: Map<string, string>; days: Map<string, Map<string, CampaignDay>> }>();
  // Grouped by a plain key first: the escaped document id is computed once per document, not per row.
  const month7 = (date: string) => date.slice(0, 7);
  for (const row of rows) {
    const monthKey = `${row.provider}\u0000${row.accountId}\u0000${row.kind}\u0000${row.campaignId}\u0000${month7(row.date)}`;
    const month = months.get(monthKey) ?? { first: row, days: new Map() };
    months.set(monthKey, month);
    const day = month.days.get(row.date) ?? new Map<string, CampaignDay>();
    month.days.set(row.date, day);
    day.set(segmentKey(row), dayValues(row));
    if (row.kind !== 'campaign-daily') continue;
    const totalsKey = `${row.provider}\u0000${row.accountId}\u0000${month7(row.date)}`;
    const t = totals.get(totalsKey) ?? { first: row, campaigns: new Map(), days: new Map() };
    totals.set(totalsKey, t);
    t.campaigns.set(row.campaignId, row.campaignName);
    const tDay = t.days.get(row.date) ?? new Map<string, CampaignDay>();
    t.days.set(row.date, tDay);
    tDay.set(row.campaignId, dayValues(row));
  }

  const changedDays = <T>(stored: StoredDoc | undefined, days: Map<string, T>): Map<string, T> =>
    new Map([...days].filter(([date, value]) => {
      const before = stored?.days.get(date);
      return options.onlyMissingDays ? before === undefined : before !== dayFingerprint(value);
    }));

  const plans: PlannedDoc[] = [];
  for (const month of months.values()) {
    const id = metricMonthId(month.first);
    const { provider, accountId, kind, campaignId, campaignName, currency, date } = month.first;
    const days = new Map([...month.days].map(([d, segments]) => [d, Object.fromEntries(segments)]));
    const stored = existing.months.get(id);
    const header = { provider, accountId, kind, campaignId, campaignName, currency, month: monthOf(date) };
    const changed = changedDays(stored, days);
    const headerChanged = !options.onlyMissingDays && stored?.header !== monthHeader(header);
    if (changed.size === 0 && !headerChanged) continue;
    const rowCount = [...changed.values()].reduce((sum, segments) => sum + Object.keys(segments).length, 0);
    plans.push({ ref: monthDocs.doc(id), header, days: changed, rows: rowCount });
  }
  for (const t of totals.values()) {
    const id = metricTotalsId(t.first);
    const { provider, accountId, currency, date } = t.first;
    const days = new Map([...t.days].map(([d, byCampaign]) => [d, Object.fromEntries(byCampaign)]));
    const stored = existing.totals.get(id);
    const campaigns = Object.fromEntries(t.campaigns);
    const changed = changedDays(stored, days);
    const header = { provider, accountId, currency, month: monthOf(date), campaigns };
    // Names are merged per campaign, so a header change never drops another writer's campaigns.
    const headerChanged =
      !options.onlyMissingDays && (stored?.header !== totalsHeader(header) || [...t.campaigns].some(([campaignId, name]) => stored.names?.get(campaignId) !== name));
    if (changed.size === 0 && !headerChanged) continue;
    plans.push({ ref: totalsDocs.doc(id), header, days: changed, rows: 0 });
  }
  return plans;
}

export interface WriteOptions {
  /** Documents per BulkWriter batch. Default 200. */
  batchSize?: number;
  /** Called after each batch is durable with the documents written so far; a test uses it to simulate a crash mid-sync. */
  onBatchWritten?: (documentsWritten: number) => void;
  /** The job's signal: once it is aborted (timeout, lease lost), no further batch is started. */
  signal?: AbortSignal;
}

export interface WriteResult {
  /** Rows in the days written. */
  written: number;
  unchanged: number;
  documents: number;
}

/**
 * Writes each planned document once, replacing only its changed days (and its header
 * fields) by field path: the other days of the month stay as they are, whoever wrote them.
 * Ids are deterministic, so a re-run or a retry after a crash rewrites the same documents,
 * and compares equal once everything landed.
 */
export async function writePlannedMetrics(db: Firestore, plans: readonly PlannedDoc[], options: WriteOptions = {}): Promise<number> {
  const batchSize = options.batchSize ?? 200;
  const fetchedAt = Timestamp.now();
  let documents = 0;
  for (let i = 0; i < plans.length; i += batchSize) {
    // A timed-out job must stop writing: its retry may already be running elsewhere.
    options.signal?.throwIfAborted();
    const writer = db.bulkWriter();
    const failures: Error[] = [];
    for (const plan of plans.slice(i, i + batchSize)) {
      const { campaigns, ...header } = plan.header as { campaigns?: Record<string, string> };
      const fields: Array<string | FieldPath> = [...Object.keys(header), 'fetchedAt'];
      if (campaigns) fields.push(...Object.keys(campaigns).map((id) => new FieldPath('campaigns', id)));
      fields.push(...[...plan.days.keys()].map((date) => new FieldPath('days', date)));
      const data = { ...plan.header, fetchedAt, days: Object.fromEntries(plan.days) };
      writer.set(plan.ref, data, { mergeFields: fields }).catch((error: Error) => failures.push(error));
    }
    await writer.close();
    if (failures.length > 0) throw new Error(`${failures.length} metric writes failed: ${failures[0]!.message}`);
    documents += Math.min(batchSize, plans.length - i);
    options.onBatchWritten?.(documents);
  }
  return documents;
}

/** Writes new and changed days of the fetched rows, grouped into month and totals documents. */
export async function writeMetrics(
  db: Firestore,
  userId: string,
  rows: readonly MetricRow[],
  existing: StoredMetrics,
  options: WriteOptions = {},
): Promise<WriteResult> {
  const plans = planMetricWrites(db, userId, rows, existing);
  const documents = await writePlannedMetrics(db, plans, options);
  const written = plans.reduce((sum, p) => sum + p.rows, 0);
  return { written, unchanged: rows.length - written, documents };
}
