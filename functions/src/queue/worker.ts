import { randomUUID } from 'node:crypto';
import type { Firestore } from 'firebase-admin/firestore';
import pRetry from 'p-retry';
import { jobFinished, sideTaskFailed } from '../logs.js';
import { emptyCounts, type EventCounts, type JobType, type ProviderId } from '../schema/index.js';
import type { RetryPolicy } from './backoff.js';
import { claimJobs } from './claim.js';
import { CircuitView, type CircuitPolicy } from './circuit.js';
import { JobTimeoutError, LeaseLostError, PermanentJobError, RateLimitJobError, errorMessage } from './errors.js';
import type { HandlerRegistry, JobOutcome } from './handlers.js';
import type { JobLease } from './lease.js';

export interface WorkerOptions {
  workerId?: string;
  /** Jobs to claim at most in this run. */
  maxJobs: number;
  /** Distinct users to serve at most in this run. */
  maxUsers?: number;
  /** Only this user's jobs. */
  userId?: string;
  /** Only these job types. */
  jobTypes?: readonly JobType[];
  /** Jobs running at once. */
  concurrency: number;
  /** Wall-clock budget of the whole run (the function's timeout minus a margin). */
  budgetMs: number;
  /** One job's timeout; no job is claimed unless this much budget is left. */
  jobTimeoutMs: number;
  /** Lease length; defaults to the job timeout plus a minute. */
  leaseMs?: number;
  /** How long a finished job is kept (its `expireAt`). Default 7 days. */
  retentionDays?: number;
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

export interface WorkerReport {
  workerId: string;
  counts: EventCounts;
  circuitsOpened: ProviderId[];
  stopReason: 'max-jobs' | 'queue-empty' | 'time-budget' | 'claim-failed';
  jobs: { id: string; jobType: string; providerId: ProviderId | null; result: JobResult; error?: string; reason?: string }[];
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
export async function runWorker(db: Firestore, options: WorkerOptions): Promise<WorkerReport> {
  const now = options.now ?? Date.now;
  const started = now();
  const deadline = started + options.budgetMs;
  const workerId = options.workerId ?? `worker-${randomUUID()}`;
  const leaseMs = options.leaseMs ?? options.jobTimeoutMs + 60_000;
  const counts = emptyCounts();
  const report: WorkerReport = { workerId, counts, circuitsOpened: [], stopReason: 'queue-empty', jobs: [], durationMs: 0 };
  const circuits = new CircuitView(db, options.circuit);
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
      outcome = await runHandler(db, lease, options.handlers, timeoutMs);
    } catch (error) {
      failure = { error };
    } finally {
      lease.close();
    }
    try {
      if (!failure) {
        const result = outcome ?? {};
        counts.queued += result.queued ?? 0;
        counts.duplicates += result.duplicates ?? 0;
        counts.rowsWritten += result.rowsWritten ?? 0;
        counts.documentsWritten += result.documentsWritten ?? 0;
        counts.apiCalls += result.apiCalls ?? 0;
        if (result.continueWith) {
          await writeOutcome(() => lease.continueWith(result.continueWith!, result.continueAfterMs));
          entry.result = 'continued';
        } else {
          await writeOutcome(() => lease.succeed(result.progress));
          entry.result = 'succeeded';
        }
        counts.succeeded++;
        const providerId = job.providerId;
        if (providerId) {
          await bookkeeping('success', job, async () => {
            await circuits.recordSuccess(providerId);
            trialsTaken.delete(providerId);
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
      entry.result = await writeOutcome(() => (deferrable ? lease.defer(deferrable) : lease.fail(error, options.retry)));
      if (entry.result === 'failed') counts.failed++;
      else if (entry.result === 'deferred') counts.deferred++;
      else counts.retried++;
      const providerId = job.providerId;
      if (deferrable) {
        // Waiting for a platform's reset is not a failure of the provider: no circuit count.
        if (providerId) trialsTaken.delete(providerId);
        if (deferrable.pauseProvider && providerId) {
          await bookkeeping('pause', job, () => circuits.pause(providerId, deferrable.resumeAt, entry.error!));
        }
      } else if (providerId && error instanceof PermanentJobError) {
        // Says nothing about the platform's health: a half-open provider may try another job.
        trialsTaken.delete(providerId);
      } else if (providerId) {
        await bookkeeping('failure', job, async () => {
          if (await circuits.recordFailure(providerId, entry.error!)) report.circuitsOpened.push(providerId);
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
        leases = await claimJobs(db, {
          workerId,
          max: Math.min(free, options.maxJobs - claimedTotal),
          leaseMs,
          userId: options.userId,
          jobTypes: options.jobTypes,
          // A half-open provider whose trial is under way waits like a paused one, in the query.
          skipProviders: new Set([...circuits.paused(), ...trialsTaken]),
          trials: { providers: circuits.halfOpen(), taken: trialsTaken },
          users,
          retentionDays: options.retentionDays,
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

async function runHandler(
  db: Firestore,
  lease: JobLease,
  handlers: HandlerRegistry,
  timeoutMs: number,
): Promise<JobOutcome | void> {
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
        db,
        signal: controller.signal,
        reportProgress: (progress) => lease.reportProgress(progress),
        checkpoint: (progress, payload) => lease.checkpoint(progress, payload),
      }),
      timedOut,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
