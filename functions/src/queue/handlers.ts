import type { JobPayload, Progress, QueueJob } from './job.js';

/**
 * What a handler is given. No database: a handler that needs one takes it from its own
 * closure (the caller that registers it), so the queue hands out nothing but the job.
 */
export interface JobContext {
  job: QueueJob;
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
  /** Run the job again with this payload, keeping its dedupe slot. */
  continueWith?: JobPayload;
  /** With continueWith: not before this many ms (waiting on a platform). Default 0. */
  continueAfterMs?: number;
  /**
   * With continueWith: the job waited without doing its work (a caller's budget held it). It
   * counts as deferred, not succeeded, and says nothing of its group's health: no circuit
   * success, and a half-open group's trial goes to another job.
   */
  heldBack?: boolean;
  progress?: Progress;
  /** Counters the handler names (rows written, requests sent, ...), summed into the worker's report. */
  counters?: Readonly<Record<string, number>>;
}

export type JobHandler = (context: JobContext) => Promise<JobOutcome | void>;

/** One handler per task name; a task without one fails permanently, never crashes. */
export type HandlerRegistry = Readonly<Partial<Record<string, JobHandler>>>;
