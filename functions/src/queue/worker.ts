import { randomUUID } from 'node:crypto';
import pRetry from 'p-retry';
import { jobFinished, sideTaskFailed } from '../logs.js';
import { backoffDelayMs, type RetryPolicy } from './backoff.js';
import { CircuitView, type CircuitPolicy } from './circuit.js';
import { JobTimeoutError, LeaseLostError, PermanentJobError, RateLimitJobError, RetryableJobError, errorMessage } from './errors.js';
import type { HandlerRegistry, JobOutcome } from './handlers.js';
import type { JobLease, QueueBackend } from './store.js';

export interface WorkerOptions {
  workerId?: string;
  /** Jobs to claim at most in this run. */
  maxJobs: number;
  /** Distinct users to serve at most in this run. */
  maxUsers?: number;
  /** Only this user's jobs. */
  userId?: string;
  /** Only these tasks. */
  jobTypes?: readonly string[];
  /** Jobs running at once. */
  concurrency: number;
  /** Wall-clock budget of the whole run (the function's timeout minus a margin). */
  budgetMs: number;
  /** One job's timeout; no job is claimed unless this much budget is left. */
  jobTimeoutMs: number;
  /** Lease length; defaults to the job timeout plus a minute. */
  leaseMs?: number;
  retry: RetryPolicy;
  /**
   * Rate-limit deferrals a job may take in a row without progress; past them a rate limit
   * is a failure like any other (attempt spent, circuit counted), so a limit that never
   * resets cannot keep a job queued forever. Default 10.
   */
  maxDeferrals?: number;
  circuit: CircuitPolicy;
  handlers: HandlerRegistry;
  /** The clock the time budget runs on. Default Date.now. */
  now?: () => number;
}

/** `abandoned`: the outcome could not be written (Firestore kept failing); the lease expires and a stale reset takes the job back. */
export type JobResult = 'succeeded' | 'retried' | 'deferred' | 'failed' | 'continued' | 'lease-lost' | 'abandoned';

/** What the worker itself counts; `processed` = succeeded (continued included) + failed + retried + deferred + lost or abandoned. */
export interface WorkerCounts {
  processed: number;
  succeeded: number;
  failed: number;
  retried: number;
  deferred: number;
}

export interface WorkerReport {
  workerId: string;
  counts: WorkerCounts;
  /** The handlers' own counters (JobOutcome.counters), summed over the jobs that succeeded or continued. */
  counters: Record<string, number>;
  /** Groups whose circuit this run opened. */
  circuitsOpened: string[];
  stopReason: 'max-jobs' | 'queue-empty' | 'time-budget' | 'claim-failed';
  /** `providerId`: the job's group key, as stored. */
  jobs: { id: string; jobType: string; providerId: string | null; result: JobResult; error?: string; reason?: string }[];
  durationMs: number;
}

const DEFAULT_MAX_DEFERRALS = 10;

/** Outcome writes are retried through short Firestore hiccups before the job is left to the stale reset. */
const OUTCOME_WRITE_RETRIES = 3;

async function writeOutcome<T>(write: () => Promise<T>): Promise<T> {
  return pRetry(write, {
    retries: OUTCOME_WRITE_RETRIES,
    minTimeout: 200,
    factor: 2,
    shouldRetry: ({ error }) => !(error instanceof LeaseLostError),
  });
}

/**
 * Claims and runs due jobs with bounded parallelism until maxJobs, an empty queue or the
 * time budget. Claiming happens whenever a slot frees up, so slow platform calls never
 * leave the other slots idle. Every claimed job is settled before the call returns, and
 * nothing after a job's outcome (circuit bookkeeping, a failing claim) can reject the call
 * while other jobs are in flight.
 */
