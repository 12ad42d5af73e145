import { Timestamp, type Firestore } from 'firebase-admin/firestore';
import type { EventCounts, EventSource, SchedulerEvent } from '../schema/index.js';

export const EVENTS_COLLECTION_PATH = 'admin/scheduler/events';
export const eventsCollection = (db: Firestore) => db.collection(EVENTS_COLLECTION_PATH);

export interface RunRecord {
  source: EventSource;
  operation: string;
  counts: EventCounts;
  durationMs: number;
  error?: string | null;
  circuitsOpened?: string[];
  workerId?: string | null;
}

/** One document per cron/worker/schedule/process call, written once at the end of it. */
export async function recordEvent(db: Firestore, run: RunRecord): Promise<string> {
  const event: SchedulerEvent = {
    source: run.source,
    operation: run.operation,
    counts: run.counts,
    durationMs: run.durationMs,
    at: Timestamp.now(),
    error: run.error ?? null,
    circuitsOpened: run.circuitsOpened ?? [],
    workerId: run.workerId ?? null,
  };
  const ref = await eventsCollection(db).add(event);
  return ref.id;
}
