import { FieldValue, Timestamp, type Firestore } from 'firebase-admin/firestore';
import { z } from 'zod';
import { GRPC, hasCode } from '../firestore/errors.js';
import { sideTaskFailed } from '../logs.js';

export interface CircuitPolicy {
  /** Consecutive failures that open a group's circuit. Default 5. */
  failureThreshold: number;
  /** How long an open circuit pauses the group. Default 10 min. */
  cooldownMs: number;
}

export interface CircuitState {
  group: string;
  consecutiveFailures: number;
  openUntil: Date | null;
  lastError: string | null;
}

/** What the worker needs of the circuits' storage; `FirestoreCircuitStore` below. */
export interface CircuitStore {
  /** Every known group's state; a group never written is closed. */
  load(): Promise<Map<string, CircuitState>>;
  /** Counts one more failure; true when this call opened the circuit. */
  recordFailure(group: string, error: string, policy: CircuitPolicy): Promise<boolean>;
  /** Closes the circuit, unless a limit's pause still holds (its failure count is reset either way). */
  recordSuccess(group: string): Promise<void>;
  /** Pauses the group until `until` without counting a failure; never shortens a longer pause. */
  pause(group: string, until: Date, reason: string): Promise<void>;
}

export function isOpen(state: Pick<CircuitState, 'openUntil'>, now = Date.now()): boolean {
  return state.openUntil !== null && state.openUntil.getTime() > now;
}

export const CIRCUITS_COLLECTION_PATH = 'admin/scheduler/circuits';
export const circuitsCollection = (db: Firestore) => db.collection(CIRCUITS_COLLECTION_PATH);

const timestamp = z.custom<Timestamp>((v) => v instanceof Timestamp, 'must be a Firestore Timestamp');
/** One group's circuit document, `admin/scheduler/circuits/{group}`. */
const circuitDocumentSchema = z.object({
  consecutiveFailures: z.number().int().min(0).default(0),
  openUntil: timestamp.nullable().default(null),
  lastError: z.string().nullable().default(null),
  /** `rate-limit`: the pause is a platform limit's, which a success does not lift. */
  pausedBy: z.string().optional(),
});

export class FirestoreCircuitStore implements CircuitStore {
  constructor(
    private readonly db: Firestore,
    /** The groups the caller knows; each one gets a state even before its first write. */
    private readonly groups: readonly string[],
  ) {}

  private ref(group: string) {
    return circuitsCollection(this.db).doc(group);
  }

  async load(): Promise<Map<string, CircuitState>> {
    const snap = await circuitsCollection(this.db).get();
    const states = new Map<string, CircuitState>(this.groups.map((group) => [group, { group, consecutiveFailures: 0, openUntil: null, lastError: null }]));
    for (const doc of snap.docs) {
      if (!states.has(doc.id)) continue;
      // A damaged document counts as a closed circuit rather than stopping every worker call.
      const parsed = circuitDocumentSchema.safeParse(doc.data());
      if (!parsed.success) {
        sideTaskFailed('reading a circuit', parsed.error, { group: doc.id });
        continue;
      }
      const stored = parsed.data;
      states.set(doc.id, { group: doc.id, consecutiveFailures: stored.consecutiveFailures, openUntil: stored.openUntil?.toDate() ?? null, lastError: stored.lastError });
    }
    return states;
  }

