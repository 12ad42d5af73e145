import { FieldPath, Timestamp, type Firestore, type Query, type QueryDocumentSnapshot } from 'firebase-admin/firestore';
import pLimit from 'p-limit';
import { z } from 'zod';
import { GRPC, hasCode } from '../firestore/errors.js';
import type { EnqueueResult, JobHandler, JobOutcome } from '../queue/index.js';
import { countRequestedSince, planPlatformBudget, stretchedNextRun } from '../budget/index.js';
import { sideTaskFailed } from '../logs.js';
import { INTEGRATIONS_COLLECTION, PROVIDER_IDS, cadenceSchema, integrationDocumentSchema, providerIdSchema, type BudgetSettings, type JobPayload, type ProviderId } from '../schema/index.js';
import { DUE_SLACK_MS } from './cadence.js';
import { enqueueJob } from './jobs.js';

/**
 * process_all_users and "schedule for all users" answer 202 after enqueuing one fan-out
 * job; the worker expands it a page at a time, so no request ever writes hundreds of
 * documents and a crash mid-way resumes from the stored cursor.
 */
export const fanOutPayloadSchema = z.object({
  /** due: connected, automation on, nextRunAt reached (or never set). all-connected: every connected one. */
  mode: z.enum(['due', 'all-connected']),
  /**
   * In due mode, integrations without a nextRunAt first (a range filter never matches
   * null, so they would be invisible otherwise), then those whose nextRunAt has come.
   */
  phase: z.enum(['unscheduled', 'scheduled']).default('scheduled'),
  runAt: z.number(),
  maxUsers: z.number().int().min(1),
  jobType: z.enum(['scheduled-sync', 'manual-sync']),
  timeframeDays: z.number().int().nullable(),
  providerId: providerIdSchema.nullable(),
  priority: z.number().int().nullable(),
  /** Last integration handled: [nextRunAt millis or null, document path]. */
  cursor: z.tuple([z.number().nullable(), z.string()]).nullable(),
  page: z.number().int().min(0),
  /**
   * In due mode, per platform with a daily budget: the hour's plan (the stretch in force, the
   * syncs the hour may start and the hour). Read on the first page and carried to the next;
   * what is left of the allowance is counted afresh on every page. Null until planned.
   */
  budgets: z
    .partialRecord(providerIdSchema, z.object({ stretchedTo: cadenceSchema.nullable(), hourAllowance: z.number().int().min(0), hourStart: z.number() }))
    .nullable()
    .default(null),
});
export type FanOutPayload = z.infer<typeof fanOutPayloadSchema>;

export const PROCESS_ALL_USERS_KEY = 'system:process_all_users';
export const scheduleAllUsersKey = (providerId: ProviderId | null) => `system:schedule_all_users:${providerId ?? 'all'}`;

export async function enqueueFanOut(
  db: Firestore,
  payload: Omit<FanOutPayload, 'cursor' | 'page' | 'runAt' | 'phase' | 'budgets'>,
  dedupeKey: string,
  maxAttempts: number,
): Promise<EnqueueResult> {
  const full: FanOutPayload = { ...payload, phase: payload.mode === 'due' ? 'unscheduled' : 'scheduled', runAt: Date.now(), cursor: null, page: 0, budgets: null };
  return enqueueJob(db, { userId: 'system', providerId: null, jobType: 'fan-out', dedupeKey, payload: full }, maxAttempts);
}

/** Integrations per user at most: one per provider. */
const PER_USER = providerIdSchema.options.length;
const ENQUEUE_PARALLELISM = 32;

function pageQuery(db: Firestore, p: FanOutPayload, providers: readonly ProviderId[]): Query {
  let query: Query = db.collectionGroup(INTEGRATIONS_COLLECTION).where('status', '==', 'connected');
  if (p.providerId) query = query.where('providerId', '==', p.providerId);
  else if (providers.length < PROVIDER_IDS.length) query = query.where('providerId', 'in', [...providers]);
  if (p.mode === 'due' && p.phase === 'unscheduled') {
    query = query.where('automation.enabled', '==', true).where('nextRunAt', '==', null).orderBy(FieldPath.documentId());
    if (p.cursor) query = query.startAfter(p.cursor[1]);
  } else if (p.mode === 'due') {
    query = query
      .where('automation.enabled', '==', true)
      .where('nextRunAt', '<=', Timestamp.fromMillis(p.runAt + DUE_SLACK_MS))
      .orderBy('nextRunAt')
      .orderBy(FieldPath.documentId());
    if (p.cursor) query = query.startAfter(Timestamp.fromMillis(p.cursor[0] ?? 0), p.cursor[1]);
  } else {
    query = query.orderBy(FieldPath.documentId());
    if (p.cursor) query = query.startAfter(p.cursor[1]);
  }
  return query.limit(p.maxUsers * PER_USER);
}