export async function runWorker(queue: QueueBackend, options: WorkerOptions): Promise<WorkerReport> {
  const now = options.now ?? Date.now;
  const started = now();
  const deadline = started + options.budgetMs;
  const workerId = options.workerId ?? `worker-${randomUUID()}`;
  const leaseMs = options.leaseMs ?? options.jobTimeoutMs + 60_000;
  const counts: WorkerCounts = { processed: 0, succeeded: 0, failed: 0, retried: 0, deferred: 0 };
  const counters: Record<string, number> = {};
  const report: WorkerReport = { workerId, counts, counters, circuitsOpened: [], stopReason: 'queue-empty', jobs: [], durationMs: 0 };
  const circuits = new CircuitView(queue.circuits, options.circuit);
  await circuits.refresh(true);
  const trialsTaken = new Set<string>();
  const users = options.maxUsers ? { seen: new Set<string>(), max: options.maxUsers } : undefined;
  const running = new Set<Promise<void>>();
  let claimedTotal = 0;

  const bookkeeping = async (what: string, job: JobLease['job'], work: () => Promise<void>) => {
    try {
      await work();
    } catch (error) {
      // The job's outcome is already written and final; a missed circuit update only delays a pause.
      sideTaskFailed('circuit bookkeeping', error, { what, jobId: job.id, platform: job.providerId });
    }
  };

  /** Runs one job and writes its outcome; one log line per job, whatever happened. */
  const runOne = async (lease: JobLease): Promise<void> => {
    const { job } = lease;
    const entry: WorkerReport['jobs'][number] = { id: job.id, jobType: job.jobType, providerId: job.providerId, result: 'failed' };
    report.jobs.push(entry);
    counts.processed++;
    const started = Date.now();
    try {
      await runAndRecord(lease, entry);
    } finally {
      jobFinished({
        jobId: job.id,
        userId: job.userId,
        platform: job.providerId,
        jobType: job.jobType,
        result: entry.result,
        attempts: job.attempts,
        durationMs: Date.now() - started,
        workerId,
        ...(entry.error ? { error: entry.error } : {}),
      });
    }
  };

  const runAndRecord = async (lease: JobLease, entry: WorkerReport['jobs'][number]): Promise<void> => {
    const { job } = lease;
    const timeoutMs = Math.min(options.jobTimeoutMs, Math.max(1, deadline - now()));
    let outcome: JobOutcome | void = undefined;
    let failure: { error: unknown } | null = null;
    try {
      outcome = await runHandler(lease, options.handlers, timeoutMs);
    } catch (error) {
      failure = { error };
    } finally {
      lease.close();
    }
    try {
      if (!failure) {
        const result = outcome ?? {};
        for (const [name, value] of Object.entries(result.counters ?? {})) counters[name] = (counters[name] ?? 0) + value;
        if (result.continueWith && result.heldBack) {
          await writeOutcome(() => lease.continue(result.continueWith!, new Date(Date.now() + (result.continueAfterMs ?? 0))));
          entry.result = 'deferred';
          counts.deferred++;
          if (job.providerId) trialsTaken.delete(job.providerId);
          return;
        }
        if (result.continueWith) {
          await writeOutcome(() => lease.continue(result.continueWith!, new Date(Date.now() + (result.continueAfterMs ?? 0))));
          entry.result = 'continued';
        } else {
          await writeOutcome(() => lease.succeed(result.progress));
          entry.result = 'succeeded';
        }
        counts.succeeded++;
        const group = job.providerId;
        if (group) {
          await bookkeeping('success', job, async () => {
            await circuits.recordSuccess(group);
            trialsTaken.delete(group);
          });
        }
        return;
      }
      const { error } = failure;
      entry.error = errorMessage(error);
      if (error instanceof PermanentJobError && error.reason) entry.reason = error.reason;
      if (error instanceof LeaseLostError) {
        entry.result = 'lease-lost';
        if (job.providerId) trialsTaken.delete(job.providerId);
        return;
      }
      const deferrable = error instanceof RateLimitJobError && job.deferrals < (options.maxDeferrals ?? DEFAULT_MAX_DEFERRALS) ? error : null;
      entry.result = await writeOutcome(() => (deferrable ? defer(lease, deferrable) : failOrRetry(lease, error, options.retry)));
      if (entry.result === 'failed') counts.failed++;
      else if (entry.result === 'deferred') counts.deferred++;
      else counts.retried++;
      const group = job.providerId;
      if (deferrable) {
        // Waiting for a platform's reset is not a failure of the provider: no circuit count.
        if (group) trialsTaken.delete(group);
        if (deferrable.pauseGroup && group) {
          await bookkeeping('pause', job, () => circuits.pause(group, deferrable.resumeAt, entry.error!));
        }
      } else if (group && error instanceof PermanentJobError) {
        // Says nothing about the platform's health: a half-open provider may try another job.
        trialsTaken.delete(group);
      } else if (group) {
        await bookkeeping('failure', job, async () => {
          if (await circuits.recordFailure(group, entry.error!)) report.circuitsOpened.push(group);
        });
      }
    } catch (writeError) {
      entry.error = errorMessage(writeError);
      entry.result = writeError instanceof LeaseLostError ? 'lease-lost' : 'abandoned';
      if (job.providerId) trialsTaken.delete(job.providerId);
      // An abandoned job's line (ERROR) says so; the stale reset takes it back.
    }
  };

  for (;;) {
    if (claimedTotal >= options.maxJobs) {
      report.stopReason = 'max-jobs';
      break;
    }
    if (deadline - now() < options.jobTimeoutMs) {
      report.stopReason = 'time-budget';
      break;
    }
    const free = options.concurrency - running.size;
    if (free > 0) {
      let leases: JobLease[];
      try {
        await circuits.refresh();
        leases = await queue.jobs.claim({
          workerId,
          max: Math.min(free, options.maxJobs - claimedTotal),
          leaseMs,
          userId: options.userId,
          jobTypes: options.jobTypes,
          // A half-open provider whose trial is under way waits like a paused one, in the query.
          skipGroups: new Set([...circuits.paused(), ...trialsTaken]),
          trials: { groups: circuits.halfOpen(), taken: trialsTaken },
          users,
          onRejected: (rejected) => {
            report.jobs.push({ ...rejected, result: 'failed' });
            counts.processed++;
            counts.failed++;
          },
        });
      } catch (error) {
        // Nothing more is claimed in this call; the jobs already running still finish.
        sideTaskFailed('claiming jobs', error, { workerId });
        report.stopReason = 'claim-failed';
        break;
      }
      claimedTotal += leases.length;
      for (const lease of leases) {
        const task = runOne(lease).finally(() => running.delete(task));
        running.add(task);
      }
      if (leases.length > 0) continue;
      if (running.size === 0) {
        report.stopReason = 'queue-empty';
        break;
      }
    }
    // Wait for a slot; a finishing job may also have queued more work (fan-out pages).
    await Promise.race(running);
  }
  await Promise.all(running);
  report.durationMs = now() - started;
  return report;
}

