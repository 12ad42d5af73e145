import { Timestamp, type DocumentSnapshot, type Firestore, type QueryDocumentSnapshot } from 'firebase-admin/firestore';
import { FINISHED_STATUSES, type JobStatus } from './job.js';
import { isFenceConflict } from '../firestore/errors.js';
import { LOCKS_COLLECTION, jobsCollection } from './collections.js';

/**
 * A lock exists exactly while its job is active: both are created in one batch and the
 * lock is deleted in the batch that finishes the job. A lock whose job is gone (deleted by
 * hand) or finished can only come from outside that rule, and would make every enqueue of
 * its (lane, user, provider) a duplicate forever. Such a lock is deleted, fenced on the
 * lock as read, so a lock taken over meanwhile is left alone.
 */
export async function releaseIfOrphaned(db: Firestore, lock: DocumentSnapshot, job?: DocumentSnapshot): Promise<boolean> {
  const jobId = lock.get('jobId') as unknown;
  if (!lock.exists) return false;
  const owner = job ?? (typeof jobId === 'string' && jobId ? await jobsCollection(db).doc(jobId).get() : null);
  if (owner?.exists && !FINISHED_STATUSES.includes(owner.get('status') as JobStatus)) return false;
  try {
    await lock.ref.delete({ lastUpdateTime: lock.updateTime! });
    return true;
  } catch (error) {
    if (isFenceConflict(error)) return false;
    throw error;
  }
}

/**
 * Checks the locks older than `olderThanMs`, a page at a time (at most `maxPages`), and
 * frees those whose job is gone or finished. Pages move on past live locks, so a head of
 * old locks that belong to waiting jobs (a day-long platform pause) hides nothing behind it.
 */
export async function releaseOrphanedLocks(db: Firestore, options: { olderThanMs: number; limit?: number; maxPages?: number }): Promise<number> {
  const cutoff = Timestamp.fromMillis(Date.now() - options.olderThanMs);
  const pageSize = options.limit ?? 500;
  let freedTotal = 0;
  let after: QueryDocumentSnapshot | undefined;
  for (let page = 0; page < (options.maxPages ?? 20); page++) {
    let query = db.collection(LOCKS_COLLECTION).where('createdAt', '<=', cutoff).orderBy('createdAt').limit(pageSize);
    if (after) query = query.startAfter(after);
    const locks = await query.get();
    const ids = locks.docs.map((lock) => lock.get('jobId') as unknown);
    const refs = ids.filter((id): id is string => typeof id === 'string' && id.length > 0).map((id) => jobsCollection(db).doc(id));
    const jobs = new Map((refs.length > 0 ? await db.getAll(...refs) : []).map((snap) => [snap.id, snap]));
    const freed = await Promise.all(
      locks.docs.map((lock) => {
        const id = lock.get('jobId') as unknown;
        const job = typeof id === 'string' ? jobs.get(id) : undefined;
        return releaseIfOrphaned(db, lock, job ?? undefined);
      }),
    );
    freedTotal += freed.filter(Boolean).length;
    if (locks.size < pageSize) break;
    after = locks.docs.at(-1);
  }
  return freedTotal;
}