/**
 * The fields of an integration the fan-out reads. A cadence it cannot read counts as daily,
 * so one integration with a broken automation never holds up the page.
 */
const fannedOutIntegrationSchema = integrationDocumentSchema.pick({ userId: true, providerId: true, nextRunAt: true }).extend({
  automation: z.object({ cadence: cadenceSchema.catch('daily') }).catch({ cadence: 'daily' }),
});
type FannedOutIntegration = z.infer<typeof fannedOutIntegrationSchema>;

/** The page's documents, read, cut after the maxUsers-th distinct user. */
function firstUsers(docs: QueryDocumentSnapshot[], maxUsers: number): { doc: QueryDocumentSnapshot; integration: FannedOutIntegration }[] {
  const users = new Set<string>();
  const kept: { doc: QueryDocumentSnapshot; integration: FannedOutIntegration }[] = [];
  for (const doc of docs) {
    const integration = fannedOutIntegrationSchema.parse(doc.data());
    if (!users.has(integration.userId) && users.size >= maxUsers) break;
    users.add(integration.userId);
    kept.push({ doc, integration });
  }
  return kept;
}

export interface FanOutOptions {
  /** Platforms whose app credentials are configured; the others' integrations are skipped. Default all. */
  providers?: readonly ProviderId[];
  /** maxAttempts of the jobs it enqueues (JOB_MAX_ATTEMPTS). Default 3. */
  maxAttempts?: number;
  /** Daily request budgets (DAILY_API_BUDGETS); none by default. */
  budgets?: BudgetSettings;
  /** The clock of plans and next runs; tests pass a fixed one. Default Date.now. */
  now?: () => number;
}

/**
 * Enqueues a page of syncs and continues with the next page. A platform whose app is not
 * configured is skipped here: its jobs could only fail, trip its circuit and alert daily.
 */
export function createFanOutHandler(db: Firestore, options: FanOutOptions = {}): JobHandler {
  const providers = options.providers ?? PROVIDER_IDS;
  const maxAttempts = options.maxAttempts ?? 3;
  const clock = options.now ?? Date.now;
  return async ({ job, signal }) => {
    let payload = fanOutPayloadSchema.parse(job.payload);
    if (providers.length === 0 || (payload.providerId && !providers.includes(payload.providerId))) return { counters: { queued: 0, duplicates: 0 } };
    const now = clock();
    const scope = payload.providerId ? [payload.providerId] : providers;
    // Every due run is budgeted, whichever job type it enqueues: a due integration is a scheduled sync.
    if (payload.budgets === null && payload.mode === 'due' && options.budgets) {
      payload = { ...payload, budgets: await planBudgets(db, options.budgets, scope, now) };
    }
    const allowance = await allowanceLeft(db, payload);
    // Nothing in scope may start this hour: no need to read the due integrations at all.
    if (scope.every((p) => allowance.get(p) === 0)) return { counters: { queued: 0, duplicates: 0 } };
    return fanOutPage(db, payload, providers, maxAttempts, now, allowance, signal);
  };
}

/**
 * Each budgeted platform's plan for this hour, stored for the Ads Hub and the alerts. A
 * platform whose plan cannot be made (an index still building after a deploy) runs unbudgeted
 * this time, protected by its own limit answers, rather than holding up every platform.
 */
async function planBudgets(db: Firestore, settings: BudgetSettings, providers: readonly ProviderId[], now: number): Promise<NonNullable<FanOutPayload['budgets']>> {
  const plans = await Promise.all(
    providers.map((p) =>
      planPlatformBudget(db, p, settings, now).catch((error: unknown) => {
        sideTaskFailed('planning the daily request budget', error, { platform: p });
        return null;
      }),
    ),
  );
  return Object.fromEntries(
    plans.flatMap((plan) => (plan ? [[plan.providerId, { stretchedTo: plan.stretchedTo, hourAllowance: plan.hourAllowance, hourStart: plan.hourStart.toMillis() }]] : [])),
  );
}

/**
 * What each budgeted platform may still start this hour: its allowance less the integrations
 * already asked for since the hour began. A platform whose count fails starts nothing on this
 * page (the next hour's run plans again): guessing could spend its allowance twice.
 */
