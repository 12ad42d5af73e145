import type { Firestore } from 'firebase-admin/firestore';
import type { Job, JobPayload, JobType, Progress } from '../schema/index.js';

export interface JobContext {
  job: Job;
  db: Firestore;
  /** Aborted when the job's timeout or the worker's budget runs out. */
  signal: AbortSignal;
  /** Persists progress and extends the lease. Refused (LeaseLostError) once the job has timed out. */
  reportProgress(progress: Progress): Promise<void>;
  /**
   * Persists progress together with the payload a retry resumes from, and extends the
   * lease. Refused (LeaseLostError) once the job has timed out.
   */
  checkpoint(progress: Progress, payload: JobPayload): Promise<void>;
}

export interface JobOutcome {
  /** Jobs this handler enqueued (fan-out), and how many of those already existed. */
  queued?: number;
  duplicates?: number;
  /** Run the job again with this payload, keeping its dedupe slot. */
  continueWith?: JobPayload;
  /** With continueWith: not before this many ms (waiting on a platform). Default 0. */
  continueAfterMs?: number;
  progress?: Progress;
  /** Counted into the run's scheduler event. */
  rowsWritten?: number;
  documentsWritten?: number;
  apiCalls?: number;
}

export type JobHandler = (context: JobContext) => Promise<JobOutcome | void>;

/** One handler per job type; a job type without one fails permanently, never crashes. */
export type HandlerRegistry = Partial<Record<JobType, JobHandler>>;
