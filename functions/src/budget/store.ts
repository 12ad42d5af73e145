/**
 * Where the daily budgets live: sharded usage counters (every sync adds its requests to one of
 * QUOTA_USAGE_SHARDS documents: at the worker's peak of about 17 syncs a second, each shard
 * takes about one write a second, what a document sustains), and one plan document per
 * platform that the hourly fan-out writes and the Ads Hub reads.
 */
import { randomInt } from 'node:crypto';
import { FieldValue, Timestamp, type Firestore } from 'firebase-admin/firestore';
import {
  CADENCES,
  PROVIDER_IDS,
  QUOTA_USAGE_SHARDS,
  platformBudgetDocumentSchema,
  quotaUsageDocumentSchema,
  type BudgetSettings,
  type Cadence,
  type PlatformBudgetDocument,
  type ProviderId,
  platformBudgetPath,
  quotaUsagePath,
  INTEGRATIONS_COLLECTION,
} from '../schema/index.js';
import { scheduledIntegrations } from '../integrations/queries.js';
import { budgetDayOf, hourStartOf, planBudget } from './plan.js';

/** Usage counters outlive their day by this much (TTL deletes them; cleanup_old_jobs is the backstop). */
const USAGE_KEPT_MS = 3 * 86_400_000;

const usageRef = (db: Firestore, providerId: ProviderId, day: string, shard: number) => db.doc(quotaUsagePath(providerId, day, shard));
export const platformBudgetRef = (db: Firestore, providerId: ProviderId) => db.doc(platformBudgetPath(providerId));

export interface Usage {
  calls: number;
  syncs: number;
}

/** Adds one sync's requests to today's count (a blind increment: no read, no contention). */
export async function recordUsage(db: Firestore, providerId: ProviderId, usage: Usage, now: number): Promise<void> {
  if (usage.calls === 0 && usage.syncs === 0) return;
  const day = budgetDayOf(now);
  await usageRef(db, providerId, day, randomInt(QUOTA_USAGE_SHARDS)).set(
    {
      providerId,
      day,
      calls: FieldValue.increment(usage.calls),
      syncs: FieldValue.increment(usage.syncs),
      expireAt: Timestamp.fromMillis(Date.parse(`${day}T00:00:00Z`) + USAGE_KEPT_MS),
    },
    { merge: true },
  );
}

/** The day's count: every shard, read by id. */
export async function readUsage(db: Firestore, providerId: ProviderId, now: number): Promise<Usage> {
  const day = budgetDayOf(now);
  const refs = Array.from({ length: QUOTA_USAGE_SHARDS }, (_, shard) => usageRef(db, providerId, day, shard));
  const snaps = await db.getAll(...refs);
  return snaps.reduce(
    (sum, snap) => {
      if (!snap.exists) return sum;
      const shard = quotaUsageDocumentSchema.parse(snap.data());
      return { calls: sum.calls + shard.calls, syncs: sum.syncs + shard.syncs };
    },
    { calls: 0, syncs: 0 },
  );
}

/** Connected integrations with automation on due before `before`: this hour's runs, what earlier hours left due included. */
export async function countDueBefore(db: Firestore, providerId: ProviderId, before: number): Promise<number> {
  const query = db
    .collectionGroup(INTEGRATIONS_COLLECTION)
    .where('status', '==', 'connected')
    .where('automation.enabled', '==', true)
    .where('providerId', '==', providerId)
    .where('nextRunAt', '<', Timestamp.fromMillis(before));
  return (await query.count().get()).data().count;
}

/**
 * Integrations of a platform the scheduler (or a person) asked to sync since `since`: each
 * request writes lastRequestedAt with its job, so this is exact across pages, retries and
 * repeated deliveries of one hour's run.
 */
export async function countRequestedSince(db: Firestore, providerId: ProviderId, since: number): Promise<number> {
  const query = db.collectionGroup(INTEGRATIONS_COLLECTION).where('providerId', '==', providerId).where('lastRequestedAt', '>=', Timestamp.fromMillis(since));
  return (await query.count().get()).data().count;
}

