import { FieldValue, Timestamp, type DocumentReference, type Firestore, type WriteBatch } from 'firebase-admin/firestore';
import { isFenceConflict } from '../firestore/errors.js';
import { jobsCollection, lockRef } from './collections.js';
import { LeaseLostError } from './errors.js';
import type { JobPayload, Progress, QueueJob } from './job.js';
import { DEFAULT_RETENTION_DAYS, expiryAfter } from './retention.js';
import type { JobLease } from './store.js';

/**
 * A claimed job. Every write is fenced on the document's update time as this worker last
 * wrote it: if anyone else changed the job since (a stale reset, a cancel), the write is
 * refused with LeaseLostError and the newer state stands.
 *
 * Once the worker has decided the outcome (the handler returned, threw or timed out) it
 * closes the lease: a handler still running after that can no longer write, and the one
 * outcome the worker records (succeed, continue, retry or fail) is final. The outcome write
 * does not move the fence forward, so nothing written with this lease can land after it.
 */
export class FirestoreLease implements JobLease {
  private version: Timestamp;
  private storedAttempts: number;
  private closed = false;
  private finished = false;
  /** The last write asked for; the next one starts after it settles. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: Firestore,
    readonly job: QueueJob,
    version: Timestamp,
    private readonly leaseMs: number,
    /** How long the job is kept once finished (its `expireAt`). */
    private readonly retentionDays = DEFAULT_RETENTION_DAYS,
  ) {
    this.version = version;
    this.storedAttempts = job.attempts;
  }

  get attempts(): number {
    return this.storedAttempts;
  }

  get ref(): DocumentReference {
    return jobsCollection(this.db).doc(this.job.id);
  }

  /** The handler's part is over: its later progress or checkpoints are refused. */
  close(): void {
    this.closed = true;
  }

  /**
   * One write at a time, in the order asked: the outcome waits for a progress write still in
   * flight (a checkpoint when the timeout fired) and is fenced on the version that write
   * returned, instead of losing to it and leaving the job running.
   */
  private write(data: Record<string, unknown>, kind: 'progress' | 'outcome', releaseLock = false): Promise<void> {
    const next = this.queue.then(() => this.commit(data, kind, releaseLock));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async commit(data: Record<string, unknown>, kind: 'progress' | 'outcome', releaseLock: boolean): Promise<void> {
    if (this.finished || (kind === 'progress' && this.closed)) throw new LeaseLostError(this.job.id);
    const batch: WriteBatch = this.db.batch();
    batch.update(this.ref, { ...data, updatedAt: FieldValue.serverTimestamp() }, { lastUpdateTime: this.version });
    // The lock belongs to this job for as long as the job is active, so finishing the job
    // and freeing its (lane, user, provider) slot happen in one atomic commit.
    if (releaseLock) batch.delete(lockRef(this.db, this.job.dedupeKey));
    try {
      const [result] = await batch.commit();
      if (kind === 'outcome') this.finished = true;
      else if (result) this.version = result.writeTime;
    } catch (error) {
      if (isFenceConflict(error)) throw new LeaseLostError(this.job.id);
      throw error;
    }
  }

  private lease(): { workerId: string; expiresAt: Timestamp } {
    // The whole lease, never a dotted field: a document keeps its shape whatever happens.
    return { workerId: this.job.lease?.workerId ?? 'unknown', expiresAt: Timestamp.fromMillis(Date.now() + this.leaseMs) };
  }

  /**
   * Records progress and extends the lease, so long jobs are not mistaken for stale ones.
   * With `resumeFrom`, a retry after a timeout or a crash starts where this run got to;
   * progress made means the attempts start over (this run is the first of the rest), so a
   * long job that keeps advancing is never failed for its length.
   */
  async renew(progress: Progress, resumeFrom?: JobPayload): Promise<void> {
    if (!resumeFrom) return this.write({ progress, lease: this.lease() }, 'progress');
    await this.write({ progress, payload: resumeFrom, attempts: 1, deferrals: 0, lease: this.lease() }, 'progress');
    this.storedAttempts = 1;
  }

  async succeed(progress?: Progress): Promise<void> {
    await this.write(
      {
        status: 'succeeded',
        lease: null,
        lastError: null,
        finishedAt: FieldValue.serverTimestamp(),
        expireAt: expiryAfter(this.retentionDays),
        ...(progress ? { progress } : {}),
      },
      'outcome',
      true,
    );
  }

  /**
   * Runs the job again with a new payload, keeping its dedupe slot: at once (fan-out pages,
   * backfill chunks) or later (a report the platform is still preparing).
   */
  async continue(payload: JobPayload, runAfter: Date): Promise<void> {
    await this.write({ status: 'queued', lease: null, payload, attempts: 0, deferrals: 0, runAfter: Timestamp.fromDate(runAfter) }, 'outcome');
  }

  /**
   * Back to the queue with lastError kept. A deferral (a platform's limit) gives back the
   * attempt the claim took and counts itself; the worker stops deferring past its maxDeferrals.
   */
  async retry(lastError: string, runAfter: Date, options: { deferral?: boolean } = {}): Promise<void> {
    const deferral = options.deferral ? { attempts: FieldValue.increment(-1), deferrals: FieldValue.increment(1) } : {};
    await this.write({ status: 'queued', lease: null, lastError, ...deferral, runAfter: Timestamp.fromDate(runAfter) }, 'outcome');
  }

  async fail(lastError: string): Promise<void> {
    await this.write({ status: 'failed', lease: null, lastError, finishedAt: FieldValue.serverTimestamp(), expireAt: expiryAfter(this.retentionDays) }, 'outcome', true);
  }
}
