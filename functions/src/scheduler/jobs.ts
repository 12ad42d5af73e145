import type { Firestore } from 'firebase-admin/firestore';
import { firestoreQueue, type CircuitState, type EnqueueResult, type FirestoreNewJob } from '../queue/index.js';
import { JOB_TASKS, PROVIDER_IDS, type DateWindow, type JobType, type ProviderId } from '../schema/index.js';

/**
 * The ads domain on the generic queue: its tasks (lanes and priorities, `JOB_TASKS`) and
 * its platforms as the queue's groups, so circuits, trials and claim filters are per
 * platform.
 */
export function adsQueue(db: Firestore, options: { retentionDays?: number; maxAttempts?: number } = {}) {
  return firestoreQueue(db, { tasks: JOB_TASKS, groups: PROVIDER_IDS, retentionDays: options.retentionDays, defaultMaxAttempts: options.maxAttempts });
}

export interface EnqueueRequest extends Omit<FirestoreNewJob, 'providerId' | 'jobType' | 'window'> {
  providerId: ProviderId | null;
  jobType: JobType;
  window?: DateWindow | null;
}

/** Adds a job unless its (lane, user, platform) already has an active one (see `JobStore.enqueue`). */
export function enqueueJob(db: Firestore, req: EnqueueRequest, defaultMaxAttempts = 3): Promise<EnqueueResult> {
  return adsQueue(db, { maxAttempts: defaultMaxAttempts }).jobs.enqueue(req);
}

export interface PlatformCircuit extends Omit<CircuitState, 'group'> {
  providerId: ProviderId;
}

/** Every platform's circuit, closed where none was ever written. */
export async function loadCircuits(db: Firestore): Promise<Map<ProviderId, PlatformCircuit>> {
  const states = await adsQueue(db).circuits.load();
  return new Map(
    PROVIDER_IDS.map((providerId) => {
      const { group: _group, ...state } = states.get(providerId)!;
      return [providerId, { providerId, ...state }];
    }),
  );
}
