import { Timestamp, type Firestore } from 'firebase-admin/firestore';
import { expiryAfter } from '../queue/index.js';
import { EVENTS_COLLECTION_PATH, type EventCounts, type EventSource, type SchedulerEvent } from '../schema/index.js';

export const eventsCollection = (db: Firestore) => db.collection(EVENTS_COLLECTION_PATH);

export interface RunRecord {
  source: EventSource;
  operation: string;
  counts: EventCounts;
  durationMs: number;
  error?: string | null;
  circuitsOpened?: string[];
  workerId?: string | null;
  /** Kept this long (its `expireAt`). Default 7 days. */
  retentionDays?: number;
}

/** One document per cron/worker/schedule/process call, written once at the end of it. */
export async function recordEvent(db: Firestore, run: RunRecord): Promise<string> {
  const at = Timestamp.now();
  const event: SchedulerEvent = {
    source: run.source,
    operation: run.operation,
    counts: run.counts,
    durationMs: run.durationMs,
    at,
    error: run.error ?? null,
    circuitsOpened: run.circuitsOpened ?? [],
    workerId: run.workerId ?? null,
    expireAt: expiryAfter(run.retentionDays, at.toMillis()),
  };
  const ref = await eventsCollection(db).add(event);
  return ref.id;
}
