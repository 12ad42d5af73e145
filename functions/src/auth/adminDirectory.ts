import type { Firestore } from 'firebase-admin/firestore';
import { ADMIN_ACCESS_PATH } from '../schema/index.js';

/**
 * ADMIN_EMAILS as firestore.rules can read it: `admin/access {emails}`. Rules cannot read
 * the functions' configuration, so the list is mirrored into this document, which only the
 * server writes. Checked once per instance (a read), written only when it differs.
 */
export const adminAccessRef = (db: Firestore) => db.doc(ADMIN_ACCESS_PATH);

const mirrored = new WeakMap<Firestore, Promise<void>>();

export function mirrorAdminEmails(db: Firestore, emails: readonly string[]): Promise<void> {
  const pending = mirrored.get(db);
  if (pending) return pending;
  const wanted = [...emails].map((e) => e.toLowerCase()).sort();
  const run = (async () => {
    const snap = await adminAccessRef(db).get();
    const current = (snap.get('emails') as string[] | undefined) ?? null;
    if (current && current.length === wanted.length && current.every((e, i) => e === wanted[i])) return;
    await adminAccessRef(db).set({ emails: wanted });
  })();
  // A failed attempt is tried again on the next call rather than remembered.
  mirrored.set(db, run.catch((error: unknown) => {
    mirrored.delete(db);
    throw error;
  }));
  return mirrored.get(db)!;
}
