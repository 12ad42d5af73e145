import { Timestamp } from 'firebase-admin/firestore';

/** JOB_RETENTION_DAYS' default. */
export const DEFAULT_RETENTION_DAYS = 7;

/**
 * When a finished job (or an event, or an alert's state) may go. Firestore's TTL policy on
 * `expireAt` deletes it within about a day after that moment (docs/operations.md); until
 * then cleanup_old_jobs is the backstop. Active documents carry `expireAt: null`, which TTL
 * ignores.
 */
export function expiryAfter(retentionDays: number = DEFAULT_RETENTION_DAYS, now = Date.now()): Timestamp {
  return Timestamp.fromMillis(now + retentionDays * 86_400_000);
}
