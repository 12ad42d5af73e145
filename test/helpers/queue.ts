import type { DocumentSnapshot, Firestore } from 'firebase-admin/firestore';
import { jobsCollection, runWorker, type HandlerRegistry, type WorkerOptions } from '../../functions/src/queue/index.js';
import { jobDocumentSchema, type Job } from '../../functions/src/schema/index.js';
import { adsQueue } from '../../functions/src/scheduler/jobs.js';

/** A job document as the ads domain reads it (its platforms, tasks and windows). */
export function syncJobFromSnapshot(snap: DocumentSnapshot): Job {
  return { id: snap.id, ...jobDocumentSchema.parse(snap.data()) };
}

export function workerOptions(handlers: HandlerRegistry, overrides: Partial<WorkerOptions> = {}): WorkerOptions {
  return {
    maxJobs: 1000,
    concurrency: 8,
    budgetMs: 60_000,
    jobTimeoutMs: 10_000,
    retry: { baseMs: 200, maxMs: 10_000, maxAttempts: 3 },
    circuit: { failureThreshold: 5, cooldownMs: 60_000 },
    handlers,
    ...overrides,
  };
}

export async function allJobs(db: Firestore): Promise<Job[]> {
  return (await jobsCollection(db).get()).docs.map(syncJobFromSnapshot);
}

export async function drain(db: Firestore, options: WorkerOptions, rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const report = await runWorker(adsQueue(db), options);
    if (report.counts.processed === 0) return;
  }
}

/** Resolves with the job once `until` holds for it, watching its document; rejects after `timeoutMs`. */
export function waitForJob(db: Firestore, jobId: string, until: (job: Job) => boolean, timeoutMs = 60_000): Promise<Job> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`job ${jobId} did not reach the awaited state within ${timeoutMs} ms`));
    }, timeoutMs);
    const stop = jobsCollection(db)
      .doc(jobId)
      .onSnapshot(
        (snap) => {
          if (!snap.exists) return;
          const job = syncJobFromSnapshot(snap);
          if (!until(job)) return;
          clearTimeout(timer);
          stop();
          resolve(job);
        },
        (error) => {
          clearTimeout(timer);
          reject(error);
        },
      );
  });
}
