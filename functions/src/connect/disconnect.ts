import { Timestamp, type Firestore } from 'firebase-admin/firestore';
import type { AppContext } from '../context.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { lockRef } from '../queue/index.js';
import { adsQueue } from '../scheduler/jobs.js';
import { PROVIDER_LABELS, laneOf, type ProviderId, type SyncJobType } from '../schema/index.js';
import { credentialsRef, integrationRef } from '../sync/store.js';
import { pendingConnectionRef } from './flow.js';

const LANE_JOB_TYPES: readonly SyncJobType[] = ['manual-sync', 'initial-backfill'];

/**
 * Stops syncing a platform: its active jobs are cancelled, its tokens deleted, and the
 * integration marked disconnected. The metrics already synced stay; reconnecting the same
 * account catches up instead of reloading history.
 */
export async function disconnect(ctx: AppContext, userId: string, providerId: ProviderId): Promise<void> {
  const { db } = ctx;
  const ref = integrationRef(db, userId, providerId);
  const snap = await ref.get();
  if (!snap.exists) throw new NotFoundError(`${PROVIDER_LABELS[providerId]} is not connected`, 'providerId');
  await cancelActiveSyncs(db, userId, providerId, `${PROVIDER_LABELS[providerId]} was disconnected`, ctx.config.queue.retentionDays);
  const batch = db.batch();
  batch.update(ref, { status: 'disconnected', nextRunAt: null, lastError: null, lastRequestedAt: Timestamp.now() });
  batch.delete(credentialsRef(db, userId, providerId));
  batch.delete(pendingConnectionRef(db, userId, providerId));
  await batch.commit();
}

/** Cancels the integration's active jobs in both lanes (the sync and the backfill). */
export async function cancelActiveSyncs(db: Firestore, userId: string, providerId: ProviderId, reason: string, retentionDays?: number): Promise<void> {
  for (const jobType of LANE_JOB_TYPES) {
    const lock = await lockRef(db, `${laneOf(jobType)}:${userId}:${providerId}`).get();
    const jobId = lock.get('jobId') as string | undefined;
    if (!jobId) continue;
    try {
      await adsQueue(db, { retentionDays }).jobs.cancel(jobId, reason);
    } catch (error) {
      // It finished on its own meanwhile: nothing left to stop.
      if (!(error instanceof ConflictError) && !(error instanceof NotFoundError)) throw error;
    }
  }
}
