import { FieldValue, type Firestore, type WriteBatch } from 'firebase-admin/firestore';
import type { AppContext } from '../context.js';
import { startRequestPath } from '../schema/index.js';
import { runWorkerCall } from './operations.js';

/**
 * "Start now" requests: `jobStartRequests/{userId}`, written in the same commit as a job a
 * person is waiting for (Sync now, a new connection's backfill, an admin's retry). A
 * Firestore trigger on these documents runs that user's due jobs at once, so work starts
 * within seconds instead of at the next scheduled worker call, and the hand-off is durable:
 * the trigger fires (at least once) whenever the commit landed. Only people's requests
 * write here, so the scheduled fan-out's thousands of jobs never wake the trigger.
 */
export function requestStart(batch: WriteBatch, db: Firestore, userId: string): void {
  batch.set(db.doc(startRequestPath(userId)), { requestedAt: FieldValue.serverTimestamp() });
}

/** Jobs one start-now run takes at most: a user has at most two lanes per platform. */
const MAX_JOBS_PER_START = 16;

/**
 * Runs the user's due jobs, continuing a backfill in the same run while budget is left;
 * whatever remains is picked up by the scheduled worker. Runs that found nothing (another
 * run took the job first) record no event.
 */
export async function runStartRequest(ctx: AppContext, userId: string) {
  return runWorkerCall(ctx, { maxJobs: MAX_JOBS_PER_START, userId, operation: 'start_now', quietWhenIdle: true }, 'process');
}
