/**
 * Where alerts keep their settings and state. Settings: admin/alertSettings, written only
 * through the admin endpoint. States: admin/alerts/alertStates/{key}, one document per key,
 * changed only with preconditions (create, or update fenced on the update time read), so
 * runs that evaluate the same key at once never overwrite each other.
 */
import { Timestamp, type DocumentReference, type DocumentSnapshot, type Firestore } from 'firebase-admin/firestore';
import { GRPC, hasCode } from '../firestore/errors.js';
import { ALERT_SETTINGS_PATH, ALERT_STATES_PATH, alertSettingsBodySchema, alertStateSchema, type AlertSettingsBody } from '../schema/index.js';
import type { AlertState } from './state.js';

export const alertStatesCollection = (db: Firestore) => db.collection(ALERT_STATES_PATH);

/** The admins' overrides; the defaults (no overrides) when none were saved or the document does not parse. */
export async function loadAlertSettings(db: Firestore): Promise<AlertSettingsBody> {
  const snap = await db.doc(ALERT_SETTINGS_PATH).get();
  const parsed = alertSettingsBodySchema.safeParse(snap.exists ? stripMeta(snap.data() ?? {}) : {});
  return parsed.success ? parsed.data : alertSettingsBodySchema.parse({});
}

const stripMeta = ({ updatedAt: _updatedAt, updatedBy: _updatedBy, ...rest }: Record<string, unknown>) => rest;

export async function saveAlertSettings(db: Firestore, settings: AlertSettingsBody, updatedBy: string): Promise<void> {
  await db.doc(ALERT_SETTINGS_PATH).set({ ...settings, updatedAt: Timestamp.now(), updatedBy });
}

export interface StoredState {
  state: AlertState;
  /** The update time read: every write of this state is fenced on it. */
  version: Timestamp;
}

function fromSnapshot(snap: DocumentSnapshot): StoredState | null {
  if (!snap.exists) return null;
  const parsed = alertStateSchema.safeParse(snap.data());
  // A state that does not parse (written by an older version) starts over.
  if (!parsed.success) return null;
  const { expireAt, ...rest } = parsed.data;
  return { state: { ...rest, expireAt: expireAt ? expireAt.toMillis() : null }, version: snap.updateTime! };
}

function toDocument(state: AlertState): Record<string, unknown> {
  return { ...state, expireAt: state.expireAt === null ? null : Timestamp.fromMillis(state.expireAt) };
}

/** States with an active condition or messages waiting: the ones a run may resolve or deliver. */
export async function readOpenStates(db: Firestore): Promise<Map<string, StoredState>> {
  const snap = await alertStatesCollection(db).where('open', '==', true).get();
  const states = new Map<string, StoredState>();
  for (const doc of snap.docs) {
    const stored = fromSnapshot(doc);
    if (stored) states.set(doc.id, stored);
  }
  return states;
}

/** States by key (absent ones left out): one round trip. */
export async function readStates(db: Firestore, keys: readonly string[]): Promise<Map<string, StoredState>> {
  if (keys.length === 0) return new Map();
  const snaps = await db.getAll(...keys.map((key) => alertStatesCollection(db).doc(key)));
  const states = new Map<string, StoredState>();
  for (const snap of snaps) {
    const stored = fromSnapshot(snap);
    if (stored) states.set(snap.id, stored);
  }
  return states;
}

export interface StateWrite {
  key: string;
  /** The version read; null when the state did not exist. */
  version: Timestamp | null;
  state: AlertState;
}

/**
 * Writes the states in one atomic commit, each fenced on the version read. False when
 * another run changed one of them meanwhile: nothing was written, read again and retry.
 */
export async function commitStates(db: Firestore, writes: readonly StateWrite[]): Promise<boolean> {
  if (writes.length === 0) return true;
  const batch = db.batch();
  for (const write of writes) {
    const ref = alertStatesCollection(db).doc(write.key);
    if (write.version) batch.update(ref, toDocument(write.state), { lastUpdateTime: write.version });
    else batch.create(ref, toDocument(write.state));
  }
  try {
    await batch.commit();
    return true;
  } catch (error) {
    if (hasCode(error, GRPC.FAILED_PRECONDITION) || hasCode(error, GRPC.ALREADY_EXISTS) || hasCode(error, GRPC.NOT_FOUND)) return false;
    throw error;
  }
}

/**
 * Changes one state with `change` applied to what is stored now, fenced on the update time
 * read; read and applied again when another run wrote meanwhile. The change must be safe to
 * apply to any newer state (recording a delivery is).
 */
export async function updateState(db: Firestore, key: string, change: (state: AlertState) => AlertState, rounds = 5): Promise<boolean> {
  const ref: DocumentReference = alertStatesCollection(db).doc(key);
  for (let round = 0; round < rounds; round++) {
    const stored = fromSnapshot(await ref.get());
    if (!stored) return false;
    if (await commitStates(db, [{ key, version: stored.version, state: change(stored.state) }])) return true;
  }
  return false;
}
