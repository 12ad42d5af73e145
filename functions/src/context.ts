import { getApps, initializeApp } from 'firebase-admin/app';
import { getAuth, type Auth } from 'firebase-admin/auth';
import { getFirestore, type Firestore } from 'firebase-admin/firestore';
import { loadConfig, logConfiguration, type Config } from './config/index.js';
import { boundSecrets } from './config/secrets.js';
import type { HandlerRegistry } from './queue/index.js';
import { createConnectors, createGates } from './providers/index.js';
import { createFanOutHandler } from './scheduler/fanout.js';
import { PROVIDER_IDS } from './schema/index.js';
import { createSyncHandlers } from './sync/handler.js';

/** Everything a request needs, built once per instance; tests build their own. */
export interface AppContext {
  db: Firestore;
  auth: Auth;
  config: Config;
  handlers: HandlerRegistry;
  startedAt: number;
}

const BACKFILL_BASE_CONCURRENCY = 8;

/** The worker's handlers: the fan-out, and the sync jobs over the configured platforms. */
export function defaultHandlers(db: Firestore, config: Config): HandlerRegistry {
  const { backfillRateShare, backfillChunkDays, pacingInstances, ...platforms } = config.providers;
  // One gate per platform for every job of this instance: daily syncs and backfills share
  // its rate, backfills at most their share of it, and each instance its share of the platform.
  const gates = createGates(platforms, { backfillShare: backfillRateShare, processShare: 1 / pacingInstances });
  const connectors = createConnectors(platforms, { gates });
  // Backfills also get fewer requests in flight (the share of a typical platform's 8).
  const backfillConnectors = createConnectors(
    { ...platforms, http: { concurrency: Math.max(1, Math.floor(BACKFILL_BASE_CONCURRENCY * backfillRateShare)) } },
    { gates, lane: 'backfill' },
  );
  return {
    'fan-out': createFanOutHandler(db, { providers: PROVIDER_IDS.filter((p) => connectors.has(p)), maxAttempts: config.queue.maxAttempts, budgets: config.budgets }),
    ...createSyncHandlers(db, {
      connectors,
      backfillConnectors,
      backfillChunkDays,
      missingSettings: config.missingProviderSettings,
      // The gates see every request of this instance, both lanes: the daily budgets' count.
      budget: { settings: config.budgets, takeSentCount: (providerId) => gates.get(providerId)?.takeSentCount() ?? 0 },
    }),
  };
}

export function createAppContext(overrides: Partial<AppContext> = {}): AppContext {
  const app = getApps()[0] ?? initializeApp();
  const db = overrides.db ?? getFirestore(app);
  const config = overrides.config ?? loadConfig();
  return {
    db,
    auth: overrides.auth ?? getAuth(app),
    config,
    handlers: overrides.handlers ?? defaultHandlers(db, config),
    startedAt: overrides.startedAt ?? Date.now(),
  };
}

/** A function instance's context, built on its first request; logs the redacted configuration once. */
export function createInstanceContext(): AppContext {
  const context = createAppContext();
  logConfiguration(context.config, boundSecrets(process.env.FUNCTION_TARGET));
  return context;
}
