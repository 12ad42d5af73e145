/**
 * What Ads Hub Sync costs in Firestore operations, counted in a controlled run on the
 * emulator (`firestoreOps.ts` counts reads, writes and deletes at the SDK's boundary): the
 * same code the functions run (the cron operations, the worker with the real sync handlers
 * and connectors, the alert checks against a local webhook, /health), the platforms played
 * by the sandbox. Per platform, USERS integrations go through a day: process_all_users, the
 * fan-out, the first sync (every metric document new), the next day's sync (one new day per
 * document) and a sync that finds nothing changed. Then the calls that cost the same whatever
 * the number of users. docs/operations.md turns the figures into the cost table.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { initializeApp } from 'firebase-admin/app';
import { getAuth } from 'firebase-admin/auth';
import { FieldPath, FieldValue, Timestamp, getFirestore } from 'firebase-admin/firestore';
import { loadConfig } from '../../functions/src/config/index.js';
import { createAppContext, defaultHandlers, type AppContext } from '../../functions/src/context.js';
import { runCronOperation, runWorkerCall } from '../../functions/src/scheduler/operations.js';
import { METRIC_MONTHS_COLLECTION, METRIC_TOTALS_COLLECTION, PROVIDER_IDS, integrationDocument, type ProviderId } from '../../functions/src/schema/index.js';
import { checkHealth } from '../../functions/src/status/health.js';
import { credentialsRef } from '../../functions/src/sync/store.js';
import { DEMO_PLATFORM_SECRETS } from '../localConfig.js';
import { startSandbox, type Sandbox } from '../sandbox/server.js';
import { measure, type OperationCounts } from './firestoreOps.js';
import { clearEmulatorProject } from '../emulatorData.js';

process.env.FIRESTORE_EMULATOR_HOST ??= '127.0.0.1:8080';
const PROJECT = `demo-bench-costs-${Date.now()}`;
const app = initializeApp({ projectId: PROJECT }, 'costs-bench');
const db = getFirestore(app);
const USERS = Number(process.env.COST_USERS ?? 40);
const KEY = 'bench-cron-key-0123456789abcdefghijklmnop';

/** Each platform's account as a user picks it (the sandbox answers for any id of the right shape). */
const ACCOUNTS: Record<ProviderId, string> = {
  meta: 'act_1234567',
  google: '123-456-7890',
  linkedin: 'urn:li:sponsoredAccount:5551234',
  tiktok: '7000000000000000001',
};

const clear = () => clearEmulatorProject(PROJECT);

/** A local webhook that takes everything: the alert checks run as they would with Slack configured. */
async function webhook(): Promise<{ url: string; close: () => void }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, close: () => server.close() };
}

function context(sandbox: Sandbox, webhookUrl: string): AppContext {
  const u = sandbox.baseUrls;
  const config = loadConfig({
    INTEGRATIONS_CRON_SECRET: KEY,
    FUNCTIONS_EMULATOR: 'true',
    SCHEDULER_ALERT_WEBHOOK_URL: webhookUrl,
    META_API_BASE_URL: u.meta.apiBaseUrl,
    GOOGLE_ADS_API_BASE_URL: u.google.apiBaseUrl,
    GOOGLE_OAUTH_BASE_URL: u.google.oauthBaseUrl,
    GOOGLE_OAUTH_CLIENT_ID: 'google-client',
    LINKEDIN_API_BASE_URL: u.linkedin.apiBaseUrl,
    LINKEDIN_OAUTH_BASE_URL: u.linkedin.oauthBaseUrl,
    LINKEDIN_CLIENT_ID: 'linkedin-client',
    TIKTOK_API_BASE_URL: u.tiktok.apiBaseUrl,
    TIKTOK_APP_ID: 'tiktok-app',
    ...DEMO_PLATFORM_SECRETS,
  });
  return createAppContext({ db, auth: getAuth(app), config, handlers: defaultHandlers(db, config) });
}

