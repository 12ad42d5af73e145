import assert from 'node:assert/strict';
import { after, before, beforeEach } from 'node:test';
import type { Firestore } from 'firebase-admin/firestore';
import type { Connector, ConnectorRegistry } from '../../functions/src/providers/index.js';
import type { HandlerRegistry } from '../../functions/src/queue/index.js';
import {
  METRIC_MONTHS_COLLECTION,
  METRIC_TOTALS_COLLECTION,
  PROVIDER_IDS,
  metricMonthId,
  metricMonthSchema,
  metricRowId,
  metricTotalsId,
  metricTotalsSchema,
  rowsOfMonth,
  type CampaignDay,
  type MetricRow,
  type ProviderId,
} from '../../functions/src/schema/index.js';
import { createSyncHandlers, type SyncHandlerOptions } from '../../functions/src/sync/handler.js';
import { credentialsRef } from '../../functions/src/sync/store.js';
import type { Sandbox } from '../../scripts/sandbox/server.js';
import { ACCOUNTS, startTestBed, type TestBed } from '../providers/helpers.js';
import { testFirebase, type TestFirebase } from './firebase.js';
import { seedIntegrations } from './seed.js';

/** A connected integration with credentials the sandbox issued, as a connect flow would leave it. */
export async function connectIntegration(
  db: Firestore,
  sandbox: Sandbox,
  userId: string,
  providerId: ProviderId,
  lookbackDays: number | null = null,
): Promise<void> {
  await seedIntegrations(db, [{ userId, providerId }]);
  await db.doc(`users/${userId}/integrations/${providerId}`).update({
    accountId: ACCOUNTS[providerId].input,
    'automation.lookbackDays': lookbackDays,
  });
  const issued = sandbox.issueCredentials(providerId);
  await credentialsRef(db, userId, providerId).set({
    accessToken: issued.accessToken,
    refreshToken: providerId === 'meta' ? null : issued.refreshToken,
    expiresAt: issued.expiresAt,
  });
}

/**
 * Every stored metric row of a user, by its row id (provider:account:campaign:date[:kind:segment]),
 * as the month documents hold them; throws if the account totals disagree with the
 * campaign-daily rows (unless told not to: a sync cut off midway), so every test that reads
 * metrics also checks the totals.
 */
export async function metricsOf(db: Firestore, userId: string, { checkTotals = true } = {}): Promise<Map<string, Record<string, unknown>>> {
  const [months, totals] = await Promise.all([
    db.collection(`users/${userId}/${METRIC_MONTHS_COLLECTION}`).get(),
    db.collection(`users/${userId}/${METRIC_TOTALS_COLLECTION}`).get(),
  ]);
  const rows = months.docs.flatMap((doc) => rowsOfMonth(metricMonthSchema.parse(doc.data())));
  const fromRows = new Map<string, Record<string, CampaignDay>>();
  for (const row of rows.filter((r) => r.kind === 'campaign-daily')) {
    const key = `${metricTotalsId(row)}/${row.date}`;
    fromRows.set(key, { ...fromRows.get(key), [row.campaignId]: [row.spend, row.impressions, row.clicks, row.conversions] });
  }
  const fromTotals = new Map(
    totals.docs.flatMap((doc) => Object.entries(metricTotalsSchema.parse(doc.data()).days).map(([date, day]) => [`${doc.id}/${date}`, day] as const)),
  );
  if (checkTotals) assert.deepEqual(fromTotals, fromRows, 'the account totals hold exactly the campaign-daily rows');
  return new Map(rows.map((row) => [metricRowId(row), row as Record<string, unknown>]));
}

/** The documents these rows belong in: one per campaign, report kind and month, one per account and month. */
export function documentsFor(rows: Iterable<Record<string, unknown>>): number {
  return new Set([...rows].flatMap((r) => {
    const row = r as MetricRow;
    return [metricMonthId(row), ...(row.kind === 'campaign-daily' ? [`totals/${metricTotalsId(row)}`] : [])];
  })).size;
}

/** Every metric document of a user (months and totals), by path: its update time, which any rewrite changes. */
export async function metricVersionsOf(db: Firestore, userId: string): Promise<Map<string, string>> {
  const snaps = await Promise.all([METRIC_MONTHS_COLLECTION, METRIC_TOTALS_COLLECTION].map((c) => db.collection(`users/${userId}/${c}`).get()));
  return new Map(snaps.flatMap((snap) => snap.docs.map((doc) => [doc.ref.path, `${doc.updateTime.seconds}.${String(doc.updateTime.nanoseconds).padStart(9, '0')}`] as const)));
}

/**
 * The registry with Google offering a second report kind ("demographics", one segment:
 * the campaign row again), so that one sync fetches several kinds over one refreshable
 * token. Of the real connectors only Meta has several kinds, and Meta has no refresh.
 * Each kind is a real request to the sandbox.
 */
export function withSecondGoogleKind(registry: ConnectorRegistry): ConnectorRegistry {
  const google = registry.get('google');
  const twoKinds: Connector = {
    providerId: 'google',
    reportKinds: ['campaign-daily', 'demographics'],
    async fetchReport(kind, input) {
      const result = await google.fetchReport('campaign-daily', input);
      if (kind === 'campaign-daily') return result;
      return { ...result, rows: result.rows.map((row) => ({ ...row, kind: 'demographics', breakdown: { age: 'all', gender: 'all' } })) };
    },
  };
  return {
    get: (providerId) => (providerId === 'google' ? twoKinds : registry.get(providerId)),
    has: (providerId) => registry.has(providerId),
    all: () => registry.all().map((c) => (c.providerId === 'google' ? twoKinds : c)),
  };
}

export interface SyncBed {
  fb: TestFirebase;
  bed: TestBed;
  handlers: HandlerRegistry;
}

/**
 * Registers a suite's hooks: a Firestore emulator project and the provider test bed, the
 * sync handlers over its connectors, and before each test a cleared database and sandbox.
 */
export function useSyncBed(name: string, options: Omit<SyncHandlerOptions, 'connectors'> = {}): SyncBed {
  const fb = testFirebase(name);
  let current: { bed: TestBed; handlers: HandlerRegistry } | undefined;
  before(async () => {
    const bed = await startTestBed();
    current = { bed, handlers: createSyncHandlers(fb.db, { ...options, connectors: bed.connectors }) };
  });
  beforeEach(async () => {
    await fb.clear();
    current!.bed.sandbox.resetStats();
    for (const p of PROVIDER_IDS) current!.bed.sandbox.setFaults(p, {});
  });
  after(async () => {
    await current?.bed.sandbox.close();
    await fb.close();
  });
  return {
    fb,
    get bed() {
      return current!.bed;
    },
    get handlers() {
      return current!.handlers;
    },
  };
}
