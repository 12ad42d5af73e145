import type { Firestore } from 'firebase-admin/firestore';
import type { Connector, ConnectorRegistry } from '../../functions/src/providers/index.js';
import type { ProviderId } from '../../functions/src/schema/index.js';
import { credentialsRef } from '../../functions/src/sync/store.js';
import type { Sandbox } from '../../scripts/sandbox/server.js';
import { ACCOUNTS } from '../providers/helpers.js';
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

/** Every metric document of a user, by id, without fetchedAt. */
export async function metricsOf(db: Firestore, userId: string): Promise<Map<string, Record<string, unknown>>> {
  const snap = await db.collection(`users/${userId}/metrics`).get();
  return new Map(
    snap.docs.map((doc) => {
      const { fetchedAt: _fetchedAt, ...rest } = doc.data();
      return [doc.id, rest];
    }),
  );
}

/** Every metric document of a user, by id: its update time, which any rewrite changes. */
export async function metricVersionsOf(db: Firestore, userId: string): Promise<Map<string, string>> {
  const snap = await db.collection(`users/${userId}/metrics`).get();
  return new Map(snap.docs.map((doc) => [doc.id, `${doc.updateTime.seconds}.${String(doc.updateTime.nanoseconds).padStart(9, '0')}`]));
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
    restatementDays: google.restatementDays,
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
