import { Timestamp, type Firestore } from 'firebase-admin/firestore';
import { deleteAll } from '../queue/index.js';

/**
 * Deletes authorizations past their expiry: unused states, and pending connections whose
 * person never picked an account (they hold live platform tokens). Run with the hourly
 * cleanup; in production the TTL policies on `expiresAt` of both collections
 * (firestore.indexes.json) delete them within a day as well (docs/operations.md).
 */
export async function deleteExpiredConnections(db: Firestore, pageSize = 400): Promise<{ states: number; pendingConnections: number }> {
  const now = Timestamp.now();
  const [states, pendingConnections] = await Promise.all([
    deleteAll(db, db.collection('oauthStates').where('expiresAt', '<', now), { field: 'expiresAt', pageSize }).then((r) => r.deleted),
    deleteAll(db, db.collection('pendingConnections').where('expiresAt', '<', now), { field: 'expiresAt', pageSize }).then((r) => r.deleted),
  ]);
  return { states, pendingConnections };
}
