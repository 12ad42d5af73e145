import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import { keyFingerprint } from '../../scripts/scheduler/desired.js';
import { runSchedulerCli, type SchedulerCliDeps } from '../../scripts/scheduler/cli.js';
import { fakeGoogleProject, type FakeFunctions, type FakeGoogleApis } from '../helpers/googleApis.js';

/**
 * `npm run scheduler` end to end: the real Cloud Scheduler and Secret Manager client
 * libraries, in their HTTP/JSON mode, against a local server speaking both REST APIs.
 */
const PROJECT = 'ads-hub-prod';
const LOCATION = `projects/${PROJECT}/locations/us-central1`;
const BASE = `https://us-central1-${PROJECT}.cloudfunctions.net`;
const CURRENT = 'current-key-0123456789abcdefghijklmnopqrstuv';
const NEXT = 'next-key-0123456789abcdefghijklmnopqrstuvwxyz';
const secretName = (name: string) => `projects/${PROJECT}/secrets/${name}`;
const ARGS = ['--project', PROJECT, '--region', 'us-central1'];
const EMPTY_DIR = mkdtempSync(join(tmpdir(), 'scheduler-cli-'));

const project = fakeGoogleProject();
let fake: FakeGoogleApis;
let functions: FakeFunctions;
after(() => rmSync(EMPTY_DIR, { recursive: true, force: true }));
beforeEach(() => {
  ({ apis: fake, functions } = project);
  fake.secrets.set(secretName('INTEGRATIONS_CRON_SECRET'), CURRENT);
  functions.accepted.add(CURRENT);
});

type CliOptions = { env?: NodeJS.ProcessEnv; cwd?: string; clientOptions?: SchedulerCliDeps['clientOptions'] };
const HAND_KEY = 'typed-in-the-console-0123456789-ABCDEFGHIJK';

async function cli(args: string[], options: CliOptions = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runSchedulerCli(args, {
    env: options.env ?? {},
    cwd: options.cwd ?? EMPTY_DIR,
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    clientOptions: options.clientOptions ?? fake.clientOptions,
    fetch: functions.fetch,
  });
  for (const text of [stdout, stderr]) {
    assert.ok(!text.includes(CURRENT) && !text.includes(NEXT) && !text.includes(HAND_KEY), 'a cron key was printed');
  }
  return { code, stdout, stderr };
}

const storedKeys = () => [...fake.jobs.values()].map((job) => job.httpTarget?.headers?.['x-cron-key']);

const EXPECTED_JOBS = [
  `  + create    ads-hub-worker             * * * * * Etc/UTC        POST /worker {"maxJobs":1000}  deadline 570s, no retries`,
  `  + create    ads-hub-process-all-users  0 * * * * Etc/UTC        POST /cron {"operation":"process_all_users"}  deadline 150s, 3 retries`,
  `  + create    ads-hub-reset-stale-jobs   5-55/10 * * * * Etc/UTC  POST /cron {"operation":"reset_stale_jobs"}  deadline 150s, no retries`,
  `  + create    ads-hub-cleanup-old-jobs   45 * * * * Etc/UTC       POST /cron {"operation":"cleanup_old_jobs"}  deadline 150s, 3 retries`,
];