/** Connected integrations with automation on, per cadence: one aggregation each (a read per 1,000 entries). */
export async function countScheduled(db: Firestore, providerId: ProviderId): Promise<Record<Cadence, number>> {
  const counts = await Promise.all(
    CADENCES.map(async (cadence) => {
      return [cadence, (await scheduledIntegrations(db, providerId, cadence).count().get()).data().count] as const;
    }),
  );
  return Object.fromEntries(counts) as Record<Cadence, number>;
}

/**
 * Requests a sync costs before the day has counted enough of them to say: a daily sync asks
 * each of the platform's report kinds once (Meta has three), and TikTok also asks for the
 * account's currency on an account's first sync.
 */
const ESTIMATED_CALLS_PER_SYNC: Record<ProviderId, number> = { google: 1, meta: 3, linkedin: 1, tiktok: 2 };
/** Syncs counted before today's own figure replaces the estimate. */
const SYNCS_FOR_ESTIMATE = 20;

/** Never below the estimate: syncs that failed before sending anything would make a sync look free. */
export function callsPerSync(providerId: ProviderId, usage: Usage): number {
  const estimate = ESTIMATED_CALLS_PER_SYNC[providerId];
  return usage.syncs >= SYNCS_FOR_ESTIMATE ? Math.max(estimate, usage.calls / usage.syncs) : estimate;
}

/**
 * The platform's plan for the hour of `now`: the stored one when a run of this hour already
 * made it (so a repeated delivery or a retried page does not grant the hour's allowance
 * again), otherwise planned from the day's counts and stored. Null when it has no budget.
 */
export async function planPlatformBudget(db: Firestore, providerId: ProviderId, settings: BudgetSettings, now: number): Promise<PlatformBudgetDocument | null> {
  const budget = settings.daily[providerId];
  if (budget === undefined) return null;
  const hourStart = hourStartOf(now);
  const stored = platformBudgetDocumentSchema.safeParse((await platformBudgetRef(db, providerId).get()).data());
  if (stored.success && stored.data.hourStart.toMillis() === hourStart && stored.data.budget === budget) return stored.data;
  const [usage, integrations, dueThisHour] = await Promise.all([readUsage(db, providerId, now), countScheduled(db, providerId), countDueBefore(db, providerId, hourStart + 3_600_000)]);
  const cost = callsPerSync(providerId, usage);
  const plan = planBudget({ budget, reserveShare: settings.reserveShare, spent: usage.calls, callsPerSync: cost, integrations, dueThisHour, now });
  const document: PlatformBudgetDocument = {
    providerId,
    day: budgetDayOf(now),
    budget,
    reserve: plan.reserve,
    spent: usage.calls,
    callsPerSync: cost,
    demand: plan.demand,
    stretchedTo: plan.stretchedTo,
    hourAllowance: plan.hourAllowance,
    hourStart: Timestamp.fromMillis(plan.hourStart),
    reserveReached: plan.reserveReached,
    planAt: Timestamp.fromMillis(now),
  };
  await platformBudgetRef(db, providerId).set(document);
  return document;
}

/** Every platform's stored plan for the day of `now` (a plan of an earlier day no longer holds). */
export async function loadBudgetPlans(db: Firestore, now: number): Promise<Map<ProviderId, PlatformBudgetDocument>> {
  const snaps = await db.getAll(...PROVIDER_IDS.map((p) => platformBudgetRef(db, p)));
  const plans = new Map<ProviderId, PlatformBudgetDocument>();
  for (const snap of snaps) {
    const parsed = platformBudgetDocumentSchema.safeParse(snap.data());
    if (parsed.success && parsed.data.day === budgetDayOf(now)) plans.set(parsed.data.providerId, parsed.data);
  }
  return plans;
}
