import { Timestamp, type DocumentSnapshot, type Firestore, type WriteBatch } from 'firebase-admin/firestore';
import { GRPC, hasCode } from '../firestore/errors.js';
import { jobsCollection, lockRef } from './collections.js';
import type { QueueJobDocument } from './job.js';
import { releaseIfOrphaned } from './locks.js';
import type { EnqueueResult, NewJob, TaskRegistry } from './store.js';

/** A new job as the Firestore store takes it: `alsoWrite` adds writes to the job's own commit. */
export interface FirestoreNewJob extends NewJob {
  /** Extra writes committed atomically with the new job (not applied to a duplicate). */
  alsoWrite?: (batch: WriteBatch) => void;
}

function taskOf(tasks: TaskRegistry, jobType: string): { lane: string; priority: number } {
  const task = tasks[jobType];
  if (!task) throw new Error(`no task "${jobType}" is registered with the queue`);
  return task;
}

export function dedupeKeyOf(tasks: TaskRegistry, job: Pick<NewJob, 'jobType' | 'userId' | 'providerId' | 'dedupeKey'>): string {
  return job.dedupeKey ?? `${taskOf(tasks, job.jobType).lane}:${job.userId}:${job.providerId ?? 'all'}`;
}

export function newJobDocument(tasks: TaskRegistry, req: NewJob, defaultMaxAttempts: number, now = Timestamp.now()): QueueJobDocument {
  const task = taskOf(tasks, req.jobType);
  return {
    userId: req.userId,
    providerId: req.providerId,
    jobType: req.jobType,
    lane: task.lane,
    dedupeKey: dedupeKeyOf(tasks, req),
    status: 'queued',
    priority: req.priority ?? task.priority,
    runAfter: req.runAfter ? Timestamp.fromDate(req.runAfter) : now,
    attempts: 0,
    maxAttempts: req.maxAttempts ?? defaultMaxAttempts,
    deferrals: 0,
    lease: null,
    window: req.window ?? null,
    progress: null,
    payload: req.payload ?? {},
    lastError: null,
    createdAt: now,
    startedAt: null,
    finishedAt: null,
    expireAt: null,
    updatedAt: now,
  };
}

/**
 * Adds a job unless its (lane, user, group) already has an active one. The lock
 * document and the job are created in one atomic batch; `create()` fails if the lock
 * exists, so concurrent enqueues race on a precondition, not on transaction locks
 * (which the emulator holds for up to 30 s).
 */
export async function enqueueJob(db: Firestore, tasks: TaskRegistry, req: FirestoreNewJob, defaultMaxAttempts = 3): Promise<EnqueueResult> {
  const key = dedupeKeyOf(tasks, req);
  const lock = lockRef(db, key);
  // A lock seen during a race may be released before we read it: try again, a few times.
  for (let round = 0; round < 5; round++) {
    const jobRef = jobsCollection(db).doc();
    const doc = newJobDocument(tasks, req, defaultMaxAttempts);
    const batch = db.batch();
    batch.create(lock, { jobId: jobRef.id, createdAt: doc.createdAt });
    batch.create(jobRef, doc);
    req.alsoWrite?.(batch);
    try {
      await batch.commit();
      return { jobId: jobRef.id, duplicate: false, priorityRaised: false };
    } catch (error) {
      if (!hasCode(error, GRPC.ALREADY_EXISTS)) throw error;
    }
    const held = await lock.get();
    const existingId = held.get('jobId') as string | undefined;
    if (!held.exists) continue;
    const existing = existingId ? await jobsCollection(db).doc(existingId).get() : undefined;
    // A lock whose job is gone or finished is freed, and the enqueue tries again.
    if (await releaseIfOrphaned(db, held, existing)) continue;
    if (!existing?.exists) continue;
    const priorityRaised = await moveUp(existing, req);
    return { jobId: existing.id, duplicate: true, priorityRaised };
  }
  throw new Error(`enqueue of ${key} kept racing with jobs finishing; try again`);
}

/** A person asking for a sync while a nightly one (or a retry) waits: move the waiting job up. */
async function moveUp(snap: DocumentSnapshot, req: NewJob): Promise<boolean> {
  if (snap.get('status') !== 'queued') return false;
  const now = Timestamp.now();
  const update: Record<string, unknown> = {};
  if (req.priority !== undefined && (snap.get('priority') as number) < req.priority) update.priority = req.priority;
  if (req.bringForward && (snap.get('runAfter') as Timestamp).toMillis() > now.toMillis()) update.runAfter = now;
  if (Object.keys(update).length === 0) return false;
  try {
    await snap.ref.update({ ...update, updatedAt: now }, { lastUpdateTime: snap.updateTime! });
    return true;
  } catch (error) {
    if (hasCode(error, GRPC.FAILED_PRECONDITION)) return false;
    throw error;
  }
}
