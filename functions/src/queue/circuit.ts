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
      { openUntil: Timestamp.fromMillis(Date.now() + policy.cooldownMs), openedAt: FieldValue.serverTimestamp(), pausedBy: FieldValue.delete() },
      { lastUpdateTime: snap.updateTime! },
    );
    return true;
  } catch (e) {
    if (hasCode(e, GRPC.FAILED_PRECONDITION)) return false;
    throw e;
  }
}

/**
 * A success closes the circuit (also after a half-open trial once the cool-down ends), but
 * never lifts a pause for a platform limit that has not reset yet: a job that started
 * before the pause says nothing about the limit.
 */
export async function recordProviderSuccess(db: Firestore, providerId: ProviderId): Promise<void> {
  const ref = circuitsCollection(db).doc(providerId);
  const snap = await ref.get();
  if (!snap.exists) return;
  const pausedUntil = snap.get('pausedBy') === 'rate-limit' ? ((snap.get('openUntil') as Timestamp | null | undefined)?.toMillis() ?? 0) : 0;
  const resetCount = () => ref.set({ consecutiveFailures: 0, updatedAt: FieldValue.serverTimestamp() }, { merge: true });
  if (pausedUntil > Date.now()) return void (await resetCount());
  try {
    // Fenced: a pause written meanwhile stands; the failure count is reset either way.
    await ref.update({ consecutiveFailures: 0, openUntil: null, pausedBy: FieldValue.delete(), updatedAt: FieldValue.serverTimestamp() }, { lastUpdateTime: snap.updateTime! });
  } catch (e) {
    if (!hasCode(e, GRPC.FAILED_PRECONDITION)) throw e;
    await resetCount();
  }
}

/** How stale a worker's view of the circuits may get: another worker may open one meanwhile. */
const CIRCUIT_REFRESH_MS = 15_000;

/**
 * One worker call's view of the circuits: which providers are paused (open), which are
 * half-open (cool-down over, failures not yet cleared: one trial job at a time), re-read
 * every 15 s so a circuit opened by another worker is honoured here too.
 */
export class CircuitView {
  private states = new Map<ProviderId, CircuitState>();
  private loadedAt = 0;
  /** Providers opened by this worker since the last load. */
  private readonly openedHere = new Set<ProviderId>();

  constructor(
    private readonly db: Firestore,
    private readonly policy: CircuitPolicy,
  ) {}

  async refresh(force = false): Promise<void> {
    if (!force && Date.now() - this.loadedAt < CIRCUIT_REFRESH_MS) return;
    this.states = await loadCircuits(this.db);
    this.loadedAt = Date.now();
    this.openedHere.clear();
  }

  /** Open circuits: their jobs are not claimed. */
  paused(): Set<ProviderId> {
    const now = Date.now();
    return new Set([...this.states.values()].filter((c) => this.openedHere.has(c.providerId) || isOpen(c, now)).map((c) => c.providerId));
  }

  /** Cool-down over but not yet closed by a success: one job at a time tries the provider. */
  halfOpen(): Set<ProviderId> {
    const paused = this.paused();
    return new Set(
      [...this.states.values()]
        .filter((c) => !paused.has(c.providerId) && c.consecutiveFailures >= this.policy.failureThreshold)
        .map((c) => c.providerId),
    );
  }

  async recordSuccess(providerId: ProviderId): Promise<void> {
    const state = this.states.get(providerId);
    if (!state || state.consecutiveFailures === 0) return;
    await recordProviderSuccess(this.db, providerId);
    state.consecutiveFailures = 0;
    // A pause still in force may be a platform limit's, which a success does not lift.
    if (!isOpen(state)) state.openUntil = null;
  }

  /**
   * Pauses the provider until a platform limit resets (see pauseProvider): its jobs are not
   * claimed here from now on. Every job that meets the limit asks for the same pause: the
   * document is written only when the pause known here ends earlier (one hot document,
   * at most one write a second).
   */
  async pause(providerId: ProviderId, until: Date, reason: string): Promise<void> {
    const state = this.states.get(providerId);
    this.openedHere.add(providerId);
    if (state && (state.openUntil?.getTime() ?? 0) >= until.getTime()) return;
    const before = state?.openUntil ?? null;
    if (state) state.openUntil = until;
    try {
      await pauseProvider(this.db, providerId, until, reason);
    } catch (error) {
      if (state && state.openUntil === until) state.openUntil = before;
      throw error;
    }
  }

  /** Returns true when this failure opened the circuit. */
  async recordFailure(providerId: ProviderId, error: string): Promise<boolean> {
    const opened = await recordProviderFailure(this.db, providerId, error, this.policy);
    const state = this.states.get(providerId);
    if (state) state.consecutiveFailures++;
    if (opened) this.openedHere.add(providerId);
    return opened;
  }
}

/**
 * Pauses a provider's jobs until a platform limit resets (LinkedIn's daily limit): the same
 * openUntil the circuit uses, so workers skip the provider and /status shows the pause, but
 * no failure is counted. A pause never shortens one already in force (an open circuit's
 * cool-down or a longer limit), and one already as long is not written again: every
 * deferred job of the provider asks, and the document must not become a hot spot.
 */
export async function pauseProvider(db: Firestore, providerId: ProviderId, until: Date, reason: string): Promise<void> {
  const ref = circuitsCollection(db).doc(providerId);
  await db.runTransaction(async (tx) => {
    const current = (await tx.get(ref)).get('openUntil') as Timestamp | null | undefined;
    if (current && current.toMillis() >= until.getTime()) return;
    tx.set(ref, { openUntil: Timestamp.fromDate(until), lastError: reason, pausedBy: 'rate-limit', updatedAt: FieldValue.serverTimestamp() }, { merge: true });
  });
}