/** USERS integrations of one platform, connected, due, on the daily cadence with the platform's restatement window. */
async function seed(sandbox: Sandbox, providerId: ProviderId): Promise<string[]> {
  const users = Array.from({ length: USERS }, (_, i) => `${providerId}-user-${String(i).padStart(4, '0')}`);
  const due = Timestamp.fromMillis(Date.now() - 60_000);
  const writer = db.bulkWriter();
  for (const userId of users) {
    void writer.set(db.doc(`users/${userId}`), { email: `${userId}@example.com`, displayName: userId, createdAt: Timestamp.now() });
    void writer.set(db.doc(`users/${userId}/integrations/${providerId}`), integrationDocument({ userId, providerId, accountId: ACCOUNTS[providerId], accountName: 'Demo account', nextRunAt: due }));
  }
  await writer.close();
  for (const userId of users) {
    const issued = sandbox.issueCredentials(providerId, 30 * 86_400);
    await credentialsRef(db, userId, providerId).set({ accessToken: issued.accessToken, refreshToken: providerId === 'meta' ? null : issued.refreshToken, expiresAt: issued.expiresAt });
  }
  return users;
}

const add = (a: OperationCounts, b: OperationCounts): OperationCounts => ({ reads: a.reads + b.reads, writes: a.writes + b.writes, deletes: a.deletes + b.deletes });
const zero = (): OperationCounts => ({ reads: 0, writes: 0, deletes: 0 });
const per = (ops: OperationCounts, n: number): OperationCounts => ({ reads: ops.reads / n, writes: ops.writes / n, deletes: ops.deletes / n });

/** Worker calls until one finds nothing; the ops of the calls that ran jobs, and how many jobs. */
async function drain(ctx: AppContext, maxJobs: number): Promise<{ ops: OperationCounts; processed: number; calls: number }> {
  let ops = zero();
  let processed = 0;
  let calls = 0;
  for (;;) {
    const { result, ops: callOps } = await measure(() => runWorkerCall(ctx, { maxJobs }, 'worker'));
    if (result.counts.processed === 0) return { ops, processed, calls };
    ops = add(ops, callOps);
    processed += result.counts.processed;
    calls++;
  }
}

interface SyncDay {
  processAllUsers: OperationCounts;
  fanOutPerIntegration: OperationCounts;
  syncPerJob: OperationCounts;
  workerCalls: number;
}

/** process_all_users, its fan-out (worker calls of one job: the fan-out goes first), then the syncs. */
async function day(ctx: AppContext, users: string[], providerId: ProviderId): Promise<SyncDay> {
  const due = Timestamp.fromMillis(Date.now() - 60_000);
  const writer = db.bulkWriter();
  for (const userId of users) void writer.update(db.doc(`users/${userId}/integrations/${providerId}`), { nextRunAt: due });
  await writer.close();
  const cron = await measure(() => runCronOperation(ctx, { operation: 'process_all_users', maxUsers: 500, jobType: 'scheduled-sync' }));
  let fanOut = zero();
  for (;;) {
    const pending = await db.collection('syncJobs').where('jobType', '==', 'fan-out').where('status', '==', 'queued').limit(1).get();
    if (pending.empty) break;
    fanOut = add(fanOut, (await measure(() => runWorkerCall(ctx, { maxJobs: 1 }, 'worker'))).ops);
  }
  const syncs = await drain(ctx, 1000);
  if (syncs.processed !== users.length) throw new Error(`${providerId}: ${syncs.processed} jobs ran, ${users.length} expected`);
  return { processAllUsers: cron.ops, fanOutPerIntegration: per(fanOut, users.length), syncPerJob: per(syncs.ops, syncs.processed), workerCalls: syncs.calls };
}

