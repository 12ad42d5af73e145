import type { Firestore } from 'firebase-admin/firestore';
import { isOpen, jobsCollection } from '../queue/index.js';
import { loadCircuits } from '../scheduler/jobs.js';
import { estimateFinish, integrationDocumentSchema, integrationsPath, jobDocumentSchema, type Job, type JobStatus, type ProviderId, type TimestampLike } from '../schema/index.js';

export { estimateFinish };

const iso = (t: TimestampLike | null | undefined): string | null => (t ? t.toDate().toISOString() : null);

export interface JobView {
  id: string;
  providerId: ProviderId | null;
  jobType: Job['jobType'];
  status: JobStatus;
  priority: number;
  attempts: number;
  maxAttempts: number;
  progress: Job['progress'];
  /** Estimated finish of a running job, from its progress rate so far. */
  eta: string | null;
  runAfter: string | null;
  lastError: string | null;
  createdAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export function jobView(job: Job, now = Date.now()): JobView {
  const eta = estimateFinish(job, now);
  return {
    id: job.id,
    providerId: job.providerId,
    jobType: job.jobType,
    status: job.status,
    priority: job.priority,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    progress: job.progress,
    eta: eta ? eta.toISOString() : null,
    runAfter: iso(job.runAfter),
    lastError: job.lastError,
    createdAt: iso(job.createdAt),
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
  };
}

/** What the signed-in user may see: their integrations, their queue, paused providers. */
export async function userStatus(db: Firestore, userId: string) {
  const mine = jobsCollection(db).where('userId', '==', userId);
  const count = async (status: JobStatus) => (await mine.where('status', '==', status).count().get()).data().count;
  const [integrations, recent, queued, running, failed, circuits] = await Promise.all([
    db.collection(integrationsPath(userId)).get(),
    mine.orderBy('createdAt', 'desc').limit(20).get(),
    count('queued'),
    count('running'),
    count('failed'),
    loadCircuits(db),
  ]);
  return {
    userId,
    // Read through the schema; like a malformed job, a malformed integration is left out of the view.
    integrations: integrations.docs.flatMap((doc) => {
      const parsed = integrationDocumentSchema.safeParse(doc.data());
      if (!parsed.success) return [];
      const i = parsed.data;
      return [{
        providerId: doc.id,
        status: i.status,
        accountId: i.accountId,
        automation: i.automation,
        nextRunAt: iso(i.nextRunAt),
        lastSyncedAt: iso(i.lastSyncedAt),
        lastSyncStatus: i.lastSyncStatus,
        lastRequestedAt: iso(i.lastRequestedAt),
        lastError: i.lastError,
      }];
    }),
    queue: { queued, running, failed },
    // A malformed job (the worker fails it with its reason) is left out rather than failing the whole view.
    recentJobs: recent.docs.flatMap((doc) => {
      const parsed = jobDocumentSchema.safeParse(doc.data());
      return parsed.success ? [jobView({ id: doc.id, ...parsed.data })] : [];
    }),
    // Which platforms are paused and until when; never why: the circuit's last error came
    // from some user's job, and no user may see another user's errors.
    pausedProviders: [...circuits.values()]
      .filter((c) => isOpen(c))
      .map((c) => ({ providerId: c.providerId, until: c.openUntil!.toISOString() })),
  };
}
