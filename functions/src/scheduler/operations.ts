import { Timestamp } from 'firebase-admin/firestore';
import { currentPolicy, evaluateAlerts, runObservations, staleResetObservation, type Observation } from '../alerts/index.js';
import { monitorObservations } from '../alerts/monitor.js';
import type { AppContext } from '../context.js';
import { maxRunMinutesProblem, leaseMsOf } from '../config/limits.js';
import { ConflictError, InvalidInputError, NotFoundError, UnavailableError } from '../errors.js';
import { runRecorded, sideTaskFailed } from '../logs.js';
import { deleteExpiredConnections } from '../connect/cleanup.js';
import { cleanupOldJobs, releaseOrphanedLocks, resetStaleJobs, runWorker, type WorkerReport } from '../queue/index.js';
import {
  emptyCounts,
  integrationDocumentSchema,
  providerIdSchema,
  type CronBody,
  type EventCounts,
  type EventSource,
  type ProviderId,
  type ScheduleBody,
  ALERT_STATES_PATH,
  EVENTS_COLLECTION_PATH,
  QUOTA_USAGE_COLLECTION,
  integrationsPath,
} from '../schema/index.js';
import { recordEvent } from './events.js';
import { PROCESS_ALL_USERS_KEY, enqueueFanOut, scheduleAllUsersKey } from './fanout.js';
import { adsQueue, enqueueJob } from './jobs.js';

/** Collections of documents that carry `expireAt` besides jobs and events (alert states, daily usage counters). */
const EXPIRING_COLLECTION_PATHS: readonly string[] = [ALERT_STATES_PATH, QUOTA_USAGE_COLLECTION];
/** cleanup_old_jobs stops starting new pages after this: the cron function times out at 120 s. */
const CLEANUP_BUDGET_MS = 90_000;

/** Records the run as one scheduler event, logs it, and judges `observations` for alerts (null: nothing to judge, nothing to deliver). */
async function finishRun(
  ctx: AppContext,
  source: EventSource,
  operation: string,
  started: number,
  counts: EventCounts,
  extra: { circuitsOpened?: string[]; workerId?: string; observations?: readonly Observation[] | null } = {},
): Promise<string> {
  const durationMs = Date.now() - started;
  const eventId = await recordEvent(ctx.db, {
    source,
    operation,
    counts,
    durationMs,
    circuitsOpened: extra.circuitsOpened,
    workerId: extra.workerId,
    retentionDays: ctx.config.queue.retentionDays,
  });
  runRecorded({ eventId, source, operation, counts, durationMs, circuitsOpened: extra.circuitsOpened ?? [] });
  if (extra.observations) await evaluateAlerts({ db: ctx.db, config: ctx.config.alerts }, extra.observations);
  return eventId;
}

/**
 * The look at what no single run shows (backlog, stale data, open circuits), with
 * the stale reset's own count. A failing query costs the look, not the reset.
 */
async function sweepObservations(ctx: AppContext, staleReset: { reset: number; failed: number }): Promise<Observation[]> {
  const observations = [staleResetObservation(staleReset.reset, staleReset.failed)];
  if (!ctx.config.alerts.webhookUrl) return observations;
  try {
    const policy = await currentPolicy({ db: ctx.db, config: ctx.config.alerts });
    observations.push(...(await monitorObservations(ctx.db, { backlogMs: policy.backlogMs, circuitFailureThreshold: ctx.config.queue.circuitFailureThreshold, now: Date.now() })));
  } catch (error) {
    sideTaskFailed('the queue checks for alerts', error);
  }
  return observations;
}

export type CronResult =
  | { operation: 'process_all_users'; jobId: string; duplicate: boolean; eventId: string }
  | { operation: 'cleanup_old_jobs'; deletedJobs: number; deletedEvents: number; deletedExpired: number; deletedConnections: number; complete: boolean; eventId: string }
  | { operation: 'reset_stale_jobs'; reset: number; failed: number; locksFreed: number; eventId: string };

