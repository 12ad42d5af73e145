import { Timestamp } from 'firebase-admin/firestore';
import type { AppContext } from '../context.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { enqueueJob, loadCircuits } from '../scheduler/jobs.js';
import { requestStart } from '../scheduler/startNow.js';
import { JOB_TASKS, PROVIDER_LABELS, integrationDocumentSchema, type EnqueuedJobResponse, type ProviderId } from '../schema/index.js';
import { integrationRef } from '../sync/store.js';

const integrationStatusOnly = integrationDocumentSchema.pick({ status: true });

/**
 * A user's "Sync now": enqueues a manual sync (never syncs in the request) and asks for an
 * immediate start. While one is active the answer is that job, and one still waiting in the
 * queue (a scheduled sync, a retry's backoff, a rate-limit deferral) is moved up to manual
 * priority and made due now instead of getting a sibling. A platform paused for its own
 * limit holds every job until the pause ends: the answer says until when.
 */
export async function syncNow(ctx: AppContext, userId: string, providerId: ProviderId): Promise<EnqueuedJobResponse> {
  const { db } = ctx;
  const ref = integrationRef(db, userId, providerId);
  const snap = await ref.get();
  const label = PROVIDER_LABELS[providerId];
  if (!snap.exists) throw new NotFoundError(`${label} is not connected`, 'providerId');
  const status = integrationStatusOnly.safeParse(snap.data()).data?.status;
  if (status === 'error') throw new ConflictError(`${label} needs to be reconnected before it can sync`, 'providerId');
  if (status !== 'connected') throw new ConflictError(`${label} is not connected`, 'providerId');
  const now = Timestamp.now();
  const result = await enqueueJob(
    db,
    {
      userId,
      providerId,
      jobType: 'manual-sync',
      priority: JOB_TASKS['manual-sync'].priority,
      bringForward: true,
      alsoWrite: (batch) => {
        batch.update(ref, { lastRequestedAt: now });
        requestStart(batch, db, userId);
      },
    },
    ctx.config.queue.maxAttempts,
  );
  if (result.duplicate && result.priorityRaised) {
    // A waiting job now carries a person's request: start it too.
    const batch = db.batch();
    batch.update(ref, { lastRequestedAt: now });
    requestStart(batch, db, userId);
    await batch.commit();
  }
  const openUntil = (await loadCircuits(db)).get(providerId)?.openUntil?.getTime() ?? 0;
  const pausedUntil = openUntil > Date.now() ? new Date(openUntil).toISOString() : null;
  return { jobId: result.jobId, jobType: 'manual-sync', duplicate: result.duplicate, pausedUntil };
}