/** The next day's data: the newest day of every metric document of these users is gone, as if the platform had not reported it yet. */
async function forgetNewestDay(users: string[]): Promise<number> {
  let documents = 0;
  for (const userId of users) {
    for (const collection of [METRIC_MONTHS_COLLECTION, METRIC_TOTALS_COLLECTION]) {
      const snap = await db.collection(`users/${userId}/${collection}`).get();
      const newest = snap.docs.flatMap((doc) => Object.keys((doc.get('days') as Record<string, unknown> | undefined) ?? {})).sort().at(-1);
      if (!newest) continue;
      for (const doc of snap.docs) {
        if ((doc.get('days') as Record<string, unknown>)[newest] === undefined) continue;
        await doc.ref.update(new FieldPath('days', newest), FieldValue.delete());
        documents++;
      }
    }
  }
  return documents;
}

export interface PlatformCosts {
  providerId: ProviderId;
  metricDocuments: number;
  first: SyncDay;
  nextDay: SyncDay;
  unchanged: SyncDay;
}

export interface FixedCosts {
  idleWorkerCall: OperationCounts;
  resetStaleJobs: OperationCounts;
  cleanupOldJobs: OperationCounts;
  health: OperationCounts;
}

export async function measureCosts(): Promise<{ platforms: PlatformCosts[]; fixed: FixedCosts }> {
  const sandbox = await startSandbox({ latencyMs: 1 });
  const hook = await webhook();
  const ctx = context(sandbox, hook.url);
  const platforms: PlatformCosts[] = [];
  try {
    for (const providerId of PROVIDER_IDS) {
      await clear();
      const users = await seed(sandbox, providerId);
      const first = await day(ctx, users, providerId);
      const metricDocuments =
        (await db.collectionGroup(METRIC_MONTHS_COLLECTION).count().get()).data().count + (await db.collectionGroup(METRIC_TOTALS_COLLECTION).count().get()).data().count;
      await forgetNewestDay(users);
      const nextDay = await day(ctx, users, providerId);
      const unchanged = await day(ctx, users, providerId);
      platforms.push({ providerId, metricDocuments: metricDocuments / users.length, first, nextDay, unchanged });
      console.log(`costs: ${providerId} measured`);
    }
    const fixed: FixedCosts = {
      idleWorkerCall: (await measure(() => runWorkerCall(ctx, { maxJobs: 1000 }, 'worker'))).ops,
      resetStaleJobs: (await measure(() => runCronOperation(ctx, { operation: 'reset_stale_jobs', maxRunMinutes: 30 }))).ops,
      cleanupOldJobs: (await measure(() => runCronOperation(ctx, { operation: 'cleanup_old_jobs' }))).ops,
      health: (await measure(() => checkHealth(db, ctx.config, Date.now()))).ops,
    };
    return { platforms, fixed };
  } finally {
    hook.close();
    await sandbox.close();
    await clear();
  }
}

const f = (ops: OperationCounts) => `${ops.reads.toFixed(1)} / ${ops.writes.toFixed(1)} / ${ops.deletes.toFixed(1)}`;

/** The schedule's calls a day (schedules.ts): the worker every minute, reset_stale_jobs every 10 minutes, the others hourly. */
const CALLS_A_DAY = { worker: 1_440, processAllUsers: 24, resetStaleJobs: 144, cleanupOldJobs: 24 };
const INTEGRATIONS_PER_USER = 2.5;
/** Syncs a day per integration: the default automation (daily), and the mix docs/architecture.md sizes for (10 % hourly, 20 % every 6 h, 60 % daily, 10 % weekly). */
const CADENCES = { daily: 1, mix: 0.1 * 24 + 0.2 * 4 + 0.6 * 1 + 0.1 / 7 };
/** us-central1 prices per 100,000 operations and the free daily quota (../shared/firestore-notes.md). */
const PRICE = { reads: 0.03, writes: 0.09, deletes: 0.01 };
const FREE = { reads: 50_000, writes: 20_000, deletes: 20_000 };

const mean = (values: OperationCounts[]) => per(values.reduce(add, zero()), values.length);
const scale = (ops: OperationCounts, k: number) => per(ops, 1 / k);

