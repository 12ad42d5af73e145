/**
 * Moves the daily metric documents (users/{uid}/metrics/{provider:account:campaign:date...},
 * one per row) into month documents (metricMonths) and account totals (metricTotals).
 * A one-off; safe to run again and beside running syncs.
 *
 *   npm run migrate:metrics -- --project ID            dry run: counts only, writes nothing
 *   npm run migrate:metrics -- --project ID --apply    writes, then deletes the daily documents it moved
 *
 * A day the new layout already holds (a sync since the deploy wrote it) is newer than the
 * daily document and is kept. Documents that do not parse as metrics are counted and left.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { initializeApp } from 'firebase-admin/app';
import { FieldPath, getFirestore, type DocumentReference, type Firestore } from 'firebase-admin/firestore';
import { METRIC_MONTHS_COLLECTION, metricDocumentSchema, type MetricRow, type ProviderId } from '../functions/src/schema/index.js';
import { planMetricWrites, readExistingMetrics, writePlannedMetrics, type StoredMetrics } from '../functions/src/sync/store.js';

export interface MigrationCounts {
  users: number;
  /** Daily documents found, valid or not. */
  dailyDocuments: number;
  /** Daily documents that are not metric rows: left in place. */
  invalid: number;
  /** Month and totals documents written (in a dry run: that would be written). */
  monthDocuments: number;
  totalsDocuments: number;
  /** Rows moved into days the new layout did not hold yet. */
  rowsMoved: number;
  /** Daily documents deleted after their rows were stored (0 in a dry run). */
  dailyDeleted: number;
}

export interface MigrationOptions {
  apply: boolean;
  /** Daily documents read per query. Default 2,000. */
  pageSize?: number;
  log?: (line: string) => void;
}

async function readDailyRows(db: Firestore, user: DocumentReference, pageSize: number) {
  const rows: MetricRow[] = [];
  const valid: DocumentReference[] = [];
  let invalid = 0;
  let after: string | null = null;
  for (;;) {
    let page = user.collection('metrics').orderBy(FieldPath.documentId()).limit(pageSize);
    if (after) page = page.startAfter(after);
    const snap = await page.get();
    for (const doc of snap.docs) {
      const parsed = metricDocumentSchema.safeParse(doc.data());
      if (!parsed.success) {
        invalid++;
        continue;
      }
      const { fetchedAt: _fetchedAt, ...row } = parsed.data;
      rows.push(row as MetricRow);
      valid.push(doc.ref);
    }
    if (snap.size < pageSize) break;
    after = snap.docs.at(-1)!.id;
  }
  return { rows, valid, invalid };
}

/** What the new layout already holds over the rows' dates, per platform. */
async function existingFor(db: Firestore, userId: string, rows: readonly MetricRow[]): Promise<StoredMetrics> {
  const spans = new Map<ProviderId, { start: string; end: string }>();
  for (const row of rows) {
    const span = spans.get(row.provider) ?? { start: row.date, end: row.date };
    spans.set(row.provider, { start: row.date < span.start ? row.date : span.start, end: row.date > span.end ? row.date : span.end });
  }
  const stored = await Promise.all([...spans].map(([providerId, window]) => readExistingMetrics(db, userId, providerId, window)));
  return { months: new Map(stored.flatMap((s) => [...s.months])), totals: new Map(stored.flatMap((s) => [...s.totals])) };
}

export async function migrateDailyMetrics(db: Firestore, options: MigrationOptions): Promise<MigrationCounts> {
  const counts: MigrationCounts = { users: 0, dailyDocuments: 0, invalid: 0, monthDocuments: 0, totalsDocuments: 0, rowsMoved: 0, dailyDeleted: 0 };
  // listDocuments also names users that exist only as the parent of their subcollections.
  for (const user of await db.collection('users').listDocuments()) {
    const { rows, valid, invalid } = await readDailyRows(db, user, options.pageSize ?? 2000);
    if (rows.length === 0 && invalid === 0) continue;
    counts.users++;
    counts.dailyDocuments += rows.length + invalid;
    counts.invalid += invalid;
    const plans = planMetricWrites(db, user.id, rows, await existingFor(db, user.id, rows), { onlyMissingDays: true });
    const months = plans.filter((p) => p.ref.parent.id === METRIC_MONTHS_COLLECTION).length;
    counts.monthDocuments += months;
    counts.totalsDocuments += plans.length - months;
    counts.rowsMoved += plans.reduce((sum, p) => sum + p.rows, 0);
    if (options.apply) {
      await writePlannedMetrics(db, plans);
      // Deleted only once their rows are durable in the new layout: a crash in between leaves
      // daily documents behind, and the next run finds their days stored and just deletes them.
      const writer = db.bulkWriter();
      for (const ref of valid) void writer.delete(ref);
      await writer.close();
      counts.dailyDeleted += valid.length;
    }
    options.log?.(`${user.id}: ${rows.length} rows, ${invalid} invalid, ${plans.length} documents ${options.apply ? 'written' : 'to write'}`);
  }
  return counts;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { project: { type: 'string' }, apply: { type: 'boolean', default: false } } });
  const projectId = values.project ?? process.env.GCLOUD_PROJECT;
  if (!projectId) throw new Error('--project is required (or GCLOUD_PROJECT)');
  const db = getFirestore(initializeApp({ projectId }));
  const counts = await migrateDailyMetrics(db, { apply: values.apply, log: (line) => console.log(line) });
  console.log(JSON.stringify({ mode: values.apply ? 'apply' : 'dry run', projectId, ...counts }, null, 2));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
