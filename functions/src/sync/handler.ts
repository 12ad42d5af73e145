import type { Firestore } from 'firebase-admin/firestore';
import { LeaseLostError, PermanentJobError, RateLimitJobError, RetryableJobError, type HandlerRegistry, type JobContext, type JobHandler, type JobOutcome } from '../queue/index.js';
import {
  AuthExpiredError,
  PermanentError,
  PermissionError,
  ProviderError,
  RateLimitedError,
  type ConnectorRegistry,
} from '../providers/index.js';
import { z } from 'zod';
import { nextBudgetDay, readUsage, recordUsage, retryAllowed } from '../budget/index.js';
import { budgetHeld, sideTaskFailed } from '../logs.js';
import { PROVIDER_LABELS, RECONNECT_REASON, RESTATEMENT_DAYS, dateWindowSchema, jobDocumentSchema, pendingReportSchema, type BudgetSettings, type Job, type ProviderId } from '../schema/index.js';
import { syncWindow } from './engine.js';
import { ConnectionChangedError, recordHistoryLoaded, recordSyncResult, type JobConnection } from './connection.js';
import { loadIntegration, type WriteOptions } from './store.js';
import { backfillChunks, lookbackWindow } from './window.js';

export interface SyncHandlerOptions {
  /** Connectors for daily syncs. */
  connectors: ConnectorRegistry;
  /** Connectors for backfills, paced to a share of each platform's budget. Defaults to `connectors`. */
  backfillConnectors?: ConnectorRegistry;
  /** Days per backfill chunk. Default 90. */
  backfillChunkDays?: number;
  /** Chunks one backfill run handles before it yields the worker slot. Default 4. */
  backfillChunksPerRun?: number;
  /** The settings a platform without a connector still needs, named when its job fails. */
  missingSettings?: Partial<Record<ProviderId, readonly string[]>>;
  /** A job whose reports the platform is still preparing runs again after this long. Default 30 s. */
  pendingRecheckMs?: number;
  writeOptions?: WriteOptions;
  /** Daily request budgets: every run's requests are counted, and retries leave the reserve alone. */
  budget?: {
    settings: BudgetSettings;
    /** Requests this process sent to the platform since the last call (its request gate's count). */
    takeSentCount(providerId: ProviderId): number;
    /** Default Date.now. */
    now?: () => number;
  };
}

interface Prepared extends JobConnection {
  accountId: string;
  timezone: string;
  currency: string | null;
  loginCustomerId: string | null;
  lookbackDays: number | null;
  credentials: NonNullable<Awaited<ReturnType<typeof loadIntegration>>['credentials']>;
}

async function prepare(db: Firestore, job: Job, connectors: ConnectorRegistry, options: SyncHandlerOptions): Promise<Prepared> {
  const providerId = job.providerId;
  if (!providerId) throw new PermanentJobError(`job ${job.id} names no provider`);
  const label = PROVIDER_LABELS[providerId];
  if (!connectors.has(providerId)) {
    // The operator's to fix, not the user's: fail at once, without retries or a circuit.
    const missing = options.missingSettings?.[providerId] ?? [];
    throw new PermanentJobError(`${label} is not configured on the server${missing.length > 0 ? `: set ${missing.join(', ')}` : ''}`);
  }
  const { integration, credentials, version } = await loadIntegration(db, job.userId, providerId);
  if (!integration) throw new PermanentJobError(`${label} is not connected for user ${job.userId}`);
  if (integration.status === 'disconnected') throw new PermanentJobError(`${label} was disconnected; nothing to sync`);
  if (!integration.accountId || !credentials) {
    const message = `${label} has no stored account or credentials: reconnect ${label}.`;
    const connection = { userId: job.userId, providerId, connectionId: integration.connectionId, accountId: integration.accountId, version };
    await recordSyncResult(db, connection, { ok: false, error: message, disconnect: true });
    throw new PermanentJobError(message, RECONNECT_REASON);
  }
  return {
    userId: job.userId,
    providerId,
    accountId: integration.accountId,
    connectionId: integration.connectionId,
    version,
    timezone: integration.timezone,
    currency: integration.currency,
    loginCustomerId: integration.loginCustomerId,
    lookbackDays: integration.automation.lookbackDays,
    credentials,
  };
}

/**
 * Each failure class has its action: auth and permission problems mark the integration
 * `error` with a message the user can act on and are not retried; rate limits wait for
 * the platform's hint; transient errors retry with backoff; bad data fails naming the
 * record.
 */
