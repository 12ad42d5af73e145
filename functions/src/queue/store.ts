import type { CircuitStore } from './circuit.js';
import type { JobPayload, Progress, QueueJob } from './job.js';

/**
 * What the worker needs from storage, and nothing more. `FirestoreJobStore` implements it;
 * test/queue/store.conformance.test.ts holds any implementation to the contract on the
 * emulator. The queue's guarantees (fencing, one outcome per lease, dedupe) are the
 * store's to keep; the policy (backoff, attempts, circuits) is the worker's.
 */
export interface JobStore {
  /** Adds a job unless its (lane, user, group) already has an active one. */
  enqueue(job: NewJob): Promise<EnqueueResult>;
  /** Takes due jobs, highest priority first, then oldest runAfter; each under a lease. */
  claim(options: ClaimOptions): Promise<JobLease[]>;
  /** Ends a queued or running job; a running job's lease is refused from then on. */
  cancel(jobId: string, reason: string): Promise<void>;
}

/**
 * A claimed job. Every write is fenced on the job as this lease last wrote it: once anyone
 * else changed the job (a stale reset, a cancel) each write is refused with
 * `LeaseLostError`. Exactly one outcome (succeed, continue, retry, fail) is accepted, and
 * nothing written with the lease lands after it.
 */
export interface JobLease {
  readonly job: QueueJob;
  /** Attempts as stored: a renewal with a resume point starts them over at 1. */
  readonly attempts: number;
  /** The handler's part is over: later renewals are refused; the outcome is still accepted. */
  close(): void;
  /**
   * Records progress and extends the lease. With `resumeFrom`, also the payload a retry
   * starts from, and the attempts (and deferrals) start over: the job is advancing.
   */
  renew(progress: Progress, resumeFrom?: JobPayload): Promise<void>;
  /** Finished well; frees the job's dedupe slot in the same write. */
  succeed(progress?: Progress): Promise<void>;
  /** Runs again with this payload at `runAfter`, keeping the dedupe slot; attempts start over. */
  continue(payload: JobPayload, runAfter: Date): Promise<void>;
  /**
   * Back to the queue until `runAfter`, keeping `lastError`. `deferral`: the wait is a
   * limit's, not a failure's: the claim's attempt is given back and a deferral counted.
   */
  retry(lastError: string, runAfter: Date, options?: { deferral?: boolean }): Promise<void>;
  /** Failed for good; frees the dedupe slot in the same write. */
  fail(lastError: string): Promise<void>;
}

export interface NewJob {
  userId: string;
  /** The group key (circuits, trials, claim filters); null for a job of no group. */
  providerId: string | null;
  /** The task: its lane and default priority come from the store's task registry. */
  jobType: string;
  priority?: number;
  runAfter?: Date;
  maxAttempts?: number;
  /** What the job covers, stored for people reading it; the queue does not read it. */
  window?: Record<string, string> | null;
  payload?: JobPayload;
  /** Overrides the (lane, user, group) key. */
  dedupeKey?: string;
  /**
   * A person is waiting: a duplicate still queued is moved up to `priority` and, when it
   * waits for a later runAfter (a retry's backoff, a rate-limit deferral), made due now.
   */
  bringForward?: boolean;
}

export interface EnqueueResult {
  jobId: string;
  duplicate: boolean;
  /** A duplicate whose priority was raised to the request's, or (bringForward) made due now. */
  priorityRaised: boolean;
}

/** The caller's tasks: each task name's lane (dedupe) and default priority. */
export type TaskRegistry = Readonly<Record<string, { lane: string; priority: number }>>;

export interface ClaimOptions {
  workerId: string;
  /** Claim at most this many jobs. */
  max: number;
  leaseMs: number;
  /** Only this user's jobs (the process endpoint). */
  userId?: string;
  /** Only these tasks (e.g. a worker dedicated to fan-out). */
  jobTypes?: readonly string[];
  /** Groups whose circuit is open: their jobs wait, and the claim leaves them out. */
  skipGroups?: ReadonlySet<string>;
  /**
   * Groups whose circuit is half-open: one job at a time tries them. `taken` holds those
   * with a trial under way in this worker call and is updated by the claim.
   */
  trials?: { groups: ReadonlySet<string>; taken: Set<string> };
  /** Users this worker run already serves, and how many distinct users it may serve. */
  users?: { seen: Set<string>; max: number };
  /** A job document that does not parse was failed with its reason instead of being claimed. */
  onRejected?: (job: { id: string; jobType: string; providerId: string | null; error: string }) => void;
}

/** Everything a worker runs on: the jobs and the circuits of their groups. */
export interface QueueBackend {
  jobs: JobStore;
  circuits: CircuitStore;
}