export async function runCronOperation(ctx: AppContext, body: CronBody): Promise<CronResult> {
  const started = Date.now();
  const counts = emptyCounts();
  switch (body.operation) {
    case 'process_all_users': {
      const result = await enqueueFanOut(
        ctx.db,
        {
          mode: 'due',
          maxUsers: body.maxUsers,
          jobType: body.jobType,
          timeframeDays: body.timeframeDays ?? null,
          providerId: null,
          priority: null,
        },
        PROCESS_ALL_USERS_KEY,
        ctx.config.queue.maxAttempts,
      );
      if (result.duplicate) counts.duplicates = 1;
      else counts.queued = 1;
      const eventId = await finishRun(ctx, 'cron', body.operation, started, counts);
      return { operation: body.operation, jobId: result.jobId, duplicate: result.duplicate, eventId };
    }
    case 'cleanup_old_jobs': {
      const [deleted, expired] = await Promise.all([
        cleanupOldJobs(ctx.db, {
          retentionDays: body.retentionDays ?? ctx.config.queue.retentionDays,
          eventsCollectionPath: EVENTS_COLLECTION_PATH,
          expiringCollectionPaths: EXPIRING_COLLECTION_PATHS,
          budgetMs: CLEANUP_BUDGET_MS,
        }),
        deleteExpiredConnections(ctx.db, { deadline: Date.now() + CLEANUP_BUDGET_MS }),
      ]);
      const deletedConnections = expired.states + expired.pendingConnections;
      counts.deleted = deleted.jobs + deleted.events + deleted.expired + deletedConnections;
      const eventId = await finishRun(ctx, 'cron', body.operation, started, counts);
      return {
        operation: body.operation,
        deletedJobs: deleted.jobs,
        deletedEvents: deleted.events,
        deletedExpired: deleted.expired,
        deletedConnections,
        complete: deleted.complete && expired.complete,
        eventId,
      };
    }
    case 'reset_stale_jobs': {
      const tooShort = maxRunMinutesProblem(body.maxRunMinutes, ctx.config.queue);
      if (tooShort) throw new InvalidInputError(`maxRunMinutes: ${tooShort}`, 'maxRunMinutes');
      const maxRunMs = body.maxRunMinutes * 60_000;
      const result = await resetStaleJobs(ctx.db, { maxRunMs, retentionDays: ctx.config.queue.retentionDays });
      // A lock whose job is gone would make every enqueue of its slot a duplicate forever.
      const locksFreed = await releaseOrphanedLocks(ctx.db, { olderThanMs: maxRunMs });
      counts.reset = result.reset;
      counts.failed = result.failed;
      counts.deleted = locksFreed;
      const eventId = await finishRun(ctx, 'cron', body.operation, started, counts, { observations: await sweepObservations(ctx, result) });
      return { operation: body.operation, reset: result.reset, failed: result.failed, locksFreed, eventId };
    }
  }
}

export interface WorkerCall {
  maxJobs: number;
  maxUsers?: number;
  userId?: string;
  /** Wall-clock budget; defaults to the configured worker budget. */
  budgetMs?: number;
  /** The event's operation; defaults by source. */
  operation?: string;
  /** Records no event for a run that found nothing to do. */
  quietWhenIdle?: boolean;
}

/** A worker call's answer: the worker's report with its counts as the run's event stores them. */
export type WorkerCallReport = Omit<WorkerReport, 'counts' | 'counters'> & { counts: EventCounts; eventId: string | null };

export async function runWorkerCall(
  ctx: AppContext,
  call: WorkerCall,
  source: Extract<EventSource, 'worker' | 'process'>,
): Promise<WorkerCallReport> {
  const q = ctx.config.queue;
  // A worker with settings that do not fit together would claim nothing, or be killed mid-job.
  if (ctx.config.unsafeQueueSettings.length > 0) throw new UnavailableError(`the queue settings are unsafe: ${ctx.config.unsafeQueueSettings.join('; ')}`);
  const report = await runWorker(adsQueue(ctx.db, { retentionDays: q.retentionDays }), {
    maxJobs: call.maxJobs,
    maxUsers: call.maxUsers,
    userId: call.userId,
    concurrency: q.concurrency,
    budgetMs: call.budgetMs ?? q.workerBudgetMs,
    jobTimeoutMs: q.jobTimeoutMs,
    leaseMs: leaseMsOf(q),
    retry: { baseMs: q.retryBaseMs, maxMs: q.retryMaxMs, maxAttempts: q.maxAttempts },
    circuit: { failureThreshold: q.circuitFailureThreshold, cooldownMs: q.circuitCooldownMs },
    handlers: ctx.handlers,
  });
  const { counters: _counters, ...rest } = report;
  const result = { ...rest, counts: eventCountsOf(report) };
  if (call.quietWhenIdle && report.counts.processed === 0) return { ...result, eventId: null };
  const operation = call.operation ?? (source === 'process' ? 'process_user' : 'run_jobs');
  const eventId = await finishRun(ctx, source, operation, Date.now() - report.durationMs, result.counts, {
    circuitsOpened: report.circuitsOpened,
    workerId: report.workerId,
    observations: runObservations({ source, operation, jobs: report.jobs.map((job) => ({ ...job, providerId: platformOf(job.providerId) })), circuitsOpened: report.circuitsOpened.flatMap((g) => platformOf(g) ?? []) }),
  });
  return { ...result, eventId };
}

