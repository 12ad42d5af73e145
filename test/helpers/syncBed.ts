import type { Firestore } from 'firebase-admin/firestore';
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
