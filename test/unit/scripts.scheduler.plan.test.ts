import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { protos } from '@google-cloud/scheduler';
import { SCHEDULES } from '../../functions/src/scheduler/schedules.js';
import {
  attemptDeadlineSeconds,
  desiredJobs,
  describeOwned,
  keyFingerprint,
  parseOwnedDescription,
  schedulerJob,
  type DesiredJob,
} from '../../scripts/scheduler/desired.js';
import { httpFunctions } from '../../scripts/scheduler/functions.js';
import { planJobs } from '../../scripts/scheduler/plan.js';

type Job = protos.google.cloud.scheduler.v1.IJob;

const TARGET = { projectId: 'ads-hub-prod', location: 'us-central1', functionsBaseUrl: 'https://us-central1-ads-hub-prod.cloudfunctions.net' };
const KEY = 'k'.repeat(43);
const FINGERPRINT = keyFingerprint(KEY);
const TIMEOUTS = { worker: 540, cron: 120 };
const desired = (fingerprint = FINGERPRINT) => desiredJobs(SCHEDULES, TARGET, TIMEOUTS, fingerprint);
const byId = (jobs: DesiredJob[], id: string) => jobs.find((job) => job.id === id)!;

/** A job as the gRPC client decodes it: Long seconds as strings, enums as names, bytes as Buffer, no header values. */
function asReturnedByGrpc(job: DesiredJob, overrides: Partial<Job> = {}): Job {
  const sent = schedulerJob(job, KEY);
  const duration = (d: protos.google.protobuf.IDuration | null | undefined) => ({ seconds: String(d?.seconds ?? 0), nanos: 0 });
  return {
    ...sent,
    state: 'ENABLED',
    attemptDeadline: duration(sent.attemptDeadline),
    retryConfig: {
      ...sent.retryConfig,
      minBackoffDuration: duration(sent.retryConfig?.minBackoffDuration),
      maxBackoffDuration: duration(sent.retryConfig?.maxBackoffDuration),
      maxRetryDuration: duration(sent.retryConfig?.maxRetryDuration),
    },
    httpTarget: { ...sent.httpTarget, httpMethod: 'POST', headers: { 'User-Agent': 'Google-Cloud-Scheduler' } },
    ...overrides,
  };
}

/** The same job as the REST transport decodes it: numeric enums, base64 body. */
function asReturnedByRest(job: DesiredJob): Job {
  const sent = schedulerJob(job, KEY);
  return { ...sent, state: 1, httpTarget: { ...sent.httpTarget, httpMethod: 1, headers: {}, body: Buffer.from(job.body).toString('base64') as unknown as Uint8Array } };
}

