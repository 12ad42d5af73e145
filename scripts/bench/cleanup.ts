/**
 * cleanup_old_jobs' throughput on the Firestore emulator: finished jobs and events past the
 * retention, deleted by the same function the cron operation calls, with its default page
 * size, BulkWriter and 90 s budget. The figure says how much one call can delete, and so
 * how often it must run to keep up with 10,000 users' job volume where no TTL policy does it.
 */
import { initializeApp } from 'firebase-admin/app';
import { Timestamp, getFirestore } from 'firebase-admin/firestore';
import { cleanupOldJobs, jobsCollection } from '../../functions/src/queue/index.js';
import { EVENTS_COLLECTION_PATH, JOB_TASKS, PROVIDER_IDS, emptyCounts } from '../../functions/src/schema/index.js';
import { newJobDocument } from '../../functions/src/queue/enqueue.js';
import { clearEmulatorProject } from '../emulatorData.js';

process.env.FIRESTORE_EMULATOR_HOST ??= '127.0.0.1:8080';
const PROJECT = `demo-bench-cleanup-${Date.now()}`;
const db = getFirestore(initializeApp({ projectId: PROJECT }, 'cleanup-bench'));

async function seed(jobs: number, events: number): Promise<void> {
  const writer = db.bulkWriter();
  writer.onWriteError(() => true);
  const longAgo = Timestamp.fromMillis(Date.now() - 10 * 86_400_000);
  for (let i = 0; i < jobs; i++) {
    const doc = newJobDocument(JOB_TASKS, { userId: `u${i % 10_000}`, providerId: PROVIDER_IDS[i % 4]!, jobType: 'scheduled-sync' }, 3, longAgo);
    void writer.create(jobsCollection(db).doc(), { ...doc, status: i % 20 === 0 ? 'failed' : 'succeeded', attempts: 1, startedAt: longAgo, finishedAt: longAgo });
  }
  for (let i = 0; i < events; i++) {
    void writer.create(db.collection(EVENTS_COLLECTION_PATH).doc(), { source: 'worker', operation: 'run_jobs', counts: emptyCounts(), durationMs: 1, at: longAgo, error: null, circuitsOpened: [], workerId: null });
  }
  await writer.close();
}

/**
 * Jobs a day for 10,000 users, by cadence: two integrations each (the demo's and the
 * default automation's average), plus the fan-out's pages and one event per scheduler call
 * (the worker every minute, process_all_users and cleanup_old_jobs hourly, reset_stale_jobs every
 * 10 minutes).
 */
const USERS = 10_000;
const INTEGRATIONS_PER_USER = 2;
const EVENTS_PER_DAY = 1_440 + 24 + 24 + 144;
const volume = (syncsPerDay: number) => USERS * INTEGRATIONS_PER_USER * syncsPerDay + Math.ceil(USERS / 500) * syncsPerDay + EVENTS_PER_DAY;

export async function runCleanupBenchmarks(): Promise<string[][]> {
  const rows: string[][] = [];
  const jobs = 30_000;
  const events = 2_000;
  await seed(jobs, events);
  const started = performance.now();
  const result = await cleanupOldJobs(db, { retentionDays: 7, eventsCollectionPath: EVENTS_COLLECTION_PATH, budgetMs: 90_000 });
  const seconds = (performance.now() - started) / 1000;
  const deleted = result.jobs + result.events;
  const perSecond = deleted / seconds;
  const perCall = Math.floor(perSecond * 90);
  const daily = volume(1);
  const hourly = volume(24);
  console.log(`cleanup: ${deleted} documents in ${seconds.toFixed(1)} s (${perSecond.toFixed(0)}/s), complete: ${result.complete}`);
  rows.push([
    `cleanup_old_jobs, ${jobs.toLocaleString('en-US')} finished jobs + ${events.toLocaleString('en-US')} events past the retention, one call`,
    `${deleted.toLocaleString('en-US')} deleted in ${seconds.toFixed(1)} s: ${perSecond.toFixed(0)} documents/s, complete ${result.complete}`,
    'n/a',
    `one call (90 s budget) deletes a day of 10,000 users on the daily cadence: ${daily.toLocaleString('en-US')}`,
    perCall >= daily ? `met: ${perCall.toLocaleString('en-US')} per call` : `missed: ${perCall.toLocaleString('en-US')} per call`,
  ]);
  rows.push([
    'cleanup_old_jobs hourly, 10,000 users all on the hourly cadence',
    `${(perCall * 24).toLocaleString('en-US')} documents a day (24 calls)`,
    'n/a',
    `${hourly.toLocaleString('en-US')} a day`,
    perCall * 24 >= hourly ? 'met' : 'missed',
  ]);
  await clearEmulatorProject(PROJECT);
  return rows;
}
