import { Timestamp, type Firestore, type Query, type QueryDocumentSnapshot } from 'firebase-admin/firestore';
import { FINISHED_STATUSES } from './job.js';
import { isFenceConflict } from '../firestore/errors.js';
import { jobsCollection } from './collections.js';

export interface CleanupOptions {
  retentionDays: number;
  eventsCollectionPath: string;
  /** Collections whose documents carry `expireAt`: those past it are deleted (alert states). */
  expiringCollectionPaths?: readonly string[];
  pageSize?: number;
  /**
   * Stop starting new pages after this long, so a backlog never outlives the function's
   * timeout; what is left goes at the next run (`complete: false`). Default 90 s.
   */
  budgetMs?: number;
  now?: () => number;
}

export interface CleanupResult {
  jobs: number;
  events: number;
  expired: number;
  /** False when the budget ran out with documents left to delete. */
  complete: boolean;
}

/**
 * Deletes finished jobs and scheduler events older than the retention, and documents past
 * their `expireAt` in the expiring collections. Queued and running jobs are never touched,
 * whatever their age. In production Firestore's TTL policies do this (docs/operations.md);
 * this is the emulator's cleanup and the backstop. Pages through with a BulkWriter.
 */
export async function cleanupOldJobs(db: Firestore, options: CleanupOptions): Promise<CleanupResult> {
  const now = options.now ?? Date.now;
  const started = now();
  const deadline = started + (options.budgetMs ?? 90_000);
  const cutoff = Timestamp.fromMillis(Date.now() - options.retentionDays * 86_400_000);
  const pageSize = options.pageSize ?? 1_000;
  // One query per finished status rather than one `in` query: the emulator answers an
  // equality three times faster (it scans), and each is served by the (status, finishedAt) index.
  const jobs = FINISHED_STATUSES.map((status) => ({ query: jobsCollection(db).where('status', '==', status).where('finishedAt', '<', cutoff), field: 'finishedAt' }));
  const events = { query: db.collection(options.eventsCollectionPath).where('at', '<', cutoff), field: 'at' };
  const expired = (options.expiringCollectionPaths ?? []).map((path) => ({ query: db.collection(path).where('expireAt', '<', Timestamp.now()), field: 'expireAt' }));
  const run = (queries: { query: Query; field: string }[]) => Promise.all(queries.map(({ query, field }) => deleteAll(db, query, { field, pageSize, deadline, now })));
  const [jobsDeleted, eventsDeleted, expiredDeleted] = await Promise.all([run(jobs), run([events]), run(expired)]);
  const total = (results: { deleted: number }[]) => results.reduce((sum, r) => sum + r.deleted, 0);
  return {
    jobs: total(jobsDeleted),
    events: total(eventsDeleted),
    expired: total(expiredDeleted),
    complete: [...jobsDeleted, ...eventsDeleted, ...expiredDeleted].every((r) => r.complete),
  };
}

/**
 * Deletes what the query matches, a page at a time, in the order of its range field `field`
 * with a cursor, so no page scans the index entries of documents deleted before it; reads the
 * next page while the deletes of the last one are in flight (at most one page ahead, so a
 * budget holds). Each delete is fenced on the update time read. Measured on the emulator with
 * 32,000 documents: see docs/benchmarks.md.
 */
export async function deleteAll(
  db: Firestore,
  query: Query,
  options: { field: string; pageSize?: number; deadline?: number; now?: () => number },
): Promise<{ deleted: number; complete: boolean }> {
  const { field } = options;
  const pageSize = options.pageSize ?? 1_000;
  const deadline = options.deadline ?? Number.POSITIVE_INFINITY;
  const now = options.now ?? Date.now;
  const writer = db.bulkWriter();
  let deleted = 0;
  let failed = 0;
  let complete = false;
  let cursor: QueryDocumentSnapshot | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  try {
    while (now() < deadline) {
      const ordered = query.orderBy(field).select(field).limit(pageSize);
      // Read while the last page's deletes are in flight; wait for them before sending more.
      const page = await (cursor ? ordered.startAfter(cursor) : ordered).get();
      await inFlight;
      for (const doc of page.docs) {
        // Fenced on the update time read: a document written meanwhile (a retried job, an alert raised again) stays.
        writer.delete(doc.ref, { lastUpdateTime: doc.updateTime }).then(
          () => void deleted++,
          (error: unknown) => {
            if (!isFenceConflict(error)) failed++;
          },
        );
      }
      inFlight = writer.flush();
      if (page.size < pageSize) {
        complete = true;
        break;
      }
      cursor = page.docs.at(-1);
    }
  } finally {
    await writer.close();
  }
  if (failed > 0) throw new Error(`${failed} deletes failed; the next cleanup retries them`);
  return { deleted, complete };
}