async function classify(db: Firestore, p: JobConnection, error: unknown, signal: AbortSignal): Promise<never> {
  // A timed-out job, or one cancelled or taken over, records nothing more: the job's newer
  // state stands, its outcome is someone else's to write, and the integration did not fail.
  signal.throwIfAborted();
  if (error instanceof LeaseLostError || error instanceof ConnectionChangedError) throw error;
  const message = error instanceof Error ? error.message : String(error);
  // Waiting for a platform's limit is not a failed sync: the job shows the wait and its end.
  if (error instanceof RateLimitedError) throw new RateLimitJobError(message, new Date(error.resumeAt), error.scope === 'platform');
  const needsReconnect = error instanceof AuthExpiredError || error instanceof PermissionError;
  await recordSyncResult(db, p, { ok: false, error: message, disconnect: needsReconnect });
  if (needsReconnect) throw new PermanentJobError(message, RECONNECT_REASON);
  if (error instanceof PermanentError) throw new PermanentJobError(message);
  if (error instanceof ProviderError && !error.retryable) throw new PermanentJobError(message);
  throw error instanceof ProviderError ? new RetryableJobError(message) : error;
}

/** A report the platform is preparing is looked at again after this long: soon enough for a report of a few minutes, seldom enough for one of an hour. */
const DEFAULT_PENDING_RECHECK_MS = 30_000;

/** Reports a platform is still preparing, carried in the job's payload from one run to the next. */
const pendingReportsSchema = z.array(pendingReportSchema);

function incrementalHandler(db: Firestore, options: SyncHandlerOptions): SyncJobHandler {
  return async ({ job, signal }) => {
    const p = await prepare(db, job, options.connectors, options);
    const timeframe = typeof job.payload.timeframeDays === 'number' ? job.payload.timeframeDays : null;
    const days = timeframe ?? p.lookbackDays ?? RESTATEMENT_DAYS[p.providerId];
    // A run that resumes reports keeps the window they were asked for, even past midnight.
    const pending = pendingReportsSchema.safeParse(job.payload.pendingReports).data ?? [];
    const resumedWindow = pending.length > 0 ? dateWindowSchema.safeParse(job.payload.syncWindow).data : undefined;
    const window = resumedWindow ?? lookbackWindow(days, p.timezone);
    try {
      const result = await syncWindow(db, options.connectors, { ...p, window, signal, ...(resumedWindow ? { pending } : {}) }, options.writeOptions);
      signal.throwIfAborted();
      if (result.pending.length > 0) {
        // The platform is still preparing part of the window: come back later, as the same job, rather than wait here.
        return {
          counters: syncCounters(result),
          continueWith: { ...job.payload, syncWindow: window, pendingReports: result.pending },
          continueAfterMs: options.pendingRecheckMs ?? DEFAULT_PENDING_RECHECK_MS,
        };
      }
      await recordSyncResult(db, p, { ok: true });
      return { counters: syncCounters(result), progress: { done: 1, total: 1 } };
    } catch (error) {
      return classify(db, p, error, signal);
    }
  };
}

const backfillStateSchema = z.object({
  chunks: z.array(dateWindowSchema),
  next: z.number().int().min(0),
  firstStartedAt: z.number(),
  /** Reports of chunk `next` the platform is still preparing. */
  pending: pendingReportsSchema.default([]),
});
type BackfillState = z.infer<typeof backfillStateSchema>;

function backfillState(job: Job, days: number, chunkDays: number, timezone: string): BackfillState {
  const stored = backfillStateSchema.safeParse(job.payload.backfill);
  if (stored.success) return stored.data;
  // Planned once, on the first run, so the chunks do not move as days pass.
  return { chunks: backfillChunks(days, chunkDays, timezone), next: 0, firstStartedAt: Date.now(), pending: [] };
}

/**
 * History in chunks, oldest first. Each run handles a few chunks and then continues as the
 * same job (keeping its dedupe slot), so a two-year backfill never holds a worker for long
 * and shows progress { done, total } with an ETA while it runs. The plan and its position
 * are saved after every chunk: a retry after a timeout or a crash resumes at the next chunk.
 */
