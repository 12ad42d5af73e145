import { FieldValue, Timestamp, type DocumentSnapshot, type Firestore } from 'firebase-admin/firestore';
import { GRPC, hasCode } from '../firestore/errors.js';
import { PermanentJobError } from '../queue/index.js';
import { PROVIDER_LABELS, integrationDocumentSchema, providerCredentialsSchema, type ProviderCredentials, type ProviderId } from '../schema/index.js';
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
  /** The integration's update time as this job last saw it (read or written); null: read it first. */
  version?: Timestamp | null;
}

/** The connection changed under a running job (disconnected, or reconnected meanwhile): its work is no longer wanted. */
export class ConnectionChangedError extends PermanentJobError {
  constructor(providerId: ProviderId, what: string) {
    super(`${PROVIDER_LABELS[providerId]} ${what} while the sync ran; the sync stopped`);
  }
}

/** Concurrent writers (the other lane, the owner's automation) make a fenced update fail: read again, this often. */
const FENCED_TRIES = 5;

const connectionFields = integrationDocumentSchema.pick({ status: true, connectionId: true, accountId: true });

function isSameConnection(snap: DocumentSnapshot, c: JobConnection): boolean {
  const stored = connectionFields.safeParse(snap.data());
  return stored.success && stored.data.status !== 'disconnected' && stored.data.connectionId === c.connectionId && stored.data.accountId === c.accountId;
}

/**
 * Updates the integration only while it is still the job's connection. The update is fenced
 * on the version the job last saw (`c.version`: as it read the integration at the start, or
 * as it last wrote it), so the common case costs no read; when someone else wrote meanwhile
 * (the other lane, the owner's automation, a disconnect, a new pick) the integration is
 * read again and checked. Not a transaction: the emulator holds a transaction's locks for
 * up to 30 s.
 */
async function updateIfSameConnection(db: Firestore, c: JobConnection, data: Record<string, unknown>): Promise<boolean> {
  const ref = integrationRef(db, c.userId, c.providerId);
  for (let attempt = 1; ; attempt++) {
    if (!c.version) {
      const snap = await ref.get();
      if (!isSameConnection(snap, c)) return false;
      c.version = snap.updateTime!;
    }
    try {
      c.version = (await ref.update(data, { lastUpdateTime: c.version })).writeTime;
      return true;
    } catch (error) {
      if (!(hasCode(error, GRPC.FAILED_PRECONDITION) || hasCode(error, GRPC.NOT_FOUND)) || attempt >= FENCED_TRIES) throw error;
      c.version = null;
    }
  }
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
 * another refresher: those are returned and the fresh ones dropped). The write also
 * releases the refresh lease.
 */
export async function storeRefreshedCredentials(
  db: Firestore,
  userId: string,
  providerId: ProviderId,
  stale: ProviderCredentials,
  fresh: ProviderCredentials,
): Promise<ProviderCredentials> {
  const ref = credentialsRef(db, userId, providerId);
  for (let attempt = 1; ; attempt++) {
    const snap = await ref.get();
    if (!snap.exists) throw new ConnectionChangedError(providerId, 'was disconnected');
    const stored = providerCredentialsSchema.safeParse(snap.data());
    if (stored.success && stored.data.accessToken !== stale.accessToken) return stored.data;
    try {
      // Every field of the credentials, and the refresh lease released.
      await ref.update({ ...fresh, refreshingUntil: FieldValue.delete(), updatedAt: FieldValue.serverTimestamp() }, { lastUpdateTime: snap.updateTime! });
      return fresh;
    } catch (error) {
      // A lease renewal or another writer got in between: look again.
      if (!hasCode(error, GRPC.FAILED_PRECONDITION) || attempt >= FENCED_TRIES) throw error;
    }
  }
}