async function allowanceLeft(db: Firestore, payload: FanOutPayload): Promise<Map<ProviderId, number>> {
  const entries = await Promise.all(
    Object.entries(payload.budgets ?? {}).map(async ([p, plan]) => {
      const providerId = p as ProviderId;
      try {
        const started = await countRequestedSince(db, providerId, plan.hourStart);
        return [providerId, Math.max(0, plan.hourAllowance - started)] as const;
      } catch (error) {
        sideTaskFailed('counting the hour\'s budgeted syncs', error, { platform: providerId });
        return [providerId, 0] as const;
      }
    }),
  );
  return new Map(entries);
}

async function fanOutPage(
  db: Firestore,
  payload: FanOutPayload,
  providers: readonly ProviderId[],
  maxAttempts: number,
  nowMs: number,
  allowance: Map<ProviderId, number>,
  signal?: AbortSignal,
): Promise<JobOutcome> {
  let snap = await pageQuery(db, payload, providers).get();
  if (snap.empty && payload.mode === 'due' && payload.phase === 'unscheduled') {
    // Nothing unscheduled (the usual case): go on with the scheduled ones in this run.
    payload = { ...payload, phase: 'scheduled', cursor: null };
    snap = await pageQuery(db, payload, providers).get();
  }
  const docs = firstUsers(snap.docs, payload.maxUsers);
  const now = new Date(nowMs);
  const limit = pLimit(ENQUEUE_PARALLELISM);
  let queued = 0;
  let duplicates = 0;
  // What this page may still start per budgeted platform is taken before each enqueue (they run side by side).

  await Promise.all(
    docs.map(({ doc, integration }) =>
      limit(async () => {
        // A page that timed out stops enqueuing: its retry owns the rest of it.
        if (signal?.aborted) return;
        const { providerId } = integration;
        const budget = payload.budgets?.[providerId];
        if (budget) {
          // Over this hour's allowance: left due, untouched, so the next hour's run (oldest first) takes it.
          const left = allowance.get(providerId) ?? 0;
          if (left <= 0) return;
          allowance.set(providerId, left - 1);
        }
        const cadence = integration.automation.cadence;
        // From the boundary it was due at when the run came a little early (DUE_SLACK_MS): not the same boundary again.
        const from = Math.max(nowMs, integration.nextRunAt?.toMillis() ?? 0);
        const nextRunAt = stretchedNextRun(cadence, budget?.stretchedTo ?? null, from);
        const advance = payload.mode === 'due' ? { nextRunAt: Timestamp.fromMillis(nextRunAt), lastRequestedAt: Timestamp.fromDate(now) } : { lastRequestedAt: Timestamp.fromDate(now) };
        const jobPayload: JobPayload = payload.timeframeDays ? { timeframeDays: payload.timeframeDays } : {};
        try {
          const result = await enqueueJob(
            db,
            {
              userId: integration.userId,
              providerId,
              jobType: payload.jobType,
              ...(payload.priority !== null ? { priority: payload.priority } : {}),
              payload: jobPayload,
              // Fenced: if the owner changed the integration meanwhile, neither write lands and
              // the integration is considered again on the next run.
              alsoWrite: (batch) => batch.update(doc.ref, advance, { lastUpdateTime: doc.updateTime }),
            },
            maxAttempts,
          );
          if (!result.duplicate) {
            queued++;
            return;
          }
          duplicates++;
          // A job already there costs no new requests: its slot goes back.
          if (budget) allowance.set(providerId, (allowance.get(providerId) ?? 0) + 1);
          await doc.ref.update(advance, { lastUpdateTime: doc.updateTime });
        } catch (error) {
          if (!hasCode(error, GRPC.FAILED_PRECONDITION)) throw error;
          // The owner changed the integration meanwhile: nothing was enqueued.
          if (budget) allowance.set(providerId, (allowance.get(providerId) ?? 0) + 1);
        }
      }),
    ),
  );

  const last = docs.at(-1);
  const more = docs.length < snap.size || snap.size === payload.maxUsers * PER_USER;
  if (!last || !more) {
    // The unscheduled ones are done: the scheduled ones come next, from the start.
    if (payload.mode === 'due' && payload.phase === 'unscheduled') {
      return { counters: { queued, duplicates }, continueWith: { ...payload, phase: 'scheduled', cursor: null, page: payload.page + 1 } };
    }
    return { counters: { queued, duplicates } };
  }
  const cursor: FanOutPayload['cursor'] = [last.integration.nextRunAt?.toMillis() ?? null, last.doc.ref.path];
  return { counters: { queued, duplicates }, continueWith: { ...payload, cursor, page: payload.page + 1 } };
}
