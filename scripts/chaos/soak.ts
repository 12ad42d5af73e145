/**
 * The chaos soak: the real system (endpoints, fan-out, worker processes, connectors) on the
 * Firestore emulator and the provider sandbox while many faults happen at once, then the
 * promises checked as invariants. Used by `test/chaos/soak.test.ts` (about 50 users) and
 * `npm run bench` (1,000 users).
 *
 * Faults: 5 % of platform calls answer 5xx, bursts of 429, one platform down for the first
 * part of the run, 2 % of tokens revoked, worker processes SIGKILLed while they run jobs,
 * reset_stale_jobs running alongside the workers, process_all_users delivered twice at once
 * and once more later. Some tokens are near expiry, so refreshes happen under the faults.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { deleteApp, initializeApp } from 'firebase-admin/app';
import { Timestamp, getFirestore, type Firestore } from 'firebase-admin/firestore';
import { loadConfig } from '../../functions/src/config/index.js';
import { createAppContext } from '../../functions/src/context.js';
import { createEndpoints } from '../../functions/src/http/endpoints.js';
import { createConnectors } from '../../functions/src/providers/index.js';
import { LOCKS_COLLECTION, jobsCollection, runWorker } from '../../functions/src/queue/index.js';
import {
  METRIC_MONTHS_COLLECTION,
  METRIC_TOTALS_COLLECTION,
  PROVIDER_IDS,
  integrationDocument,
  metricMonthSchema,
  metricRowId,
  metricTotalsSchema,
  rowsOfMonth,
  type ProviderId,
} from '../../functions/src/schema/index.js';
import { createSyncHandlers } from '../../functions/src/sync/handler.js';
import { credentialsRef, integrationRef } from '../../functions/src/sync/store.js';
import { startSandbox, type Sandbox } from '../sandbox/server.js';
import type { WorkerMessage } from './worker.js';
import { adsQueue, enqueueJob } from '../../functions/src/scheduler/jobs.js';
import { clearEmulatorProject } from '../emulatorData.js';

export interface SoakOptions {
  users: number;
  /** Worker processes SIGKILLed while running jobs. */
  kills: number;
  /** Worker processes alive at once (overlapping worker calls). */
  workers: number;
  /** The platform that is down at first, and for how long. */
  down: { provider: ProviderId; forMs: number };
  /** Latency of every platform call. */
  latencyMs: number;
  /** Days each sync re-fetches (keeps the metric volume of a large soak manageable). */
  lookbackDays: number;
  /** The functions' settings for the soak (short timeouts, so killed jobs come back quickly). */
  env: Record<string, string>;
  /** Give up (and report) after this long. */
  timeoutMs: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface SoakFigures {
  integrations: number;
  healthy: number;
  revoked: number;
  durationMs: number;
  /** From the first scheduler call until 99.9 % of healthy integrations had a fresh successful sync. */
  freshMs: number | null;
  apiCalls: number;
  apiCallsPerSync: number;
  /** Attempts beyond the first, over all sync jobs, and the most one job needed. */
  retries: number;
  maxAttempts: number;
  /** Jobs reset_stale_jobs took back. */
  resets: number;
  kills: number;
  workersStarted: number;
  rateLimited: number;
  serverErrors: number;
}

export interface SoakResult {
  figures: SoakFigures;
  /** Every broken promise, in words; empty when the system kept them all. */
  violations: string[];
}

const CRON_KEY = 'chaos-cron-key-0123456789abcdefghijklmnop';
const ROOT = join(fileURLToPath(import.meta.url), '../../..');
const WORKER_SCRIPT = join(ROOT, 'scripts/chaos/worker.ts');

const ACCOUNT: Record<ProviderId, (n: number) => string> = {
  meta: (n) => `act_${3_000_000 + n}`,
  google: (n) => String(3_000_000_000 + n),
  linkedin: (n) => `urn:li:sponsoredAccount:${700_000 + n}`,
  tiktok: (n) => `72000000000${String(n).padStart(8, '0')}`,
};

