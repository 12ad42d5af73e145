import { FieldValue, type Firestore, type WriteBatch } from 'firebase-admin/firestore';
import { ConflictError, NotFoundError } from '../errors.js';
import { GRPC, hasCode } from '../firestore/errors.js';
import { jobsCollection, lockRef } from './collections.js';

/**
 * Puts a failed job back in the queue with a fresh attempt budget, keeping its payload (a
 * backfill continues from the chunk it reached). Its dedupe lock is taken again in the same
 * commit, so a retry never runs beside another active job of the same lane. `alsoWrite`
 * adds writes to that commit (it is given the job's owner).
 */
export async function retryJob(db: Firestore, jobId: string, alsoWrite?: (batch: WriteBatch, userId: string) => void): Promise<void> {
  const ref = jobsCollection(db).doc(jobId);
  const snap = await ref.get();
  if (!snap.exists) throw new NotFoundError(`job ${jobId} does not exist`, 'jobId');
  const status = snap.get('status') as string;
  if (status !== 'failed') throw new ConflictError(`job ${jobId} is ${status}; only failed jobs can be retried`, 'jobId');
  const dedupeKey = snap.get('dedupeKey') as string;
  const batch = db.batch();
  batch.create(lockRef(db, dedupeKey), { jobId, createdAt: FieldValue.serverTimestamp() });
  batch.update(
    ref,
    { status: 'queued', attempts: 0, deferrals: 0, lease: null, runAfter: FieldValue.serverTimestamp(), finishedAt: null, expireAt: null, updatedAt: FieldValue.serverTimestamp() },
    { lastUpdateTime: snap.updateTime! },
  );
  alsoWrite?.(batch, snap.get('userId') as string);
  try {
    await batch.commit();
  } catch (error) {
    if (hasCode(error, GRPC.ALREADY_EXISTS)) {
      const active = (await lockRef(db, dedupeKey).get()).get('jobId') as string | undefined;
      throw new ConflictError(`another job of the same kind is already active${active ? ` (${active})` : ''}; it covers this one`, 'jobId');
    }
    if (hasCode(error, GRPC.FAILED_PRECONDITION)) throw new ConflictError(`job ${jobId} changed meanwhile; reload and try again`, 'jobId');
    throw error;
  }
}
