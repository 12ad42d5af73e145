// The queue's public API. Internals (claim queries, the lease's fencing, document builders)
// stay behind FirestoreJobStore; tests of those import their modules directly.
export type { ClaimOptions, EnqueueResult, JobLease, JobStore, NewJob, QueueBackend, TaskRegistry } from './store.js';
export { FirestoreJobStore, firestoreQueue, type FirestoreQueueSetting } from './firestoreStore.js';
export type { FirestoreNewJob } from './enqueue.js';
export { runWorker, type JobResult, type WorkerCounts, type WorkerOptions, type WorkerReport } from './worker.js';
export type { HandlerRegistry, JobContext, JobHandler, JobOutcome } from './handlers.js';
export { JobTimeoutError, LeaseLostError, PermanentJobError, RateLimitJobError, RetryableJobError, errorMessage } from './errors.js';
export { backoffBoundsMs, backoffDelayMs, type RetryPolicy } from './backoff.js';
export { FirestoreCircuitStore, circuitsCollection, isOpen, type CircuitPolicy, type CircuitState, type CircuitStore } from './circuit.js';
export { ACTIVE_STATUSES, FINISHED_STATUSES, JOB_STATUSES, queueJobDocumentSchema, type JobPayload, type JobStatus, type Progress, type QueueJob } from './job.js';
/** Where the queue keeps its documents, for readers (status, alerts, the admin view). */
export { JOBS_COLLECTION, LOCKS_COLLECTION, jobFromSnapshot, jobsCollection, lockRef } from './collections.js';
export { retryJob } from './retryJob.js';
export { resetStaleJobs, type ResetStaleResult } from './resetStale.js';
export { releaseOrphanedLocks } from './locks.js';
export { cleanupOldJobs, deleteAll, type CleanupOptions, type CleanupResult } from './cleanup.js';
export { DEFAULT_RETENTION_DAYS, expiryAfter } from './retention.js';
