import type { DocumentSnapshot, Firestore } from 'firebase-admin/firestore';
import { jobDocumentSchema, type Job } from '../schema/index.js';

export const JOBS_COLLECTION = 'syncJobs';
/** One document per active (lane, user, provider): its existence is the dedupe. */
export const LOCKS_COLLECTION = 'syncJobLocks';

export const jobsCollection = (db: Firestore) => db.collection(JOBS_COLLECTION);
export const lockRef = (db: Firestore, dedupeKey: string) => db.collection(LOCKS_COLLECTION).doc(dedupeKey);

export function jobFromSnapshot(snap: DocumentSnapshot): Job {
  return { id: snap.id, ...jobDocumentSchema.parse(snap.data()) };
}

/** gRPC status codes the Admin SDK reports on `error.code`. */
export const GRPC = { ALREADY_EXISTS: 6, FAILED_PRECONDITION: 9, ABORTED: 10, NOT_FOUND: 5 } as const;

export function hasCode(error: unknown, code: number): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
