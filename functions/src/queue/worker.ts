import { randomUUID } from 'node:crypto';
import type { Firestore } from 'firebase-admin/firestore';
import { emptyCounts, type EventCounts, type JobType, type ProviderId } from '../schema/index.js';
import type { RetryPolicy } from './backoff.js';
import { claimJobs } from './claim.js';
import { isOpen, loadCircuits, pauseProvider, recordProviderFailure, recordProviderSuccess, type CircuitPolicy } from './circuit.js';
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
  retry: RetryPolicy;
  circuit: CircuitPolicy;
  handlers: HandlerRegistry;
  /** The clock the time budget runs on. Default Date.now. */
  now?: () => number;
}

export type JobResult = 'succeeded' | 'retried' | 'deferred' | 'failed' | 'continued' | 'lease-lost';

export interface WorkerReport {
  workerId: string;
  counts: EventCounts;
  circuitsOpened: ProviderId[];
  stopReason: 'max-jobs' | 'queue-empty' | 'time-budget';
  jobs: { id: string; jobType: string; providerId: ProviderId | null; result: JobResult; error?: string }[];
  durationMs: number;
}

/**
 * Claims and runs due jobs with bounded parallelism until maxJobs, an empty queue or the
 * time budget. Claiming happens whenever a slot frees up, so slow platform calls never
 * leave the other slots idle.
 */
export async function runWorker(db: Firestore, options: WorkerOptions): Promise<WorkerReport> {
  const now = options.now ?? Date.now;
  const started = now();
  const deadline = started + options.budgetMs;
  const workerId = options.workerId ?? `worker-${randomUUID()}`;
  const leaseMs = options.leaseMs ?? options.jobTimeoutMs + 60_000;
  const counts = emptyCounts();
  const report: WorkerReport = { workerId, counts, circuitsOpened: [], stopReason: 'queue-empty', jobs: [], durationMs: 0 };
  const circuits = await loadCircuits(db);
  const paused = new Set<string>([...circuits.values()].filter((c) => isOpen(c)).map((c) => c.providerId));
  const users = options.maxUsers ? { seen: new Set<string>(), max: options.maxUsers } : undefined;
  const running = new Set<Promise<void>>();
  let claimedTotal = 0;

  const runOne = async (lease: JobLease): Promise<void> => {
    const { job } = lease;
    const entry: WorkerReport['jobs'][number] = { id: job.id, jobType: job.jobType, providerId: job.providerId, result: 'failed' };
    report.jobs.push(entry);
    counts.processed++;
    const timeoutMs = Math.min(options.jobTimeoutMs, Math.max(1, deadline - now()));
    try {
      const outcome = await runHandler(db, lease, options.handlers, timeoutMs);
      counts.queued += outcome?.queued ?? 0;
      counts.duplicates += outcome?.duplicates ?? 0;
      counts.rowsWritten += outcome?.rowsWritten ?? 0;
      counts.documentsWritten += outcome?.documentsWritten ?? 0;
      counts.apiCalls += outcome?.apiCalls ?? 0;
      if (outcome?.continueWith) {
        await lease.continueWith(outcome.continueWith, outcome.continueAfterMs);
        entry.result = 'continued';
      } else {
        await lease.succeed(outcome?.progress);
        entry.result = 'succeeded';
      }
      counts.succeeded++;
      const circuit = job.providerId ? circuits.get(job.providerId) : undefined;
      if (circuit && circuit.consecutiveFailures > 0) {
        await recordProviderSuccess(db, circuit.providerId);
        circuit.consecutiveFailures = 0;
      }
    } catch (error) {
      entry.error = errorMessage(error);
      if (error instanceof LeaseLostError) {
        entry.result = 'lease-lost';
        return;
      }
      try {
        entry.result = error instanceof RateLimitJobError ? await lease.defer(error) : await lease.fail(error, options.retry);
      } catch (writeError) {
        if (!(writeError instanceof LeaseLostError)) throw writeError;
        entry.result = 'lease-lost';
        return;
      }
      if (entry.result === 'failed') counts.failed++;
      else counts.retried++;
      if (error instanceof RateLimitJobError) {
        // Waiting for a platform's reset is not a failure of the provider: no circuit count.
        if (error.pauseProvider && job.providerId) {
          await pauseProvider(db, job.providerId, error.resumeAt, entry.error);
          paused.add(job.providerId);
        }
      } else if (job.providerId && !(error instanceof PermanentJobError)) {
        const opened = await recordProviderFailure(db, job.providerId, entry.error, options.circuit);
        const circuit = circuits.get(job.providerId);
        if (circuit) circuit.consecutiveFailures++;
        if (opened) {
          paused.add(job.providerId);
          report.circuitsOpened.push(job.providerId);
        }
      }
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
      const leases = await claimJobs(db, {
        workerId,
        max: Math.min(free, options.maxJobs - claimedTotal),
        leaseMs,
        userId: options.userId,
        jobTypes: options.jobTypes,
        skipProviders: paused,
        users,
      });
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
      }),
      timedOut,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