/** Back to the queue until the platform's limit resets, the attempt given back. */
async function defer(lease: JobLease, error: RateLimitJobError): Promise<'deferred'> {
  await lease.retry(errorMessage(error), error.resumeAt, { deferral: true });
  return 'deferred';
}

/**
 * Retries with backoff, or fails the job for good when it is out of attempts or the error
 * is permanent. lastError is kept either way.
 */
export async function failOrRetry(lease: JobLease, error: unknown, retry: RetryPolicy): Promise<'failed' | 'retried'> {
  const message = errorMessage(error);
  if (error instanceof PermanentJobError || lease.attempts >= lease.job.maxAttempts) {
    await lease.fail(message);
    return 'failed';
  }
  const delay = Math.max(
    backoffDelayMs(lease.attempts, retry),
    error instanceof RetryableJobError ? (error.retryAfterMs ?? 0) : 0,
    // A rate limit no longer deferred still waits for its reset.
    error instanceof RateLimitJobError ? error.resumeAt.getTime() - Date.now() : 0,
  );
  await lease.retry(message, new Date(Date.now() + delay));
  return 'retried';
}

async function runHandler(lease: JobLease, handlers: HandlerRegistry, timeoutMs: number): Promise<JobOutcome | void> {
  const handler = handlers[lease.job.jobType];
  if (!handler) throw new PermanentJobError(`no handler is registered for job type "${lease.job.jobType}"`);
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new JobTimeoutError(timeoutMs);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    return await Promise.race([
      handler({
        job: lease.job,
        signal: controller.signal,
        reportProgress: (progress) => lease.renew(progress),
        checkpoint: (progress, payload) => lease.renew(progress, payload),
      }),
      timedOut,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
