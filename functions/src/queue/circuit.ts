import { FieldValue, Timestamp, type Firestore } from 'firebase-admin/firestore';
import { PROVIDER_IDS, type ProviderId } from '../schema/index.js';
import { GRPC, hasCode } from './collections.js';

export interface CircuitPolicy {
  /** Consecutive failures that open a provider's circuit. Default 5. */
  failureThreshold: number;
  /** How long an open circuit pauses the provider. Default 10 min. */
  cooldownMs: number;
}

export interface CircuitState {
  providerId: ProviderId;
  consecutiveFailures: number;
  openUntil: Date | null;
  lastError: string | null;
}

export const circuitsCollection = (db: Firestore) => db.collection('admin').doc('scheduler').collection('circuits');

export function isOpen(state: CircuitState, now = Date.now()): boolean {
  return state.openUntil !== null && state.openUntil.getTime() > now;
}

export async function loadCircuits(db: Firestore): Promise<Map<ProviderId, CircuitState>> {
  const snap = await circuitsCollection(db).get();
  const states = new Map<ProviderId, CircuitState>();
  for (const providerId of PROVIDER_IDS) {
    states.set(providerId, { providerId, consecutiveFailures: 0, openUntil: null, lastError: null });
  }
  for (const doc of snap.docs) {
    const providerId = doc.id as ProviderId;
    if (!states.has(providerId)) continue;
    states.set(providerId, {
      providerId,
      consecutiveFailures: (doc.get('consecutiveFailures') as number | undefined) ?? 0,
      openUntil: (doc.get('openUntil') as Timestamp | null | undefined)?.toDate() ?? null,
      lastError: (doc.get('lastError') as string | null | undefined) ?? null,
    });
  }
  return states;
}

/**
 * Counts one more failure; returns true when this call opened the circuit. Uses an
 * increment and a fenced update instead of a transaction: failures arrive in bursts from
 * many workers at once, exactly when transactions on one document contend.
 */
export async function recordProviderFailure(
  db: Firestore,
  providerId: ProviderId,
  error: string,
  policy: CircuitPolicy,
): Promise<boolean> {
  const ref = circuitsCollection(db).doc(providerId);
  await ref.set(
    { consecutiveFailures: FieldValue.increment(1), lastError: error, updatedAt: FieldValue.serverTimestamp() },
    { merge: true },
  );
  const snap = await ref.get();
  const failures = (snap.get('consecutiveFailures') as number | undefined) ?? 0;
  const openUntil = (snap.get('openUntil') as Timestamp | null | undefined)?.toMillis() ?? 0;
  if (failures < policy.failureThreshold || openUntil > Date.now()) return false;
  try {
    await ref.update(
      { openUntil: Timestamp.fromMillis(Date.now() + policy.cooldownMs), openedAt: FieldValue.serverTimestamp() },
      { lastUpdateTime: snap.updateTime! },
    );
    return true;
  } catch (e) {
    if (hasCode(e, GRPC.FAILED_PRECONDITION)) return false;
    throw e;
  }
}

/** A success closes the circuit (also after a half-open trial once the cool-down ends). */
export async function recordProviderSuccess(db: Firestore, providerId: ProviderId): Promise<void> {
  await circuitsCollection(db)
    .doc(providerId)
    .set({ consecutiveFailures: 0, openUntil: null, updatedAt: FieldValue.serverTimestamp() }, { merge: true });
}

/**
 * Pauses a provider's jobs until a platform limit resets (LinkedIn's daily limit): the same
 * openUntil the circuit uses, so workers skip the provider and /status shows the pause, but
 * no failure is counted.
 */
export async function pauseProvider(db: Firestore, providerId: ProviderId, until: Date, reason: string): Promise<void> {
  await circuitsCollection(db)
    .doc(providerId)
    .set({ openUntil: Timestamp.fromDate(until), lastError: reason, pausedBy: 'rate-limit', updatedAt: FieldValue.serverTimestamp() }, { merge: true });
}
