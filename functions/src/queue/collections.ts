import type { DocumentSnapshot, Firestore } from 'firebase-admin/firestore';
import { queueJobDocumentSchema, type QueueJob } from './job.js';

export const JOBS_COLLECTION = 'syncJobs';
/** One document per active (lane, user, group): its existence is the dedupe. */
export const LOCKS_COLLECTION = 'syncJobLocks';

export const jobsCollection = (db: Firestore) => db.collection(JOBS_COLLECTION);
export const lockRef = (db: Firestore, dedupeKey: string) => db.collection(LOCKS_COLLECTION).doc(dedupeKey);

export function jobFromSnapshot(snap: DocumentSnapshot): QueueJob {
  return { id: snap.id, ...queueJobDocumentSchema.parse(snap.data()) };
}
