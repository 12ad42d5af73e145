import { FieldValue, type Firestore } from 'firebase-admin/firestore';
import { ConflictError, NotFoundError } from '../errors.js';
import { GRPC, hasCode } from '../firestore/errors.js';
import { jobsCollection, lockRef } from './collections.js';
import { expiryAfter } from './retention.js';

const ROUNDS = 5;

/**
 * Cancels a queued or running job. The write is fenced on the update time just read, and a
 * running job's worker is fenced on its own last write, so whichever writes second loses:
 * the worker's next progress or result write fails with LeaseLostError and it stops, the
 * cancel standing. The job's dedupe lock is freed in the same commit.
 */
export async function cancelJob(db: Firestore, jobId: string, reason: string, retentionDays?: number): Promise<void> {
  const ref = jobsCollection(db).doc(jobId);
  for (let round = 0; round < ROUNDS; round++) {
    const snap = await ref.get();
    if (!snap.exists) throw new NotFoundError(`job ${jobId} does not exist`, 'jobId');
    const status = snap.get('status') as string;
    if (status !== 'queued' && status !== 'running') {
      throw new ConflictError(`job ${jobId} is ${status}; only queued or running jobs can be cancelled`, 'jobId');
    }
    const lock = await lockRef(db, snap.get('dedupeKey') as string).get();
    const batch = db.batch();
    batch.update(
      ref,
      {
        status: 'cancelled',
        lease: null,
        lastError: reason,
        finishedAt: FieldValue.serverTimestamp(),
        expireAt: expiryAfter(retentionDays),
        updatedAt: FieldValue.serverTimestamp(),
      },
      { lastUpdateTime: snap.updateTime! },
    );
    if (lock.exists && lock.get('jobId') === jobId) batch.delete(lock.ref, { lastUpdateTime: lock.updateTime! });
    try {
      await batch.commit();
      return;
    } catch (error) {
      // The worker wrote meanwhile (progress, a result): read again and decide again.
      if (!hasCode(error, GRPC.FAILED_PRECONDITION)) throw error;
    }
  }
  throw new ConflictError(`job ${jobId} kept changing while being cancelled; try again`, 'jobId');
}