interface Integration {
  userId: string;
  providerId: ProviderId;
  account: string;
  revoked: boolean;
  /** Near expiry: the first call refreshes it. */
  expiring: boolean;
}

function plan(users: number): Integration[] {
  const list: Integration[] = [];
  for (let u = 0; u < users; u++) {
    PROVIDER_IDS.forEach((providerId, p) => {
      const n = u * PROVIDER_IDS.length + p;
      list.push({
        userId: `chaos-${String(u).padStart(5, '0')}`,
        providerId,
        account: ACCOUNT[providerId](u),
        // 2 % revoked, spread over the platforms; 10 % of refreshable tokens near expiry.
        revoked: n % 50 === 17,
        expiring: providerId !== 'meta' && n % 10 === 3,
      });
    });
  }
  return list;
}

const subject = (i: Pick<Integration, 'userId' | 'providerId'>) => `${i.userId}/${i.providerId}`;

async function seed(db: Firestore, sandbox: Sandbox, integrations: Integration[], lookbackDays: number, revoke: boolean): Promise<void> {
  const writer = db.bulkWriter();
  const due = Timestamp.fromMillis(Date.now() - 60_000);
  for (const i of integrations) {
    void writer.set(
      integrationRef(db, i.userId, i.providerId),
      integrationDocument({
        userId: i.userId,
        providerId: i.providerId,
        accountId: i.account,
        // Weekly: the late duplicate delivery must find nothing newly due, even across an hour.
        automation: { enabled: true, cadence: 'weekly', lookbackDays },
        nextRunAt: due,
      }),
    );
    const issued = sandbox.issueCredentials(i.providerId, i.expiring ? 120 : 3_600);
    const credentials = { accessToken: issued.accessToken, refreshToken: i.providerId === 'meta' ? null : issued.refreshToken, expiresAt: issued.expiresAt };
    if (revoke && i.revoked) sandbox.revokeCredentials(credentials);
    void writer.set(credentialsRef(db, i.userId, i.providerId), credentials);
  }
  await writer.close();
}

function platformEnv(sandbox: Sandbox): Record<string, string> {
  const u = sandbox.baseUrls;
  return {
    META_API_BASE_URL: u.meta.apiBaseUrl,
    GOOGLE_ADS_API_BASE_URL: u.google.apiBaseUrl,
    GOOGLE_OAUTH_BASE_URL: u.google.oauthBaseUrl,
    LINKEDIN_API_BASE_URL: u.linkedin.apiBaseUrl,
    LINKEDIN_OAUTH_BASE_URL: u.linkedin.oauthBaseUrl,
    TIKTOK_API_BASE_URL: u.tiktok.apiBaseUrl,
    GOOGLE_ADS_DEVELOPER_TOKEN: 'chaos', GOOGLE_OAUTH_CLIENT_ID: 'chaos', GOOGLE_OAUTH_CLIENT_SECRET: 'chaos',
    LINKEDIN_CLIENT_ID: 'chaos', LINKEDIN_CLIENT_SECRET: 'chaos',
    TIKTOK_APP_ID: 'chaos', TIKTOK_APP_SECRET: 'chaos',
  };
}

