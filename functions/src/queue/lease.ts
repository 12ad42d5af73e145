import { FieldValue, Timestamp, type DocumentReference, type Firestore, type WriteBatch } from 'firebase-admin/firestore';
import type { Job, JobPayload, Progress } from '../schema/index.js';
import { backoffDelayMs, type RetryPolicy } from './backoff.js';
import { GRPC, hasCode, jobsCollection, lockRef } from './collections.js';
import { LeaseLostError, PermanentJobError, RateLimitJobError, RetryableJobError, errorMessage } from './errors.js';
import { DEFAULT_RETENTION_DAYS, expiryAfter } from './retention.js';

export type FailureOutcome = 'retried' | 'failed' | 'deferred';

/**
 * A claimed job. Every write is fenced on the document's update time as this worker last
 * wrote it: if anyone else changed the job since (a stale reset, a cancel), the write is
 * refused with LeaseLostError and the newer state stands.
 *
 * Once the worker has decided the outcome (the handler returned, threw or timed out) it
 * closes the lease: a handler still running after that can no longer write, and the one
 * outcome the worker records (succeed, continueWith or fail) is final. The outcome write
 * does not move the fence forward, so nothing written with this lease can land after it.
 */
export class JobLease {
  private version: Timestamp;
  private attempts: number;
  private closed = false;
  private finished = false;
  /** The last write asked for; the next one starts after it settles. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: Firestore,
    readonly job: Job,
    version: Timestamp,
    private readonly leaseMs: number,
    /** How long the job is kept once finished (its `expireAt`). */
    private readonly retentionDays = DEFAULT_RETENTION_DAYS,
  ) {
    this.version = version;
    this.attempts = job.attempts;
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
      if (hasCode(error, GRPC.FAILED_PRECONDITION) || hasCode(error, GRPC.NOT_FOUND)) throw new LeaseLostError(this.job.id);
      throw error;
    }
  }

  private lease(): { workerId: string; expiresAt: Timestamp } {
    // The whole lease, never a dotted field: a document keeps its shape whatever happens.
    return { workerId: this.job.lease?.workerId ?? 'unknown', expiresAt: Timestamp.fromMillis(Date.now() + this.leaseMs) };
  }

  /** Records progress and extends the lease, so long jobs are not mistaken for stale ones. */
  async reportProgress(progress: Progress): Promise<void> {
    await this.write({ progress, lease: this.lease() }, 'progress');
  }

  /**
   * Progress plus the payload to resume from: a retry after a timeout or a crash starts
   * where this run got to. Progress made means the attempts start over (this run is the
   * first of the rest), so a long job that keeps advancing is never failed for its length.
   */
  async checkpoint(progress: Progress, payload: JobPayload): Promise<void> {
    await this.write({ progress, payload, attempts: 1, deferrals: 0, lease: this.lease() }, 'progress');
    this.attempts = 1;
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
   * backfill chunks) or after a delay (a report the platform is still preparing).
   */
  async continueWith(payload: JobPayload, delayMs = 0): Promise<void> {
    await this.write({ status: 'queued', lease: null, payload, attempts: 0, deferrals: 0, runAfter: Timestamp.fromMillis(Date.now() + delayMs) }, 'outcome');
  }

  /**
   * Back to the queue until a platform's limit resets, giving back the attempt the claim
   * took and counting the deferral (the worker stops deferring past its maxDeferrals).
   */
  async defer(error: RateLimitJobError): Promise<'deferred'> {
    await this.write(
      {
        status: 'queued',
        lease: null,
        lastError: errorMessage(error),
        attempts: FieldValue.increment(-1),
        deferrals: FieldValue.increment(1),
        runAfter: Timestamp.fromDate(error.resumeAt),
      },
      'outcome',
    );
    return 'deferred';
  }

  /**
   * Retries with backoff, or fails the job for good when it is out of attempts or the
   * error is permanent. lastError is kept either way.
   */
  async fail(error: unknown, retry: RetryPolicy): Promise<FailureOutcome> {
    const message = errorMessage(error);
    const permanent = error instanceof PermanentJobError;
    if (permanent || this.attempts >= this.job.maxAttempts) {
      await this.write({ status: 'failed', lease: null, lastError: message, finishedAt: FieldValue.serverTimestamp(), expireAt: expiryAfter(this.retentionDays) }, 'outcome', true);
      return 'failed';
    }
    const delay = Math.max(
      backoffDelayMs(this.attempts, retry),
      error instanceof RetryableJobError ? (error.retryAfterMs ?? 0) : 0,
      // A rate limit no longer deferred still waits for its reset.
      error instanceof RateLimitJobError ? error.resumeAt.getTime() - Date.now() : 0,
    );
    await this.write({ status: 'queued', lease: null, lastError: message, runAfter: Timestamp.fromMillis(Date.now() + delay) }, 'outcome');
    return 'retried';
  }
}