function backfillHandler(db: Firestore, options: SyncHandlerOptions): SyncJobHandler {
  const connectors = options.backfillConnectors ?? options.connectors;
  return async ({ job, signal, checkpoint }) => {
    const p = await prepare(db, job, connectors, options);
    const days = typeof job.payload.timeframeDays === 'number' ? job.payload.timeframeDays : 730;
    const state = backfillState(job, days, options.backfillChunkDays ?? 90, p.timezone);
    const total = state.chunks.length;
    let rowsWritten = 0;
    let documentsWritten = 0;
    let apiCalls = 0;
    let credentials = p.credentials;
    let currency = p.currency;
    const stopAt = Math.min(total, state.next + (options.backfillChunksPerRun ?? 4));
    try {
      for (let i = state.next; i < stopAt; i++) {
        if (signal.aborted) break;
        const result = await syncWindow(db, connectors, { ...p, credentials, currency, window: state.chunks[i]!, pending: state.pending, signal }, options.writeOptions);
        credentials = result.credentials;
        currency = result.currency;
        rowsWritten += result.rowsWritten;
        documentsWritten += result.documentsWritten;
        apiCalls += result.apiCalls;
        state.pending = result.pending;
        // The platform is still preparing part of this chunk: it stays the next one.
        if (state.pending.length > 0) break;
        state.next = i + 1;
        await checkpoint({ done: state.next, total }, { ...job.payload, firstStartedAt: state.firstStartedAt, backfill: state });
      }
    } catch (error) {
      return classify(db, p, error, signal);
    }
    const progress = { done: state.next, total };
    if (state.next < total) {
      return {
        counters: syncCounters({ rowsWritten, documentsWritten, apiCalls }),
        progress,
        continueWith: { ...job.payload, firstStartedAt: state.firstStartedAt, backfill: state },
        continueAfterMs: state.pending.length > 0 ? (options.pendingRecheckMs ?? DEFAULT_PENDING_RECHECK_MS) : 0,
      };
    }
    await recordHistoryLoaded(db, p);
    return { counters: syncCounters({ rowsWritten, documentsWritten, apiCalls }), progress };
  };
}

/**
 * A retry waits for the next budget day when only the reserve is left of the platform's: the
 * last of a day is for first runs (Sync now, a new connection's history), not for failures
 * that repeat. It waits as a continuation, not as a failure or a limit deferral: no attempt,
 * no deferral and no circuit failure is counted, and it runs as a first run tomorrow (or at
 * once when its person presses Sync now). Null: the retry may go.
 */
async function holdRetryForBudget(db: Firestore, job: Job, budget: NonNullable<SyncHandlerOptions['budget']>): Promise<JobOutcome | null> {
  const providerId = job.providerId;
  const daily = providerId ? budget.settings.daily[providerId] : undefined;
  if (!providerId || daily === undefined || job.attempts <= 1) return null;
  const now = (budget.now ?? Date.now)();
  const { calls } = await readUsage(db, providerId, now);
  if (retryAllowed(daily, budget.settings.reserveShare, calls)) return null;
  budgetHeld(job.id, providerId, daily - calls, daily);
  return { continueWith: job.payload, continueAfterMs: nextBudgetDay(now) - now, heldBack: true };
}

/**
 * Counts what the platform was sent, whatever the outcome: the requests the process sent since
 * the last count (this run's and those of runs beside it), and one more sync where it is one.
 * Never fails the job: a lost count only makes the next plan a little optimistic.
 */
async function countRequests(db: Firestore, job: Job, budget: NonNullable<SyncHandlerOptions['budget']>, syncs: number): Promise<void> {
  const providerId = job.providerId;
  if (!providerId || budget.settings.daily[providerId] === undefined) return;
  try {
    await recordUsage(db, providerId, { calls: budget.takeSentCount(providerId), syncs }, (budget.now ?? Date.now)());
  } catch (error) {
    sideTaskFailed('counting requests for the daily budget', error, { jobId: job.id });
  }
}

/** Budget bookkeeping around a sync handler; `syncs` is what one run counts as (backfill chunks are not syncs). */
function budgeted(db: Firestore, handler: SyncJobHandler, budget: SyncHandlerOptions['budget'], syncs: number): SyncJobHandler {
  if (!budget) return handler;
  return async (context) => {
    const held = await holdRetryForBudget(db, context.job, budget);
    if (held) return held;
    try {
      return await handler(context);
    } finally {
      await countRequests(db, context.job, budget, syncs);
    }
  };
}

/** A sync handler sees the job as this domain's schema reads it: its platform, task and window typed. */
type SyncJobHandler = (context: Omit<JobContext, 'job'> & { job: Job }) => Promise<JobOutcome>;

function onSyncJobs(handler: SyncJobHandler): JobHandler {
  return (context) => {
    const parsed = jobDocumentSchema.safeParse(context.job);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new PermanentJobError(`job document is malformed: ${issue.path.map(String).join('.') || 'document'}: ${issue.message}`);
    }
    return handler({ ...context, job: { id: context.job.id, ...parsed.data } });
  };
}

/** The counters a sync names, summed by the worker into the run's event (its stored `counts`). */
function syncCounters(result: { rowsWritten: number; documentsWritten: number; apiCalls: number }): Record<string, number> {
  return { rowsWritten: result.rowsWritten, documentsWritten: result.documentsWritten, apiCalls: result.apiCalls };
}

export function createSyncHandlers(db: Firestore, options: SyncHandlerOptions): HandlerRegistry {
  const incremental = onSyncJobs(budgeted(db, incrementalHandler(db, options), options.budget, 1));
  return {
    'scheduled-sync': incremental,
    'manual-sync': incremental,
    'initial-backfill': onSyncJobs(budgeted(db, backfillHandler(db, options), options.budget, 0)),
  };
}
