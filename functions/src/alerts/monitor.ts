/**
 * What no single run shows, read from Firestore by reset_stale_jobs (every 10 minutes): the
 * oldest due job and how many have waited past the backlog limit, integrations whose data has
 * gone stale, circuits open after failures, and daily budgets that hold scheduled syncs back.
 * /health reads the same things. Every query here has its index in firestore.indexes.json;
 * counts are aggregation queries (one read per 1,000 index entries), so the freshness check
 * costs 16 reads a run, not one per integration.
 */
import { Timestamp, type Firestore } from 'firebase-admin/firestore';
import { loadBudgetPlans } from '../budget/index.js';
import { scheduledIntegrations } from '../integrations/queries.js';
import { isOpen, jobsCollection } from '../queue/index.js';
import { loadCircuits, type PlatformCircuit } from '../scheduler/jobs.js';
import { CADENCE_INTERVAL_MS } from '../scheduler/cadence.js';
import { z } from 'zod';
import { CADENCES, PROVIDER_IDS, integrationDocumentSchema, timestampSchema, type ProviderId } from '../schema/index.js';
import { backlogObservation, budgetObservation, circuitObservation, freshnessObservation, type Observation } from './rules.js';

const runAfterOnly = z.object({ runAfter: timestampSchema });
const staleFields = integrationDocumentSchema.pick({ userId: true, lastSyncedAt: true });

export interface BacklogReading {
  /** The runAfter of the oldest queued job that is due; null when none is. */
  oldestDueAt: number | null;
  /** Due jobs that have waited longer than the limit. */
  overdue: number;
}

export async function readBacklog(db: Firestore, backlogMs: number, now: number): Promise<BacklogReading> {
  const queued = jobsCollection(db).where('status', '==', 'queued');
  const [oldest, overdue] = await Promise.all([
    queued.where('runAfter', '<=', Timestamp.fromMillis(now)).orderBy('runAfter').select('runAfter').limit(1).get(),
    queued.where('runAfter', '<=', Timestamp.fromMillis(now - backlogMs)).count().get(),
  ]);
  const first = oldest.docs[0] ? runAfterOnly.parse(oldest.docs[0].data()).runAfter : undefined;
  return { oldestDueAt: first ? first.toMillis() : null, overdue: overdue.data().count };
}

/** A circuit opened by failures (a platform's rate-limit pause counts no failures). */
export const openedByFailures = (circuit: PlatformCircuit, failureThreshold: number, now: number) =>
  isOpen(circuit, now) && circuit.consecutiveFailures >= failureThreshold;

/**
 * Integrations with automation on whose last successful sync is older than twice their
 * cadence, per platform: the failure a user feels even when no single run failed. One
 * aggregation per platform and cadence; a few examples where there are any. An
 * integration that never synced has no lastSyncedAt and is not counted here (its backfill's
 * failures alert instead).
 */
export async function readStaleIntegrations(db: Firestore, now: number): Promise<Map<ProviderId, { stale: number; examples: string[] }>> {
  const result = new Map<ProviderId, { stale: number; examples: string[] }>();
  await Promise.all(
    PROVIDER_IDS.map(async (providerId) => {
      const perCadence = await Promise.all(
        CADENCES.map(async (cadence) => {
          const query = scheduledIntegrations(db, providerId, cadence).where('lastSyncedAt', '<', Timestamp.fromMillis(now - 2 * CADENCE_INTERVAL_MS[cadence]));
          const stale = (await query.count().get()).data().count;
          if (stale === 0) return { stale, examples: [] };
          const some = await query.orderBy('lastSyncedAt').select('userId', 'lastSyncedAt').limit(5).get();
          const examples = some.docs.map((doc) => {
            const { userId, lastSyncedAt } = staleFields.parse(doc.data());
            const last = lastSyncedAt?.toDate().toISOString().slice(0, 16).replace('T', ' ') ?? 'never';
            return `user ${userId}: last successful sync ${last} UTC (${cadence})`;
          });
          return { stale, examples };
        }),
      );
      result.set(providerId, { stale: perCadence.reduce((n, c) => n + c.stale, 0), examples: perCadence.flatMap((c) => c.examples) });
    }),
  );
  return result;
}

/** Every key the monitor judges, applying or not, so what stopped applying is resolved. */
export async function monitorObservations(db: Firestore, options: { backlogMs: number; circuitFailureThreshold: number; now: number }): Promise<Observation[]> {
  const { now } = options;
  const [backlog, stale, circuits, budgets] = await Promise.all([
    readBacklog(db, options.backlogMs, now),
    readStaleIntegrations(db, now),
    loadCircuits(db),
    loadBudgetPlans(db, now),
  ]);
  const observations: Observation[] = [backlogObservation(backlog.overdue, backlog.oldestDueAt, options.backlogMs, now)];
  for (const providerId of PROVIDER_IDS) {
    const s = stale.get(providerId)!;
    observations.push(freshnessObservation(providerId, s.stale, s.examples));
    const circuit = circuits.get(providerId)!;
    observations.push(circuitObservation(providerId, openedByFailures(circuit, options.circuitFailureThreshold, now), circuit.openUntil?.getTime() ?? null, circuit.lastError));
    observations.push(budgetObservation(providerId, budgets.get(providerId) ?? null));
  }
  return observations;
}