  /**
   * An increment and a fenced update instead of a transaction: failures arrive in bursts
   * from many workers at once, exactly when transactions on one document contend.
   */
  async recordFailure(group: string, error: string, policy: CircuitPolicy): Promise<boolean> {
    const ref = this.ref(group);
    await ref.set({ consecutiveFailures: FieldValue.increment(1), lastError: error, updatedAt: FieldValue.serverTimestamp() }, { merge: true });
    const snap = await ref.get();
    const stored = circuitDocumentSchema.parse(snap.data() ?? {});
    if (stored.consecutiveFailures < policy.failureThreshold || (stored.openUntil?.toMillis() ?? 0) > Date.now()) return false;
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
  async recordSuccess(group: string): Promise<void> {
    const ref = this.ref(group);
    const snap = await ref.get();
    if (!snap.exists) return;
    const stored = circuitDocumentSchema.parse(snap.data());
    const pausedUntil = stored.pausedBy === 'rate-limit' ? (stored.openUntil?.toMillis() ?? 0) : 0;
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

  /**
   * Pauses a group's jobs until a platform limit resets (LinkedIn's daily limit): the same
   * openUntil the circuit uses, so workers skip the group and /status shows the pause, but
   * no failure is counted. A pause never shortens one already in force (an open circuit's
   * cool-down or a longer limit), and one already as long is not written again: every
   * deferred job of the group asks, and the document must not become a hot spot.
   */
  async pause(group: string, until: Date, reason: string): Promise<void> {
    const ref = this.ref(group);
    await this.db.runTransaction(async (tx) => {
      const current = circuitDocumentSchema.parse((await tx.get(ref)).data() ?? {}).openUntil;
      if (current && current.toMillis() >= until.getTime()) return;
      tx.set(ref, { openUntil: Timestamp.fromDate(until), lastError: reason, pausedBy: 'rate-limit', updatedAt: FieldValue.serverTimestamp() }, { merge: true });
    });
  }
}

/** How stale a worker's view of the circuits may get: another worker may open one meanwhile. */
const CIRCUIT_REFRESH_MS = 15_000;

/**
 * One worker call's view of the circuits: which groups are paused (open), which are
 * half-open (cool-down over, failures not yet cleared: one trial job at a time), re-read
 * every 15 s so a circuit opened by another worker is honoured here too.
 */
export class CircuitView {
  private states = new Map<string, CircuitState>();
  private loadedAt = 0;
  /** Groups opened by this worker since the last load. */
  private readonly openedHere = new Set<string>();

  constructor(
    private readonly store: CircuitStore,
    private readonly policy: CircuitPolicy,
  ) {}

  async refresh(force = false): Promise<void> {
    if (!force && Date.now() - this.loadedAt < CIRCUIT_REFRESH_MS) return;
    this.states = await this.store.load();
    this.loadedAt = Date.now();
    this.openedHere.clear();
  }

  /** Open circuits: their jobs are not claimed. */
  paused(): Set<string> {
    const now = Date.now();
    return new Set([...this.states.values()].filter((c) => this.openedHere.has(c.group) || isOpen(c, now)).map((c) => c.group));
  }

  /** Cool-down over but not yet closed by a success: one job at a time tries the group. */
  halfOpen(): Set<string> {
    const paused = this.paused();
    return new Set(
      [...this.states.values()].filter((c) => !paused.has(c.group) && c.consecutiveFailures >= this.policy.failureThreshold).map((c) => c.group),
    );
  }

  async recordSuccess(group: string): Promise<void> {
    const state = this.states.get(group);
    if (!state || state.consecutiveFailures === 0) return;
    await this.store.recordSuccess(group);
    state.consecutiveFailures = 0;
    // A pause still in force may be a platform limit's, which a success does not lift.
    if (!isOpen(state)) state.openUntil = null;
  }

  /**
   * Pauses the group until a platform limit resets: its jobs are not claimed here from now
   * on. Every job that meets the limit asks for the same pause: the document is written
   * only when the pause known here ends earlier (one hot document, at most one write a
   * second).
   */
  async pause(group: string, until: Date, reason: string): Promise<void> {
    const state = this.states.get(group);
    this.openedHere.add(group);
    if (state && (state.openUntil?.getTime() ?? 0) >= until.getTime()) return;
    const before = state?.openUntil ?? null;
    if (state) state.openUntil = until;
    try {
      await this.store.pause(group, until, reason);
    } catch (error) {
      if (state && state.openUntil === until) state.openUntil = before;
      throw error;
    }
  }

  /** Returns true when this failure opened the circuit. */
  async recordFailure(group: string, error: string): Promise<boolean> {
    const opened = await this.store.recordFailure(group, error, this.policy);
    const state = this.states.get(group);
    if (state) state.consecutiveFailures++;
    if (opened) this.openedHere.add(group);
    return opened;
  }
}