/** The queue's group key of this domain's jobs is the platform; anything else (never written by this code) is no platform. */
const platformOf = (group: string | null): ProviderId | null => providerIdSchema.safeParse(group).data ?? null;

/** The counters this domain's handlers name (fan-out: queued, duplicates; syncs: rows, documents, requests), into the event's stored fields. */
const HANDLER_COUNTERS = ['queued', 'duplicates', 'rowsWritten', 'documentsWritten', 'apiCalls'] as const satisfies readonly (keyof EventCounts)[];

export function eventCountsOf(report: Pick<WorkerReport, 'counts' | 'counters'>): EventCounts {
  const counts: EventCounts = { ...emptyCounts(), ...report.counts };
  for (const name of HANDLER_COUNTERS) counts[name] = report.counters[name] ?? 0;
  return counts;
}

export interface ScheduleResult {
  jobs: { providerId: ProviderId | null; jobId: string; duplicate: boolean }[];
  fanOut: boolean;
  eventId: string;
}

export async function scheduleSyncs(ctx: AppContext, body: ScheduleBody): Promise<ScheduleResult> {
  const started = Date.now();
  const counts = emptyCounts();
  const jobs: ScheduleResult['jobs'] = [];
  if (body.allUsers) {
    const result = await enqueueFanOut(
      ctx.db,
      {
        mode: 'all-connected',
        maxUsers: 500,
        // The schema refuses initial-backfill together with allUsers.
        jobType: body.jobType === 'scheduled-sync' ? 'scheduled-sync' : 'manual-sync',
        timeframeDays: body.timeframeDays ?? null,
        providerId: body.providerId ?? null,
        priority: body.priority ?? null,
      },
      scheduleAllUsersKey(body.providerId ?? null),
      ctx.config.queue.maxAttempts,
    );
    jobs.push({ providerId: body.providerId ?? null, jobId: result.jobId, duplicate: result.duplicate });
  } else {
    const userId = body.userId!;
    const integrations = ctx.db.collection(integrationsPath(userId));
    const snaps = body.providerId
      ? [await integrations.doc(body.providerId).get()].filter((s) => s.exists)
      : (await integrations.get()).docs;
    if (snaps.length === 0) {
      throw new NotFoundError(
        body.providerId ? `user ${userId} has no ${body.providerId} integration` : `user ${userId} has no integrations`,
        body.providerId ? 'providerId' : 'userId',
      );
    }
    const connected = snaps.filter((s) => integrationDocumentSchema.shape.status.parse(s.get('status')) === 'connected');
    if (connected.length === 0) {
      throw new ConflictError(
        body.providerId ? `the ${body.providerId} integration is not connected` : `user ${userId} has no connected integration`,
        body.providerId ? 'providerId' : 'userId',
      );
    }
    const now = Timestamp.now();
    for (const snap of connected) {
      const providerId = snap.id as ProviderId;
      const result = await enqueueJob(
        ctx.db,
        {
          userId,
          providerId,
          jobType: body.jobType,
          priority: body.priority,
          payload: body.timeframeDays ? { timeframeDays: body.timeframeDays } : {},
          alsoWrite: (batch) => batch.update(snap.ref, { lastRequestedAt: now }),
        },
        ctx.config.queue.maxAttempts,
      );
      jobs.push({ providerId, jobId: result.jobId, duplicate: result.duplicate });
    }
  }
  counts.queued = jobs.filter((j) => !j.duplicate).length;
  counts.duplicates = jobs.length - counts.queued;
  const eventId = await finishRun(ctx, 'schedule', body.allUsers ? 'schedule_all_users' : 'schedule_user', started, counts);
  return { jobs, fanOut: body.allUsers === true, eventId };
}