describe('npm run scheduler', () => {
  it('plan on an empty project: four creates, and nothing written', async () => {
    const { code, stdout } = await cli(ARGS);
    console.log(`\n--- plan, empty project ---\n${stdout}`);
    assert.equal(code, 0);
    assert.equal(
      stdout,
      [
        `Cloud Scheduler jobs in project ${PROJECT}, location us-central1`,
        `Functions at ${BASE}; x-cron-key from secret INTEGRATIONS_CRON_SECRET (fingerprint ${keyFingerprint(CURRENT)})`,
        '',
        ...EXPECTED_JOBS,
        '',
        'Plan: 4 to create, 0 to update, 0 unchanged, 0 to delete.',
        '',
        'Dry run: nothing was changed. `npm run scheduler -- apply` with the same options makes it so.',
        '',
      ].join('\n'),
    );
    assert.deepEqual(fake.writes(), []);
    assert.equal(fake.jobs.size, 0);
  });

  it('apply creates the jobs as Cloud Scheduler will run them; a second apply changes nothing', async () => {
    const first = await cli(['apply', ...ARGS]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /Applied: 4 created, 0 updated, 0 deleted\.\n$/);
    assert.deepEqual(fake.writes(), Array(4).fill(`POST /v1/${LOCATION}/jobs`));
    assert.deepEqual(storedKeys(), [CURRENT, CURRENT, CURRENT, CURRENT]);
    const worker = fake.jobs.get(`${LOCATION}/jobs/ads-hub-worker`)!;
    assert.deepEqual(worker.httpTarget, {
      uri: `${BASE}/worker`,
      httpMethod: 1,
      headers: { 'Content-Type': 'application/json', 'x-cron-key': CURRENT },
      body: Buffer.from('{"maxJobs":1000}').toString('base64'),
    });
    assert.equal(worker.attemptDeadline, '570s');
    assert.deepEqual(fake.jobs.get(`${LOCATION}/jobs/ads-hub-process-all-users`)!.retryConfig, {
      retryCount: 3,
      minBackoffDuration: '30s',
      maxBackoffDuration: '300s',
      maxRetryDuration: '1200s',
      maxDoublings: 5,
    });

    fake.requests.length = 0;
    const plan = await cli(ARGS);
    console.log(`\n--- plan, up-to-date project ---\n${plan.stdout}`);
    assert.equal(plan.code, 0);
    assert.deepEqual(
      plan.stdout.split('\n').filter((line) => line.startsWith('  ')),
      EXPECTED_JOBS.map((line) => line.replace('+ create   ', '= unchanged')),
    );
    assert.match(plan.stdout, /Plan: 0 to create, 0 to update, 4 unchanged, 0 to delete\./);
    const second = await cli(['apply', ...ARGS]);
    assert.equal(second.code, 0);
    assert.match(second.stdout, /\nNothing to change\.\n$/);
    assert.deepEqual(fake.writes(), []);
  });

  it('rotation: the jobs move to the next key, and stay unchanged once it becomes the current one', async () => {
    await cli(['apply', ...ARGS]);
    fake.secrets.set(secretName('INTEGRATIONS_CRON_SECRET_NEXT'), NEXT);
    fake.requests.length = 0;
    functions.checks.length = 0;

    const plan = await cli([...ARGS, '--key-secret', 'INTEGRATIONS_CRON_SECRET_NEXT']);
    const change = `cron key (fingerprint) "${keyFingerprint(CURRENT)}" -> "${keyFingerprint(NEXT)}"`;
    assert.equal(plan.stdout.split('\n').filter((line) => line === `      ${change}`).length, 4);
    assert.match(plan.stdout, /Plan: 0 to create, 4 to update, 0 unchanged, 0 to delete\./);
    assert.deepEqual(fake.writes(), []);

    const refused = await cli(['apply', ...ARGS, '--key-secret', 'INTEGRATIONS_CRON_SECRET_NEXT']);
    assert.equal(refused.code, 1, 'the functions do not accept the next key yet');
    assert.equal(
      refused.stderr,
      `error: refusing to apply: the functions at ${BASE} refuse the key in INTEGRATIONS_CRON_SECRET_NEXT (401). ` +
        'Deploy them with it first (docs/operations.md, "Rotate the cron key", step 1), then apply again\n',
    );
    assert.deepEqual(fake.writes(), []);
    assert.deepEqual(storedKeys(), [CURRENT, CURRENT, CURRENT, CURRENT]);

    functions.accepted.add(NEXT);
    const apply = await cli(['apply', ...ARGS, '--key-secret', 'INTEGRATIONS_CRON_SECRET_NEXT']);
    assert.equal(apply.code, 0);
    assert.deepEqual(functions.checks, ['POST /cron refused', 'POST /cron accepted']);
    assert.deepEqual(fake.writes().map((w) => w.split(' ')[0]), ['PATCH', 'PATCH', 'PATCH', 'PATCH']);
    assert.deepEqual(storedKeys(), [NEXT, NEXT, NEXT, NEXT]);

    fake.secrets.set(secretName('INTEGRATIONS_CRON_SECRET'), NEXT);
    fake.requests.length = 0;
    const promoted = await cli(['apply', ...ARGS]);
    assert.match(promoted.stdout, /4 unchanged/);
    assert.deepEqual(fake.writes(), []);
  });

  it('repairs drift, deletes owned jobs no longer defined, and leaves other jobs alone', async () => {
    await cli(['apply', ...ARGS]);
    const worker = fake.jobs.get(`${LOCATION}/jobs/ads-hub-worker`)!;
    fake.jobs.set(worker.name, { ...worker, schedule: '*/15 * * * *', attemptDeadline: '180s', state: 2 });
    const owned = fake.jobs.get(`${LOCATION}/jobs/ads-hub-cleanup-old-jobs`)!;
    fake.jobs.set(`${LOCATION}/jobs/ads-hub-old-report`, { ...owned, name: `${LOCATION}/jobs/ads-hub-old-report` });
    fake.jobs.set(`${LOCATION}/jobs/ads-hub-manual`, { name: `${LOCATION}/jobs/ads-hub-manual`, description: 'made by hand', schedule: '0 0 * * *' });
    fake.jobs.set(`${LOCATION}/jobs/backup`, { name: `${LOCATION}/jobs/backup`, description: 'nightly backup', schedule: '0 1 * * *' });
    fake.requests.length = 0;

    const { code, stdout } = await cli(['apply', ...ARGS]);
    assert.equal(code, 0);
    assert.match(stdout, / {2}~ update {4}ads-hub-worker +\[paused: stays paused\]\n {6}schedule "\*\/15 \* \* \* \*" -> "\* \* \* \* \*"\n {6}attempt deadline \(s\) 180 -> 570\n/);
    assert.match(stdout, / {2}- delete {4}ads-hub-old-report\n/);
    assert.match(stdout, /Left alone \(prefix ads-hub- but no ownership marker\): ads-hub-manual\n/);
    assert.match(stdout, /Left alone: 1 other job\(s\) in this location\n/);
    assert.match(stdout, /Plan: 0 to create, 1 to update, 3 unchanged, 1 to delete\./);
    assert.deepEqual(fake.writes(), [`PATCH /v1/${LOCATION}/jobs/ads-hub-worker`, `DELETE /v1/${LOCATION}/jobs/ads-hub-old-report`]);
    const repaired = fake.jobs.get(worker.name)!;
    assert.deepEqual([repaired.schedule, repaired.attemptDeadline, repaired.state], ['* * * * *', '570s', 2]);
    assert.deepEqual([...fake.jobs.keys()].map((name) => name.split('/').pop()).sort(), [
      'ads-hub-cleanup-old-jobs',
      'ads-hub-manual',
      'ads-hub-process-all-users',
      'ads-hub-reset-stale-jobs',
      'ads-hub-worker',
      'backup',
    ]);
  });

  it('sends the key as the functions read it: without the newline `echo key | firebase functions:secrets:set` adds', async () => {
    fake.secrets.set(secretName('INTEGRATIONS_CRON_SECRET'), `${CURRENT}\n`);
    assert.equal((await cli(['apply', ...ARGS])).code, 0);
    assert.deepEqual(storedKeys(), [CURRENT, CURRENT, CURRENT, CURRENT]);
  });

  it('refuses to apply over a job of the same name it does not own', async () => {
    fake.jobs.set(`${LOCATION}/jobs/ads-hub-worker`, { name: `${LOCATION}/jobs/ads-hub-worker`, description: 'someone else', schedule: '* * * * *' });
    const plan = await cli(ARGS);
    assert.equal(plan.code, 1);
    assert.match(plan.stdout, /! conflict {2}ads-hub-worker .* exists but is not managed by this project's scheduler script/);
    const apply = await cli(['apply', ...ARGS]);
    assert.equal(apply.code, 1);
    assert.match(apply.stderr, /^error: refusing to apply: ads-hub-worker belong\(s\) to someone else\n$/);
    assert.deepEqual(fake.writes(), []);
  });

  it('compares the key each job sends, from the header values Cloud Scheduler returns: a key typed in by hand is repaired, never printed', async () => {
    await cli(['apply', ...ARGS]);
    const worker = fake.jobs.get(`${LOCATION}/jobs/ads-hub-worker`)!;
    fake.jobs.set(worker.name, { ...worker, httpTarget: { ...worker.httpTarget, headers: { 'Content-Type': 'application/json', 'x-cron-key': HAND_KEY } } });
    fake.requests.length = 0;

    const plan = await cli(ARGS);
    assert.equal(plan.code, 0);
    // The description still records the current key: only the header differs.
    assert.match(plan.stdout, new RegExp(` {2}~ update {4}ads-hub-worker *\\n {6}cron key \\(fingerprint\\) "${keyFingerprint(HAND_KEY)}" -> "${keyFingerprint(CURRENT)}"\\n {2}= unchanged`));
    assert.match(plan.stdout, /Plan: 0 to create, 1 to update, 3 unchanged, 0 to delete\./);
    assert.doesNotMatch(plan.stdout, /returned no x-cron-key value/);
    const apply = await cli(['apply', ...ARGS]);
    assert.equal(apply.code, 0);
    assert.deepEqual(fake.writes(), [`PATCH /v1/${LOCATION}/jobs/ads-hub-worker`]);
    assert.deepEqual(storedKeys(), [CURRENT, CURRENT, CURRENT, CURRENT]);
  });

  it('when Cloud Scheduler hides the header values, the key is compared by the fingerprint each description records, and the plan says so', async () => {
    await cli(['apply', ...ARGS]);
    fake.hideCronKeyHeader = true;
    const plan = await cli(ARGS);
    assert.match(plan.stdout, /Plan: 0 to create, 0 to update, 4 unchanged, 0 to delete\./);
    assert.match(
      plan.stdout,
      /\n {2}Cloud Scheduler returned no x-cron-key value for ads-hub-worker, ads-hub-process-all-users, ads-hub-reset-stale-jobs, ads-hub-cleanup-old-jobs: compared by the key fingerprint in the description\n/,
    );
    fake.secrets.set(secretName('INTEGRATIONS_CRON_SECRET_NEXT'), NEXT);
    const moved = await cli([...ARGS, '--key-secret', 'INTEGRATIONS_CRON_SECRET_NEXT']);
    assert.match(moved.stdout, /Plan: 0 to create, 4 to update, 0 unchanged, 0 to delete\./);
  });

  it('marks a job Cloud Scheduler disabled itself', async () => {
    await cli(['apply', ...ARGS]);
    const worker = fake.jobs.get(`${LOCATION}/jobs/ads-hub-worker`)!;
    fake.jobs.set(worker.name, { ...worker, state: 3 });
    const plan = await cli(ARGS);
    assert.match(plan.stdout, /= unchanged ads-hub-worker .*\[disabled by Cloud Scheduler: it does not run; `gcloud scheduler jobs resume` starts it again\]\n/);
  });

  it('apply checks first that the deployed functions accept the key, and changes nothing when they do not', async () => {
    functions.accepted.clear();
    const refused = await cli(['apply', ...ARGS]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error: refusing to apply: the functions at https:\/\/us-central1-ads-hub-prod\.cloudfunctions\.net refuse the key in INTEGRATIONS_CRON_SECRET \(401\)/);
    assert.deepEqual(fake.writes(), []);
    assert.deepEqual(functions.checks, ['POST /cron refused']);
    const notDeployed = await cli(['apply', ...ARGS, '--base-url', 'https://api.example.com/missing']);
    assert.match(notDeployed.stderr, /^error: refusing to apply: no function answers at https:\/\/api\.example\.com\/missing\/cron \(404\): deploy the functions first\n$/);
    assert.deepEqual(fake.writes(), []);
    assert.equal((await cli(ARGS)).code, 0, 'plan does not check');
  });

  it('--base-url targets another address; the project may come from .firebaserc', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scheduler-rc-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, '.firebaserc'), JSON.stringify({ projects: { default: 'some-other-project', prod: PROJECT } }));
    const { code } = await cli(['apply', '--project', 'prod', '--region', 'us-central1', '--base-url', 'https://api.example.com/fn/'], { cwd: dir });
    assert.equal(code, 0);
    assert.deepEqual(
      [...fake.jobs.values()].map((job) => job.httpTarget?.uri),
      ['https://api.example.com/fn/worker', 'https://api.example.com/fn/cron', 'https://api.example.com/fn/cron', 'https://api.example.com/fn/cron'],
    );
    fake.secrets.set('projects/some-other-project/secrets/INTEGRATIONS_CRON_SECRET', CURRENT);
    const byDefault = await cli(['--region', 'us-central1'], { cwd: dir });
    assert.match(byDefault.stdout, /^Cloud Scheduler jobs in project some-other-project, location us-central1\n/);
  });

  it('never prints the key, even when a service error quotes the request', async () => {
    fake.echoRequestInErrors = true;
    const { code, stderr } = await cli(['apply', ...ARGS]);
    assert.equal(code, 1);
    assert.match(stderr, /^error: create ads-hub-worker: .*"x-cron-key":"<cron key>"/);
  });
});

