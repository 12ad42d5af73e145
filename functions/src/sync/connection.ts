import { FieldValue, Timestamp, type Firestore } from 'firebase-admin/firestore';
import { PermanentJobError } from '../queue/index.js';
import { PROVIDER_LABELS, providerCredentialsSchema, type ProviderCredentials, type ProviderId } from '../schema/index.js';
import { credentialsRef, integrationRef } from './store.js';

/**
 * The connection a job works for, as it read the integration when it started. Every account
 * pick writes a new connectionId; a disconnect marks the integration disconnected and
 * deletes its tokens. A job's writes to the integration and to the tokens land only while
 * the connection is still this one, so a job that outlives its connection (cancelled by a
 * disconnect, or running while the user picks an account again) can neither bring tokens
 * back nor write a result or a currency onto the next connection.
 */
export interface JobConnection {
  userId: string;
  providerId: ProviderId;
  connectionId: string | null;
  accountId: string | null;
}

/** The connection changed under a running job (disconnected, or reconnected meanwhile): its work is no longer wanted. */
export class ConnectionChangedError extends PermanentJobError {
  constructor(providerId: ProviderId, what: string) {
    super(`${PROVIDER_LABELS[providerId]} ${what} while the sync ran; the sync stopped`);
  }
}

/** Updates the integration in a transaction that first checks it is still the job's connection; false when it is not. */
async function updateIfSameConnection(db: Firestore, c: JobConnection, data: Record<string, unknown>): Promise<boolean> {
  const ref = integrationRef(db, c.userId, c.providerId);
  return db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    const same =
      snap.exists &&
      snap.get('status') !== 'disconnected' &&
      ((snap.get('connectionId') as string | null | undefined) ?? null) === c.connectionId &&
      ((snap.get('accountId') as string | null | undefined) ?? null) === c.accountId;
    if (same) tx.update(ref, data);
    return same;
  });
}

export async function recordSyncResult(
  db: Firestore,
  connection: JobConnection,
  result: { ok: true } | { ok: false; error: string; disconnect: boolean },
): Promise<boolean> {
  return updateIfSameConnection(
    db,
    connection,
    result.ok
      ? { lastSyncedAt: Timestamp.now(), lastSyncStatus: 'succeeded', lastError: null }
      : { lastSyncStatus: 'failed', lastError: result.error, ...(result.disconnect ? { status: 'error' } : {}) },
  );
}

/** The account's history is complete: a reconnect of the same account then only catches up. */
export async function recordHistoryLoaded(db: Firestore, connection: JobConnection): Promise<boolean> {
  return updateIfSameConnection(db, connection, { historyLoadedAt: Timestamp.now() });
}

/** Kept with the connection it was read for: a currency never lands on another account's connection. */
export async function saveAccountCurrency(db: Firestore, connection: JobConnection, currency: string): Promise<boolean> {
  return updateIfSameConnection(db, connection, { currency });
}

/**
 * Stores credentials a refresh just issued, unless the stored ones are no longer those it
 * refreshed: deleted (disconnected: ConnectionChangedError) or replaced (a reconnect, or
 * another refresher: those are returned and the fresh ones dropped). The whole-document
 * write also releases the refresh lease.
 */
export async function storeRefreshedCredentials(
  db: Firestore,
  userId: string,
  providerId: ProviderId,
  stale: ProviderCredentials,
  fresh: ProviderCredentials,
): Promise<ProviderCredentials> {
  const ref = credentialsRef(db, userId, providerId);
  return db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    if (!snap.exists) throw new ConnectionChangedError(providerId, 'was disconnected');
    const stored = providerCredentialsSchema.safeParse(snap.data());
    if (stored.success && stored.data.accessToken !== stale.accessToken) return stored.data;
    tx.set(ref, { ...fresh, updatedAt: FieldValue.serverTimestamp() });
    return fresh;
  });
}
