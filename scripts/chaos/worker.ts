/**
 * One worker instance of the chaos soak, in its own process (the soak SIGKILLs some): the
 * production context from environment variables (CHAOS_PROJECT, FIRESTORE_EMULATOR_HOST and
 * the functions' settings), running worker calls one after another, as a function instance
 * serves the scheduler's overlapping calls, until the parent says stop.
 *
 * Every platform request of a job carries `x-sandbox-run: <userId>/<providerId> <run>`, so
 * the sandbox can tell two runs of one integration apart and count overlaps. The parent
 * hears when each job starts and ends, to kill instances that are busy.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { initializeApp } from 'firebase-admin/app';
import { getFirestore } from 'firebase-admin/firestore';
import { loadConfig } from '../../functions/src/config/index.js';
import { createAppContext } from '../../functions/src/context.js';
import type { HandlerRegistry, JobContext } from '../../functions/src/queue/index.js';
import { runWorkerCall } from '../../functions/src/scheduler/operations.js';

export type WorkerMessage = { type: 'job-start' | 'job-end'; jobId: string } | { type: 'call'; processed: number };

const project = process.env.CHAOS_PROJECT;
if (!project) throw new Error('CHAOS_PROJECT is not set');
const db = getFirestore(initializeApp({ projectId: project }));
const base = createAppContext({ db, config: loadConfig(process.env) });
const send = (message: WorkerMessage) => process.send?.(message);

const runTag = new AsyncLocalStorage<string>();
const platformFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
  const tag = runTag.getStore();
  if (!tag) return platformFetch(input, init);
  const headers = new Headers(init?.headers);
  headers.set('x-sandbox-run', tag);
  return platformFetch(input, { ...init, headers });
};

const handlers: HandlerRegistry = Object.fromEntries(
  Object.entries(base.handlers).map(([type, handler]) => [
    type,
    async (context: JobContext) => {
      const { job } = context;
      send({ type: 'job-start', jobId: job.id });
      try {
        return await runTag.run(`${job.userId}/${job.providerId ?? 'none'} ${process.pid}:${job.id}:${job.attempts}`, () => handler!(context));
      } finally {
        send({ type: 'job-end', jobId: job.id });
      }
    },
  ]),
);
const ctx = { ...base, handlers };

let stopping = false;
process.on('message', (message) => {
  if (message === 'stop') stopping = true;
});
process.on('disconnect', () => {
  stopping = true;
});

while (!stopping) {
  const report = await runWorkerCall(ctx, { maxJobs: 1000 }, 'worker');
  send({ type: 'call', processed: report.counts.processed });
  // An idle instance waits for the scheduler's next call.
  if (report.counts.processed === 0) await sleep(Number(process.env.CHAOS_IDLE_MS ?? 300));
}
process.exit(0);
