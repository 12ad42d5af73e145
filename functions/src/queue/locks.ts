import { Timestamp, type DocumentSnapshot, type Firestore } from 'firebase-admin/firestore';
import { FINISHED_STATUSES, type JobStatus } from '../schema/index.js';
import { GRPC, LOCKS_COLLECTION, hasCode, jobsCollection } from './collections.js';

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
    if (hasCode(error, GRPC.FAILED_PRECONDITION) || hasCode(error, GRPC.NOT_FOUND)) return false;
    throw error;
  }
}

/** Checks the locks older than `olderThanMs` (a page of them) and frees those whose job is gone or finished. */
export async function releaseOrphanedLocks(db: Firestore, options: { olderThanMs: number; limit?: number }): Promise<number> {
  const cutoff = Timestamp.fromMillis(Date.now() - options.olderThanMs);
  const locks = await db.collection(LOCKS_COLLECTION).where('createdAt', '<=', cutoff).limit(options.limit ?? 500).get();
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
  return freed.filter(Boolean).length;
}