describe('npm run scheduler: clear errors', () => {
  const failing = async (args: string[], options: CliOptions = {}) => {
    const result = await cli(args, options);
    return { code: result.code, error: result.stderr.split('\n')[0] ?? '' };
  };

  it('names a missing project, region or bad option, and changes nothing', async () => {
    assert.deepEqual(await failing(['--region', 'us-central1']), {
      code: 2,
      error: 'error: no project: pass --project <id> (or set GOOGLE_CLOUD_PROJECT, or a default with `firebase use`)',
    });
    assert.deepEqual(await failing(['--project', PROJECT]), {
      code: 2,
      error: 'error: no region: pass --region <location>, the region of the functions (us-central1 unless functions/src/index.ts says otherwise)',
    });
    assert.deepEqual(await failing(['--project', 'demo-ads-hub', '--region', 'us-central1']), {
      code: 2,
      error: 'error: --project demo-ads-hub is an emulator-only demo project; this needs a real one',
    });
    assert.deepEqual(await failing(['--project', PROJECT, '--region', 'europe-west1']), {
      code: 2,
      error: 'error: the scheduled functions run in us-central1 (worker), us-central1 (cron) but --region is europe-west1: pass their region, or --base-url where they answer',
    });
    assert.deepEqual(await failing([...ARGS, '--base-url', 'http://api.example.com']), {
      code: 2,
      error: 'error: --base-url must be https: the jobs send the cron key',
    });
    assert.deepEqual(await failing([...ARGS, '--base-url', 'https://api.example.com/fn?x=1']), {
      code: 2,
      error: 'error: --base-url must not have a query or a fragment: the function name is appended to its path',
    });
    assert.deepEqual(await failing([...ARGS, '--key-secret', 'GOOGLE_OAUTH_CLIENT_SECRET']), {
      code: 2,
      error: 'error: --key-secret must be INTEGRATIONS_CRON_SECRET or INTEGRATIONS_CRON_SECRET_NEXT',
    });
    assert.deepEqual(await failing(['destroy', ...ARGS]), { code: 2, error: 'error: unknown command "destroy": use plan or apply' });
    assert.equal((await cli(['--region', 'us-central1'], { env: { GOOGLE_CLOUD_PROJECT: PROJECT } })).code, 0);
    assert.deepEqual(fake.writes(), []);
  });

  it('names a missing, weak or unreadable secret', async () => {
    fake.secrets.clear();
    assert.deepEqual(await failing(['apply', ...ARGS]), {
      code: 1,
      error:
        `error: reading secret INTEGRATIONS_CRON_SECRET: NOT_FOUND: Secret [projects/${PROJECT}/secrets/INTEGRATIONS_CRON_SECRET] not found or has no versions. ` +
        `Create it with \`npm run secret:generate -- --set INTEGRATIONS_CRON_SECRET --project ${PROJECT}\`.`,
    });
    fake.secrets.set(secretName('INTEGRATIONS_CRON_SECRET'), 'short');
    assert.match((await failing(ARGS)).error, /^error: reading secret INTEGRATIONS_CRON_SECRET: its value must be at least 32 characters, so the functions would refuse it/);
    fake.secrets.set(secretName('INTEGRATIONS_CRON_SECRET'), `${CURRENT} ${NEXT}`);
    assert.match((await failing(ARGS)).error, /its value must be printable ASCII without spaces, so the functions would refuse it/);
    fake.secrets.set(secretName('INTEGRATIONS_CRON_SECRET'), CURRENT);
    fake.deny.add('secrets');
    assert.match((await failing(ARGS)).error, /^error: reading secret INTEGRATIONS_CRON_SECRET: PERMISSION_DENIED: .*\. Whoever runs this needs roles\/secretmanager\.secretAccessor on it/);
    assert.deepEqual(fake.writes(), []);
    assert.equal(fake.jobs.size, 0);
  });

  it('names missing permissions on Cloud Scheduler, and missing credentials', async () => {
    fake.deny.add('scheduler');
    assert.match((await failing(['apply', ...ARGS])).error, new RegExp(`^error: listing the jobs of ${LOCATION}: PERMISSION_DENIED: .*Whoever runs this needs roles/cloudscheduler.admin`));
    fake.deny.clear();
    const { authClient: _, ...withoutCredentials } = fake.clientOptions;
    const noCredentials = await failing(['apply', ...ARGS], { clientOptions: { ...withoutCredentials, keyFilename: join(EMPTY_DIR, 'missing-key.json') } });
    assert.equal(noCredentials.code, 1);
    assert.match(noCredentials.error, /^error: reading secret INTEGRATIONS_CRON_SECRET: no usable Google credentials \(.*\)\. Run `gcloud auth application-default login`/);
    assert.deepEqual(fake.writes(), []);
  });
});