describe('desired Cloud Scheduler jobs', () => {
  it('come from schedules.ts and the functions timeouts in functions/src/index.ts', () => {
    const functions = httpFunctions();
    assert.deepEqual(
      { worker: functions.worker, cron: functions.cron },
      { worker: { timeoutSeconds: 540, region: 'us-central1' }, cron: { timeoutSeconds: 120, region: 'us-central1' } },
    );
    const timeouts = Object.fromEntries(Object.entries(functions).map(([name, fn]) => [name, fn.timeoutSeconds]));
    const jobs = desiredJobs(SCHEDULES, TARGET, timeouts, FINGERPRINT);
    assert.deepEqual(
      jobs.map((job) => [job.id, job.schedule, job.uri, job.body, job.attemptDeadlineSeconds, job.retry.retryCount]),
      [
        ['ads-hub-worker', '* * * * *', `${TARGET.functionsBaseUrl}/worker`, '{"maxJobs":1000}', 570, 0],
        ['ads-hub-process-all-users', '0 * * * *', `${TARGET.functionsBaseUrl}/cron`, '{"operation":"process_all_users"}', 150, 3],
        ['ads-hub-reset-stale-jobs', '5-55/10 * * * *', `${TARGET.functionsBaseUrl}/cron`, '{"operation":"reset_stale_jobs"}', 150, 0],
        ['ads-hub-cleanup-old-jobs', '45 * * * *', `${TARGET.functionsBaseUrl}/cron`, '{"operation":"cleanup_old_jobs"}', 150, 3],
      ],
    );
    const worker = byId(jobs, 'ads-hub-worker');
    assert.equal(worker.name, 'projects/ads-hub-prod/locations/us-central1/jobs/ads-hub-worker');
    assert.equal(worker.description, `Run due sync jobs (managed by ads-hub-sync; key ${FINGERPRINT})`);
  });

  it('the job sent carries the key, JSON content type and every retry setting', () => {
    const job = schedulerJob(byId(desired(), 'ads-hub-process-all-users'), KEY);
    assert.deepEqual(job.httpTarget?.headers, { 'Content-Type': 'application/json', 'x-cron-key': KEY });
    assert.equal(Buffer.from(job.httpTarget!.body!).toString(), '{"operation":"process_all_users"}');
    assert.deepEqual(job.attemptDeadline, { seconds: 150, nanos: 0 });
    assert.deepEqual(job.retryConfig, {
      retryCount: 3,
      minBackoffDuration: { seconds: 30, nanos: 0 },
      maxBackoffDuration: { seconds: 300, nanos: 0 },
      maxRetryDuration: { seconds: 1200, nanos: 0 },
      maxDoublings: 5,
    });
  });

  it('the attempt deadline covers the function timeout, within what Cloud Scheduler allows', () => {
    assert.equal(attemptDeadlineSeconds('worker', 540), 570);
    assert.equal(attemptDeadlineSeconds('cron', 120), 150);
    assert.equal(attemptDeadlineSeconds('cron', 1_770), 1_800);
    assert.throws(() => attemptDeadlineSeconds('worker', 1_771), /function worker may run 1771 s, but Cloud Scheduler waits at most 1800 s/);
  });

  it('refuses a schedule whose endpoint is not an exported function', () => {
    assert.throws(() => desiredJobs(SCHEDULES, TARGET, { cron: 120 }, FINGERPRINT), /calls worker, which functions\/src\/index.ts does not export/);
  });

  it('ownership needs both the id prefix and the marker', () => {
    assert.deepEqual(parseOwnedDescription('ads-hub-worker', describeOwned('Run', FINGERPRINT)), { purpose: 'Run', fingerprint: FINGERPRINT });
    assert.equal(parseOwnedDescription('nightly-worker', describeOwned('Run', FINGERPRINT)), null);
    assert.equal(parseOwnedDescription('ads-hub-worker', 'Run due sync jobs'), null);
    assert.equal(parseOwnedDescription('ads-hub-worker', undefined), null);
  });

  it('the fingerprint follows the key and does not contain it', () => {
    assert.match(FINGERPRINT, /^[0-9a-f]{16}$/);
    assert.notEqual(keyFingerprint(`${KEY}x`), FINGERPRINT);
    assert.equal(keyFingerprint(KEY), FINGERPRINT);
    // Hex keys are the worst case: the fingerprint's alphabet.
    for (let i = 0; i < 200; i++) {
      const key = randomBytes(24).toString('hex');
      const fingerprint = keyFingerprint(key);
      const pieces = Array.from({ length: fingerprint.length - 7 }, (_, at) => fingerprint.slice(at, at + 8));
      assert.ok(pieces.every((piece) => !key.includes(piece)), `fingerprint ${fingerprint} repeats part of its key`);
    }
  });
});