/**
 * A day's operations for a number of users: per integration synced, the fan-out's share, the
 * next day's sync (the platforms' mean) and the TTL delete of its finished job; per day, the
 * scheduled calls (an idle worker call each minute: the busy calls' own cost is in the
 * jobs') and the TTL delete of each call's event.
 */
export function dailyOperations(platforms: PlatformCosts[], fixed: FixedCosts, users: number, syncsPerIntegration: number): OperationCounts {
  const perSync = add(add(mean(platforms.map((p) => p.first.fanOutPerIntegration)), mean(platforms.map((p) => p.nextDay.syncPerJob))), { reads: 0, writes: 0, deletes: 1 });
  const syncs = users * INTEGRATIONS_PER_USER * syncsPerIntegration;
  const calls = [
    scale(fixed.idleWorkerCall, CALLS_A_DAY.worker),
    scale(platforms[0]!.nextDay.processAllUsers, CALLS_A_DAY.processAllUsers),
    scale(fixed.resetStaleJobs, CALLS_A_DAY.resetStaleJobs),
    scale(fixed.cleanupOldJobs, CALLS_A_DAY.cleanupOldJobs),
  ].reduce(add, zero());
  const events = Object.values(CALLS_A_DAY).reduce((a, b) => a + b, 0);
  return add(add(scale(perSync, syncs), calls), { reads: 0, writes: 0, deletes: events });
}

const dollars = (day: OperationCounts) =>
  (['reads', 'writes', 'deletes'] as const).reduce((sum, kind) => sum + (Math.max(0, day[kind] - FREE[kind]) * 30 * PRICE[kind]) / 100_000, 0);
const n = (x: number) => Math.round(x).toLocaleString('en-US');

/** The cost table of docs/operations.md, from the measured figures. */
export function costTable(platforms: PlatformCosts[], fixed: FixedCosts): string {
  const lines = ['| users | cadence | reads a day | writes a day | deletes a day | reads a month | writes a month | deletes a month | Firestore a month |', '|---|---|---|---|---|---|---|---|---|'];
  for (const users of [1_000, 100_000]) {
    for (const [cadence, syncs] of Object.entries(CADENCES)) {
      const day = dailyOperations(platforms, fixed, users, syncs);
      lines.push(
        `| ${n(users)} | ${cadence === 'daily' ? 'daily (the default)' : `the mix (${syncs.toFixed(2)} syncs a day)`} | ${n(day.reads)} | ${n(day.writes)} | ${n(day.deletes)} | ${n(day.reads * 30)} | ${n(day.writes * 30)} | ${n(day.deletes * 30)} | $${dollars(day).toFixed(2)} |`,
      );
    }
  }
  return lines.join('\n');
}

export async function runCostBenchmarks(): Promise<string[][]> {
  const { platforms, fixed } = await measureCosts();
  console.log(`\ncost table (${USERS} integrations per platform measured):\n${costTable(platforms, fixed)}\n`);
  const rows: string[][] = [];
  for (const p of platforms) {
    rows.push([
      `Firestore operations per ${p.providerId} integration (reads / writes / deletes), ${USERS} integrations, ${p.metricDocuments.toFixed(0)} metric documents each`,
      `fan-out ${f(p.first.fanOutPerIntegration)}; first sync ${f(p.first.syncPerJob)}; next day's sync ${f(p.nextDay.syncPerJob)}; sync with nothing new ${f(p.unchanged.syncPerJob)}`,
      'n/a',
      'none: the cost table (docs/operations.md)',
      'measured',
    ]);
  }
  rows.push([
    'Firestore operations per call that costs the same whatever the number of users (reads / writes / deletes)',
    `process_all_users ${f(platforms[0]!.nextDay.processAllUsers)}; idle worker call ${f(fixed.idleWorkerCall)}; reset_stale_jobs with the alert checks ${f(fixed.resetStaleJobs)}; cleanup_old_jobs with nothing to delete ${f(fixed.cleanupOldJobs)}; /health ${f(fixed.health)}`,
    'n/a',
    'none: the cost table (docs/operations.md)',
    'measured',
  ]);
  return rows;
}
