import { Timestamp, type Firestore, type Query } from 'firebase-admin/firestore';
import { FINISHED_STATUSES } from '../schema/index.js';
import { jobsCollection } from './collections.js';

/**
 * Deletes finished jobs and scheduler events older than the retention. Queued and running
 * jobs are never touched, whatever their age. Pages through with a BulkWriter; returns the
 * number deleted.
 */
export async function cleanupOldJobs(
  db: Firestore,
  options: { retentionDays: number; pageSize?: number; eventsCollectionPath: string },
): Promise<{ jobs: number; events: number }> {
  const cutoff = Timestamp.fromMillis(Date.now() - options.retentionDays * 86_400_000);
  const jobs = jobsCollection(db)
    .where('status', 'in', [...FINISHED_STATUSES])
    .where('finishedAt', '<', cutoff);
  const events = db.collection(options.eventsCollectionPath).where('at', '<', cutoff);
  const [jobsDeleted, eventsDeleted] = await Promise.all([
    deleteAll(db, jobs, options.pageSize ?? 400),
    deleteAll(db, events, options.pageSize ?? 400),
  ]);
  return { jobs: jobsDeleted, events: eventsDeleted };
}

/** Deletes every document the query matches, a page at a time; returns how many. */
export async function deleteAll(db: Firestore, query: Query, pageSize: number): Promise<number> {
  let deleted = 0;
  for (;;) {
    const page = await query.select().limit(pageSize).get();
    if (page.empty) return deleted;
    const writer = db.bulkWriter();
    let failed = 0;
    for (const doc of page.docs) writer.delete(doc.ref).catch(() => failed++);
    await writer.close();
    deleted += page.size - failed;
    if (failed > 0) throw new Error(`${failed} deletes failed; the next cleanup retries them`);
    if (page.size < pageSize) return deleted;
  }
}
