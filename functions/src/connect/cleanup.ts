import { Timestamp, type Firestore } from 'firebase-admin/firestore';
import { deleteAll } from '../queue/index.js';
import { OAUTH_STATES_COLLECTION, PENDING_CONNECTIONS_COLLECTION } from '../schema/index.js';

/**
 * Deletes authorizations past their expiry: unused states, and pending connections whose
 * person never picked an account (they hold live platform tokens). Run with the hourly
 * cleanup; in production the TTL policies on `expiresAt` of both collections
 * (firestore.indexes.json) delete them within a day as well (docs/operations.md).
 */
export async function deleteExpiredConnections(
  db: Firestore,
  options: { pageSize?: number; deadline?: number } = {},
): Promise<{ states: number; pendingConnections: number; complete: boolean }> {
  const now = Timestamp.now();
  // Within the cleanup's budget, like everything else it deletes; what is left goes next time.
  const expiredIn = (path: string) => deleteAll(db, db.collection(path).where('expiresAt', '<', now), { field: 'expiresAt', pageSize: options.pageSize ?? 400, deadline: options.deadline });
  const [states, pendingConnections] = await Promise.all([expiredIn(OAUTH_STATES_COLLECTION), expiredIn(PENDING_CONNECTIONS_COLLECTION)]);
  return { states: states.deleted, pendingConnections: pendingConnections.deleted, complete: states.complete && pendingConnections.complete };
}