/** The scheduler's side: the real endpoint handlers over HTTP. */
async function serveCron(db: Firestore, env: Record<string, string>) {
  const ctx = createAppContext({ db, config: loadConfig(env), handlers: {} });
  const endpoints = createEndpoints(() => ctx);
  const server = createServer((req, res) => void endpoints.cron(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const cron = async (body: Record<string, unknown>) => {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-cron-key': CRON_KEY }, body: JSON.stringify(body) });
    const json = (await response.json()) as Record<string, unknown>;
    if (response.status >= 300) throw new Error(`cron ${String(body.operation)} answered ${response.status}: ${JSON.stringify(json)}`);
    return json;
  };
  return { cron, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

interface WorkerProcess {
  child: ChildProcess;
  startedAt: number;
  running: Set<string>;
  exited: Promise<void>;
  stderr: string[];
}

function startWorker(env: NodeJS.ProcessEnv): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER_SCRIPT], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  const worker: WorkerProcess = {
    child,
    startedAt: Date.now(),
    running: new Set(),
    exited: new Promise((resolve) => child.once('exit', () => resolve())),
    stderr: [],
  };
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    worker.stderr.push(chunk);
    if (worker.stderr.length > 50) worker.stderr.shift();
  });
  child.on('message', (message: WorkerMessage) => {
    if (message.type === 'job-start') worker.running.add(message.jobId);
    else if (message.type === 'job-end') worker.running.delete(message.jobId);
  });
  return worker;
}

/**
 * Every lock belongs to an active job and every active job holds its lock, read as one
 * consistent snapshot (a read-only transaction), so it can be checked while workers run.
 */
async function lockProblems(db: Firestore): Promise<string[]> {
  const [locks, active] = await db.runTransaction(
    (tx) => Promise.all([tx.get(db.collection(LOCKS_COLLECTION)), tx.get(jobsCollection(db).where('status', 'in', ['queued', 'running']))]),
    { readOnly: true },
  );
  const activeIds = new Set(active.docs.map((d) => d.id));
  const problems: string[] = [];
  for (const lock of locks.docs) if (!activeIds.has(String(lock.get('jobId')))) problems.push(`lock ${lock.id} belongs to no active job`);
  const held = new Map(locks.docs.map((l) => [l.id, String(l.get('jobId'))]));
  for (const job of active.docs) if (held.get(String(job.get('dedupeKey'))) !== job.id) problems.push(`active job ${job.id} does not hold its lock ${String(job.get('dedupeKey'))}`);
  return problems;
}

/**
 * The healthy integrations synced again without any fault, into a project of their own;
 * every metric document of the soak must equal this run's. Returns the users that differ.
 */
async function differencesFromFaultFreeRun(soakDb: Firestore, integrations: Integration[], lookbackDays: number): Promise<string[]> {
  const projectId = `demo-chaos-reference-${randomUUID().slice(0, 8)}`;
  const app = initializeApp({ projectId }, projectId);
  const db = getFirestore(app);
  const sandbox = await startSandbox({ latencyMs: 1 });
  try {
    await seed(db, sandbox, integrations, lookbackDays, false);
    for (let at = 0; at < integrations.length; at += 50) {
      await Promise.all(integrations.slice(at, at + 50).map((i) => enqueueJob(db, { userId: i.userId, providerId: i.providerId, jobType: 'scheduled-sync' })));
    }
    const urls = sandbox.baseUrls;
    const connectors = createConnectors({
      meta: urls.meta,
      google: { ...urls.google, developerToken: 'ref', clientId: 'ref', clientSecret: 'ref' },
      linkedin: { ...urls.linkedin, clientId: 'ref', clientSecret: 'ref' },
      tiktok: { ...urls.tiktok, appId: 'ref', secret: 'ref' },
    });
    const handlers = createSyncHandlers(db, { connectors });
    for (let round = 0; round < 20; round++) {
      const report = await runWorker(adsQueue(db), {
        maxJobs: 100_000, concurrency: 32, budgetMs: 3_600_000, jobTimeoutMs: 300_000,
        retry: { baseMs: 100, maxMs: 1_000, maxAttempts: 5 }, circuit: { failureThreshold: 1_000, cooldownMs: 1_000 }, handlers,
      });
      if (report.counts.processed === 0) break;
    }
    const differences: string[] = [];
    for (const userId of new Set(integrations.map((i) => i.userId))) {
      const [ours, expected] = await Promise.all([metricsOf(soakDb, userId), metricsOf(db, userId)]);
      const differing = [...expected.keys()].filter((id) => ours.get(id) !== expected.get(id)).length;
      const extra = [...ours.keys()].filter((id) => !expected.has(id)).length;
      if (expected.size === 0 || differing > 0 || extra > 0) {
        differences.push(`${userId}: metric documents differ from a fault-free run (${expected.size} expected, ${differing} missing or different, ${extra} extra)`);
      }
    }
    return differences;
  } finally {
    await sandbox.close();
    await clearEmulatorProject(projectId, { firestoreHost: process.env.FIRESTORE_EMULATOR_HOST ?? '127.0.0.1:8080' });
    await deleteApp(app);
  }
}

