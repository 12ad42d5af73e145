import { after, before, beforeEach } from 'node:test';
import type { Firestore } from 'firebase-admin/firestore';
import type { ProviderId } from '../../functions/src/schema/index.js';
import { credentialsRef } from '../../functions/src/sync/store.js';
import type { Sandbox } from '../../scripts/sandbox/server.js';
import { ACCOUNTS, startTestBed, type TestBed } from '../providers/helpers.js';
import type { TestFirebase } from './firebase.js';
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

/**
 * A sandbox for the whole file, and a clean emulator project before each test. Use at the
 * top of a sync test file; the bed is there once the file's `before` hooks have run.
 */
export function useSyncBed(fb: TestFirebase): { readonly bed: TestBed } {
  let bed: TestBed | undefined;
  before(async () => {
    bed = await startTestBed();
  });
  beforeEach(() => fb.clear());
  after(async () => {
    await bed?.sandbox.close();
    await fb.close();
  });
  return {
    get bed() {
      return bed!;
    },
  };
}
