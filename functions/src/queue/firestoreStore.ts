import type { Firestore } from 'firebase-admin/firestore';
import { cancelJob } from './cancelJob.js';
import { FirestoreCircuitStore } from './circuit.js';
import { claimJobs } from './claim.js';
import { enqueueJob, type FirestoreNewJob } from './enqueue.js';
import type { FirestoreLease } from './lease.js';
import type { ClaimOptions, EnqueueResult, JobStore, QueueBackend, TaskRegistry } from './store.js';

export interface FirestoreQueueSetting {
  /** Each task's lane and default priority. */
  tasks: TaskRegistry;
  /** Every group key jobs may carry (claims that leave some out name the others). */
  groups: readonly string[];
  /** How long a finished job is kept (its `expireAt`). Default 7 days. */
  retentionDays?: number;
  /** maxAttempts of a job enqueued without one. Default 3. */
  defaultMaxAttempts?: number;
}

/**
 * The queue on Firestore: `syncJobs` and their `syncJobLocks`, every race decided by a
 * precondition, no transactions (docs/architecture.md, "Queue semantics").
 */
export class FirestoreJobStore implements JobStore {
  constructor(
    readonly db: Firestore,
    readonly setting: FirestoreQueueSetting,
  ) {}

  enqueue(job: FirestoreNewJob): Promise<EnqueueResult> {
    return enqueueJob(this.db, this.setting.tasks, job, this.setting.defaultMaxAttempts);
  }

  claim(options: ClaimOptions): Promise<FirestoreLease[]> {
    return claimJobs(this.db, this.setting, options);
  }

  cancel(jobId: string, reason: string): Promise<void> {
    return cancelJob(this.db, jobId, reason, this.setting.retentionDays);
  }
}

export function firestoreQueue(db: Firestore, setting: FirestoreQueueSetting): QueueBackend & { jobs: FirestoreJobStore } {
  return { jobs: new FirestoreJobStore(db, setting), circuits: new FirestoreCircuitStore(db, setting.groups) };
}