/** A user's stored metrics, comparable across databases: each row, and each day of the account totals. */
async function metricsOf(db: Firestore, userId: string): Promise<Map<string, unknown>> {
  const [months, totals] = await Promise.all([METRIC_MONTHS_COLLECTION, METRIC_TOTALS_COLLECTION].map((c) => db.collection(`users/${userId}/${c}`).get()));
  const entries: Array<[string, string]> = months!.docs.flatMap((doc) => rowsOfMonth(metricMonthSchema.parse(doc.data())).map((row): [string, string] => [metricRowId(row), JSON.stringify(row)]));
  for (const doc of totals!.docs) {
    // Map keys sorted: Firestore does not keep their order.
    for (const [date, day] of Object.entries(metricTotalsSchema.parse(doc.data()).days)) entries.push([`${doc.id}/${date}`, JSON.stringify(Object.entries(day).sort())]);
  }
  return new Map(entries);
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const log = options.log ?? (() => undefined);
  const projectId = `demo-chaos-${randomUUID().slice(0, 8)}`;
  const app = initializeApp({ projectId }, projectId);
  const db = getFirestore(app);
  const integrations = plan(options.users);
  const healthy = integrations.filter((i) => !i.revoked);
  const faults = { serverErrorRate: 0.05, rateLimitBursts: { every: 60, length: 4, retryAfterSeconds: 1 } };
  const sandbox = await startSandbox({ latencyMs: options.latencyMs, seed: options.seed ?? 7 });
  for (const p of PROVIDER_IDS) sandbox.setFaults(p, { ...faults, ...(p === options.down.provider ? { down: true } : {}) });
  await seed(db, sandbox, integrations, options.lookbackDays, true);
  log(`seeded ${integrations.length} integrations (${integrations.length - healthy.length} revoked) in ${projectId}`);

  const env: Record<string, string> = { INTEGRATIONS_CRON_SECRET: CRON_KEY, FUNCTIONS_EMULATOR: 'true', ...platformEnv(sandbox), ...options.env };
  const scheduler = await serveCron(db, env);
  const { cron } = scheduler;
  const { NODE_TEST_CONTEXT: _testRunner, ...parentEnv } = process.env;
  const childEnv: NodeJS.ProcessEnv = { ...parentEnv, ...env, CHAOS_PROJECT: projectId };
  const workers = new Set<WorkerProcess>();
  const killedPids = new Set<number>();
  let workersStarted = 0;
  let resets = 0;
  let freshMs: number | null = null;
  const violations: string[] = [];
  /** Lock and job consistency, checked every 5 s while the workers run and once at the end. */
  const lockViolations: string[] = [];
  const start = Date.now();
  const elapsed = () => Date.now() - start;
  const freshTarget = Math.ceil(healthy.length * 0.999);

  try {
    // Cloud Scheduler delivers at least once: the hourly call arrives twice at the same moment.
    // Pages of 100 users keep each fan-out run short, so a killed one loses little.
    const processAllUsers = { operation: 'process_all_users', maxUsers: 100 };
    await Promise.all([cron(processAllUsers), cron(processAllUsers)]);
    // Kills spread over the outage from the moment jobs run, each of a worker running jobs then.
    const killEveryMs = options.down.forMs / options.kills;
    let nextKillAt = Number.POSITIVE_INFINITY;
    let kills = 0;
    let lateDelivery = false;
    let platformBack = false;
    let lastReset = 0;
    let lastSpawn = 0;
    let lastCount = 0;
    let lastLockCheck = 0;
    let resetInFlight: Promise<void> | null = null;
    for (;;) {
      if (elapsed() > options.timeoutMs) throw new Error(`the soak did not finish within ${options.timeoutMs} ms`);
      for (const w of [...workers]) if (w.child.exitCode !== null || w.child.signalCode !== null) workers.delete(w);
      // The scheduler's next calls land on fresh instances when some died.
      if (workers.size < options.workers && Date.now() - lastSpawn > 400) {
        workers.add(startWorker(childEnv));
        workersStarted++;
        lastSpawn = Date.now();
      }
      if (!platformBack && elapsed() >= options.down.forMs) {
        sandbox.updateFaults(options.down.provider, { down: false });
        platformBack = true;
        log(`${options.down.provider} is back after ${elapsed()} ms`);
      }
      if (!lateDelivery && elapsed() >= options.down.forMs / 2) {
        lateDelivery = true;
        await cron(processAllUsers);
      }
      const busy = [...workers].filter((w) => w.running.size > 0);
      if (nextKillAt === Number.POSITIVE_INFINITY && busy.length > 0) nextKillAt = Date.now() + killEveryMs / 2;
      if (kills < options.kills && Date.now() >= nextKillAt) {
        // A random one of the busiest: a kill should cost jobs in flight, not only the fan-out.
        const most = Math.max(0, ...busy.map((w) => w.running.size));
        const busiest = busy.filter((w) => w.running.size >= Math.min(most, 2));
        const victim = busiest[Math.floor(Math.random() * busiest.length)];
        if (victim) {
          killedPids.add(victim.child.pid!);
          victim.child.kill('SIGKILL');
          workers.delete(victim);
          kills++;
          nextKillAt = Date.now() + killEveryMs;
          log(`killed worker ${victim.child.pid} with ${victim.running.size} jobs running at ${elapsed()} ms`);
        }
      }
      // reset_stale_jobs runs alongside the workers, as its schedule would.
      if (!resetInFlight && Date.now() - lastReset > 2_000) {
        lastReset = Date.now();
        resetInFlight = cron({ operation: 'reset_stale_jobs', maxRunMinutes: 1 })
          .then((r) => void (resets += Number(r.reset ?? 0)))
          .finally(() => (resetInFlight = null));
      }
      if (Date.now() - lastLockCheck >= 5_000) {
        lastLockCheck = Date.now();
        lockViolations.push(...(await lockProblems(db)));
      }
      // A succeeded sync job is an integration synced since the start (each has one job);
      // counted on the jobs, which the emulator scans far faster than a collection group.
      if (Date.now() - lastCount >= 1_000) {
        lastCount = Date.now();
        const [fresh, active] = await Promise.all([
          jobsCollection(db).where('jobType', '==', 'scheduled-sync').where('status', '==', 'succeeded').count().get(),
          jobsCollection(db).where('status', 'in', ['queued', 'running']).count().get(),
        ]);
        if (freshMs === null && fresh.data().count >= freshTarget) freshMs = elapsed();
        if (active.data().count === 0 && kills >= options.kills && platformBack && lateDelivery) break;
      }
      await sleep(250);
    }
    const durationMs = elapsed();
    await resetInFlight;
    for (const w of workers) w.child.send('stop');
    // Unref'd: once the workers are gone the deadline must not hold the process open for a minute.
    await Promise.race([Promise.all([...workers].map((w) => w.exited)), sleep(60_000, undefined, { ref: false })]);
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    log(`drained in ${durationMs} ms; checking invariants`);

    const jobs = (await jobsCollection(db).get()).docs.map((d) => ({ id: d.id, ...d.data() }) as Record<string, unknown> & { id: string });
    const syncJobs = jobs.filter((j) => j.jobType === 'scheduled-sync');
    for (const j of jobs) if (j.status !== 'succeeded' && j.status !== 'failed') violations.push(`job ${j.id} (${String(j.jobType)}) ended ${String(j.status)}`);
    lockViolations.push(...(await lockProblems(db)));
    violations.push(...new Set(lockViolations));
    for (const overlap of sandbox.overlappingRuns()) violations.push(`${overlap.subject} ran twice at once: ${overlap.runs.join(' and ')}`);

    const requests = sandbox.requests().log;
    const byIntegration = new Map(syncJobs.map((j) => [`${String(j.userId)}/${String(j.providerId)}`, [] as typeof syncJobs]));
    for (const j of syncJobs) byIntegration.get(`${String(j.userId)}/${String(j.providerId)}`)!.push(j);
    const integrationDocs = new Map((await db.collectionGroup('integrations').get()).docs.map((d) => [`${String(d.get('userId'))}/${String(d.get('providerId'))}`, d]));
    for (const i of integrations) {
      const key = subject(i);
      const own = byIntegration.get(key) ?? [];
      if (own.length !== 1) violations.push(`${key}: ${own.length} scheduled jobs, expected exactly 1 (duplicate deliveries must not add jobs)`);
      const doc = integrationDocs.get(key)!;
      if (i.revoked) {
        if (doc.get('status') !== 'error' || !/reconnect/.test(String(doc.get('lastError')))) violations.push(`${key}: revoked but status ${String(doc.get('status'))}, lastError ${String(doc.get('lastError'))}`);
        if (own[0] && (own[0].status !== 'failed' || !/reconnect/.test(String(own[0].lastError)))) violations.push(`${key}: revoked, but its job ended ${String(own[0].status)}: ${String(own[0].lastError)}`);
        const refusedRuns = new Set(requests.filter((e) => e.subject === key && e.authRefused && !killedPids.has(Number(e.run?.split(':')[0]))).map((e) => e.run));
        if (refusedRuns.size > 1) violations.push(`${key}: revoked, yet retried: ${refusedRuns.size} runs were refused`);
      } else {
        const synced = (doc.get('lastSyncedAt') as Timestamp | null)?.toMillis() ?? 0;
        if (doc.get('status') !== 'connected' || doc.get('lastSyncStatus') !== 'succeeded' || synced < start) {
          violations.push(`${key}: healthy but not synced (status ${String(doc.get('status'))}, lastSyncStatus ${String(doc.get('lastSyncStatus'))}, lastError ${String(doc.get('lastError'))})`);
        }
      }
    }

    log('comparing every healthy integration\'s metrics with a fault-free run');
    violations.push(...(await differencesFromFaultFreeRun(db, healthy, options.lookbackDays)));

    const apiCalls = requests.length;
    const figures: SoakFigures = {
      integrations: integrations.length,
      healthy: healthy.length,
      revoked: integrations.length - healthy.length,
      durationMs,
      freshMs,
      apiCalls,
      apiCallsPerSync: Math.round((apiCalls / healthy.length) * 100) / 100,
      retries: syncJobs.reduce((sum, j) => sum + Math.max(0, Number(j.attempts) - 1), 0),
      maxAttempts: Math.max(0, ...syncJobs.map((j) => Number(j.attempts))),
      resets,
      kills,
      workersStarted,
      rateLimited: requests.filter((e) => e.status === 429 || (e.provider === 'meta' && e.status === 400)).length,
      serverErrors: requests.filter((e) => e.status >= 500).length,
    };
    return { figures, violations };
  } finally {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await scheduler.close();
    await sandbox.close();
    await clearEmulatorProject(projectId, { firestoreHost: process.env.FIRESTORE_EMULATOR_HOST ?? '127.0.0.1:8080' });
    await deleteApp(app);
  }
}