describe('planJobs', () => {
  it('an empty location: every job is created, in the order of schedules.ts', () => {
    const plan = planJobs(desired(), []);
    assert.deepEqual(plan.steps.map((step) => [step.action, step.id]), SCHEDULES.map((s) => ['create', s.name]));
    assert.deepEqual([plan.conflicts, plan.unmanaged, plan.others], [[], [], 0]);
  });

  it('jobs as either transport returns them compare unchanged, header values unseen', () => {
    for (const shape of [asReturnedByGrpc, asReturnedByRest]) {
      const plan = planJobs(desired(), desired().map((job) => shape(job)));
      assert.deepEqual(plan.steps.map((step) => [step.action, step.changes]), SCHEDULES.map(() => ['unchanged', []]));
    }
  });

  it('names each field that drifted', () => {
    const jobs = desired();
    const worker = byId(jobs, 'ads-hub-worker');
    const current = jobs.map((job) => asReturnedByGrpc(job));
    current[0] = asReturnedByGrpc(worker, {
      schedule: '*/10 * * * *',
      attemptDeadline: { seconds: '180', nanos: 0 },
      httpTarget: { uri: 'https://old.example.com/worker', httpMethod: 'POST', body: Buffer.from('{"maxJobs":10}') },
      retryConfig: { retryCount: 1, minBackoffDuration: { seconds: '5' }, maxBackoffDuration: { seconds: '5' }, maxRetryDuration: { seconds: '0' }, maxDoublings: 5 },
      timeZone: 'Europe/Paris',
    });
    const plan = planJobs(jobs, current);
    assert.deepEqual(plan.steps[0], {
      action: 'update',
      id: 'ads-hub-worker',
      name: worker.name,
      desired: worker,
      paused: false,
      changes: [
        'schedule "*/10 * * * *" -> "* * * * *"',
        'time zone "Europe/Paris" -> "Etc/UTC"',
        `url "https://old.example.com/worker" -> "${TARGET.functionsBaseUrl}/worker"`,
        'body "{\\"maxJobs\\":10}" -> "{\\"maxJobs\\":1000}"',
        'attempt deadline (s) 180 -> 570',
        'retries 1 -> 0',
      ],
    });
    assert.deepEqual(plan.steps.slice(1).map((step) => step.action), ['unchanged', 'unchanged', 'unchanged']);
  });

  it('a new key shows as a changed fingerprint on every job', () => {
    const previous = keyFingerprint('p'.repeat(43));
    const plan = planJobs(desired(), desired(previous).map((job) => asReturnedByGrpc(job)));
    assert.deepEqual(
      plan.steps.map((step) => [step.action, step.changes]),
      SCHEDULES.map(() => ['update', [`cron key (fingerprint) "${previous}" -> "${FINGERPRINT}"`]]),
    );
  });

  it('deletes owned jobs the definition dropped; leaves everyone else alone; flags a name clash', () => {
    const jobs = desired();
    const current: Job[] = [
      ...jobs.slice(1).map((job) => asReturnedByGrpc(job)),
      { name: `${jobs[0]!.name}`, description: 'Run due sync jobs', schedule: '* * * * *' },
      { name: 'projects/ads-hub-prod/locations/us-central1/jobs/ads-hub-old-report', description: describeOwned('Old report', FINGERPRINT) },
      { name: 'projects/ads-hub-prod/locations/us-central1/jobs/ads-hub-manual', description: 'made by hand' },
      { name: 'projects/ads-hub-prod/locations/us-central1/jobs/nightly-backup', description: describeOwned('Backup', FINGERPRINT) },
    ];
    const plan = planJobs(jobs, current);
    assert.deepEqual(plan.steps.map((step) => [step.action, step.id]), [
      ['unchanged', 'ads-hub-process-all-users'],
      ['unchanged', 'ads-hub-reset-stale-jobs'],
      ['unchanged', 'ads-hub-cleanup-old-jobs'],
      ['delete', 'ads-hub-old-report'],
    ]);
    assert.deepEqual(plan.conflicts, ['ads-hub-worker']);
    assert.deepEqual(plan.unmanaged, ['ads-hub-manual']);
    assert.equal(plan.others, 1);
  });

  it('a paused job stays unchanged and marked; a failed update is written again; --force rewrites all', () => {
    const jobs = desired();
    const current = jobs.map((job) => asReturnedByGrpc(job));
    current[0] = asReturnedByGrpc(jobs[0]!, { state: 'PAUSED' });
    current[1] = asReturnedByGrpc(jobs[1]!, { state: 4 });
    const plan = planJobs(jobs, current);
    assert.deepEqual(plan.steps.map((step) => [step.action, step.paused, step.changes]), [
      ['unchanged', true, []],
      ['update', false, ['its last update failed']],
      ['unchanged', false, []],
      ['unchanged', false, []],
    ]);
    const forced = planJobs(jobs, current, { force: true });
    assert.deepEqual(forced.steps.map((step) => step.action), ['update', 'update', 'update', 'update']);
    assert.deepEqual(forced.steps[0]!.changes, ['rewritten as asked (--force)']);
  });
});
