import { FieldValue, Timestamp, type Firestore, type QueryDocumentSnapshot } from 'firebase-admin/firestore';
import { GRPC, hasCode } from '../firestore/errors.js';
import { jobsCollection, lockRef } from './collections.js';
import { expiryAfter } from './retention.js';

export interface ResetStaleResult {
  /** Put back in the queue. */
  reset: number;
  /** Out of attempts: failed for good. */
  failed: number;
  jobIds: string[];
}

/**
 * Running jobs whose lease expired (the worker died or hung), or that have run longer than
 * maxRunMs, go back to the queue, or fail when out of attempts. Each change is fenced on
 * the update time read, so a worker finishing at the same moment wins or loses cleanly.
 */
export async function resetStaleJobs(db: Firestore, options: { maxRunMs: number; limit?: number; retentionDays?: number }): Promise<ResetStaleResult> {
  const now = Timestamp.now();
  const running = jobsCollection(db).where('status', '==', 'running');
  const limit = options.limit ?? 500;
  const [expired, tooLong] = await Promise.all([
    running.where('lease.expiresAt', '<=', now).limit(limit).get(),
    running.where('startedAt', '<=', Timestamp.fromMillis(now.toMillis() - options.maxRunMs)).limit(limit).get(),
  ]);
  const stale = new Map<string, QueryDocumentSnapshot>();
  for (const doc of [...expired.docs, ...tooLong.docs]) stale.set(doc.id, doc);

  const result: ResetStaleResult = { reset: 0, failed: 0, jobIds: [] };
  await Promise.all(
    [...stale.values()].map(async (doc) => {
      const attempts = doc.get('attempts') as number;
      const maxAttempts = doc.get('maxAttempts') as number;
      const worker = (doc.get('lease.workerId') as string | undefined) ?? 'unknown';
      const outOfAttempts = attempts >= maxAttempts;
      const batch = db.batch();
      const lastError = `lease expired: worker ${worker} stopped responding (attempt ${attempts} of ${maxAttempts})`;
      batch.update(
        doc.ref,
        outOfAttempts
          ? { status: 'failed', lease: null, lastError, finishedAt: now, expireAt: expiryAfter(options.retentionDays, now.toMillis()), updatedAt: FieldValue.serverTimestamp() }
          : { status: 'queued', lease: null, lastError, runAfter: now, updatedAt: FieldValue.serverTimestamp() },
        { lastUpdateTime: doc.updateTime },
      );
      if (outOfAttempts) batch.delete(lockRef(db, doc.get('dedupeKey') as string));
      try {
        await batch.commit();
      } catch (error) {
        if (hasCode(error, GRPC.FAILED_PRECONDITION)) return;
        throw error;
      }
      if (outOfAttempts) result.failed++;
      else result.reset++;
      result.jobIds.push(doc.id);
    }),
  );
  return result;
}
