import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import { cronKeySchema } from '../../functions/src/config/index.js';
import { firebaseSecretsSet, generateCronKey, runCronKeyCli, secretsSetArgs, type CronKeyCliDeps } from '../../scripts/cronKey.js';
import { ROOT } from '../../scripts/emulators.js';
import { runSchedulerCli } from '../../scripts/scheduler/cli.js';
import { fakeGoogleProject, type FakeFunctions, type FakeGoogleApis } from '../helpers/googleApis.js';

const PROJECT = 'ads-hub-prod';
const REGION = ['--region', 'us-central1'];
const BASE = `https://us-central1-${PROJECT}.cloudfunctions.net`;
const KEY_PATTERN = /[A-Za-z0-9_-]{43}/;
const EMPTY_DIR = mkdtempSync(join(tmpdir(), 'cron-key-'));
const secret = (name: string) => `projects/${PROJECT}/secrets/${name}`;

const project = fakeGoogleProject();
let fake: FakeGoogleApis;
let functions: FakeFunctions;
beforeEach(() => ({ apis: fake, functions } = project));
after(() => rmSync(EMPTY_DIR, { recursive: true, force: true }));

interface Stored {
  name: string;
  value: string;
  project?: string;
  force: boolean;
}

/**
 * The CLI with firebase-tools' `functions:secrets:set` replaced by a recorder; `onSet` plays
 * what follows in the project (the secret's new version, a redeploy).
 */
async function cli(args: string[], options: { setExitCode?: number; onSet?: (stored: Stored) => void } = {}) {
  const stored: Stored[] = [];
  let output = '';
  const deps: CronKeyCliDeps = {
    env: {},
    cwd: EMPTY_DIR,
    stdout: (text) => (output += text),
    stderr: (text) => (output += text),
    clientOptions: fake.clientOptions,
    fetch: functions.fetch,
    setSecret: async (name, value, setOptions) => {
      const entry = { name, value, ...setOptions };
      stored.push(entry);
      options.onSet?.(entry);
      return options.setExitCode ?? 0;
    },
  };
  const code = await runCronKeyCli(args, deps);
  return { code, stored, output };
}

/** The Cloud Scheduler jobs, written by the scheduler script itself with the key in `keySecret`. */
async function applyJobs(keySecret: 'INTEGRATIONS_CRON_SECRET' | 'INTEGRATIONS_CRON_SECRET_NEXT') {
  const code = await runSchedulerCli(['apply', '--project', PROJECT, ...REGION, '--key-secret', keySecret], {
    env: {},
    cwd: EMPTY_DIR,
    stdout: () => undefined,
    stderr: () => undefined,
    clientOptions: fake.clientOptions,
    fetch: functions.fetch,
  });
  assert.equal(code, 0);
  functions.checks.length = 0;
}

describe('npm run secret:generate', () => {
  it('makes 256-bit keys the functions accept as they are, never the same twice', () => {
    const keys = Array.from({ length: 1000 }, generateCronKey);
    for (const key of keys) {
      assert.match(key, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(cronKeySchema.parse(key), key);
    }
    assert.equal(new Set(keys).size, 1000);
  });

  it('piped, it writes the key alone, without a newline', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/cronKey.ts', 'generate'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^[A-Za-z0-9_-]{43}$/);
  });

  it('--set hands one new key to firebase-tools for each secret named, and shows it nowhere', async () => {
    const { code, stored, output } = await cli(['--set', 'INTEGRATIONS_CRON_SECRET', '--set', 'INTEGRATIONS_CRON_SECRET_NEXT', '--project', PROJECT]);
    assert.equal(code, 0, output);
    assert.deepEqual(stored.map(({ name, project, force }) => ({ name, project, force })), [
      { name: 'INTEGRATIONS_CRON_SECRET', project: PROJECT, force: false },
      { name: 'INTEGRATIONS_CRON_SECRET_NEXT', project: PROJECT, force: false },
    ]);
    assert.match(stored[0]!.value, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(stored[1]!.value, stored[0]!.value);
    assert.equal(output, '');
    assert.deepEqual(secretsSetArgs('INTEGRATIONS_CRON_SECRET_NEXT', { project: PROJECT, force: true }), [
      'functions:secrets:set',
      'INTEGRATIONS_CRON_SECRET_NEXT',
      '--data-file=-',
      '--project',
      PROJECT,
      '--force',
    ]);
  });

  it('stops at the first secret firebase-tools fails to set, with its exit code', async () => {
    const { code, stored } = await cli(['--set', 'INTEGRATIONS_CRON_SECRET', '--set', 'INTEGRATIONS_CRON_SECRET_NEXT', '--project', PROJECT], { setExitCode: 1 });
    assert.equal(code, 1);
    assert.deepEqual(stored.map((s) => s.name), ['INTEGRATIONS_CRON_SECRET']);
  });

  it('sets cron key secrets only', async () => {
    const { code, stored, output } = await cli(['--set', 'GOOGLE_OAUTH_CLIENT_SECRET', '--project', PROJECT]);
    assert.equal(code, 2);
    assert.equal(output, 'error: --set must name a cron key secret (INTEGRATIONS_CRON_SECRET or INTEGRATIONS_CRON_SECRET_NEXT), not GOOGLE_OAUTH_CLIENT_SECRET\n');
    assert.deepEqual(stored, []);
  });

  it('never replaces a working current key unless told to (a leaked key); a blank or invalid one is simply replaced', async () => {
    fake.secrets.set(secret('INTEGRATIONS_CRON_SECRET'), generateCronKey());
    const refused = await cli(['--set', 'INTEGRATIONS_CRON_SECRET', '--project', PROJECT]);
    assert.equal(refused.code, 1);
    assert.match(refused.output, /^error: INTEGRATIONS_CRON_SECRET already holds a key the functions accept and the Cloud Scheduler jobs may send: replacing it would fail every scheduled call with 401\. Rotate it instead/);
    assert.deepEqual(refused.stored, []);
    assert.equal((await cli(['--set', 'INTEGRATIONS_CRON_SECRET', '--project', PROJECT, '--replace-current'])).stored.length, 1);
    fake.secrets.set(secret('INTEGRATIONS_CRON_SECRET'), '\n');
    assert.equal((await cli(['--set', 'INTEGRATIONS_CRON_SECRET', '--project', PROJECT])).stored.length, 1);
  });

  it('a new next key while a rotation is unfinished: refused unless the jobs are shown to still send the current key', async () => {
    const current = generateCronKey();
    fake.secrets.set(secret('INTEGRATIONS_CRON_SECRET'), current);
    // Outside a rotation (next unset, or equal to the current key) a next key is welcome.
    assert.equal((await cli(['--set', 'INTEGRATIONS_CRON_SECRET_NEXT', '--project', PROJECT])).stored.length, 1);
    fake.secrets.set(secret('INTEGRATIONS_CRON_SECRET_NEXT'), current);
    assert.equal((await cli(['--set', 'INTEGRATIONS_CRON_SECRET_NEXT', '--project', PROJECT])).stored.length, 1);

    const next = generateCronKey();
    fake.secrets.set(secret('INTEGRATIONS_CRON_SECRET_NEXT'), next);
    const blind = await cli(['--set', 'INTEGRATIONS_CRON_SECRET_NEXT', '--project', PROJECT]);
    assert.equal(blind.code, 1);
    assert.match(blind.output, /^error: INTEGRATIONS_CRON_SECRET_NEXT holds a key other than the current one: a rotation is under way, and the Cloud Scheduler jobs may already send that key\. .*or pass --region so this can check/);
    assert.deepEqual(blind.stored, []);

    // The jobs still send the current key: the next one was never handed out, so it may change.
    functions.accepted.add(current);
    await applyJobs('INTEGRATIONS_CRON_SECRET');
    assert.equal((await cli(['--set', 'INTEGRATIONS_CRON_SECRET_NEXT', '--project', PROJECT, ...REGION])).stored.length, 1);

    // Once the jobs send the next key, a new one would cut them off.
    fake.secrets.set(secret('INTEGRATIONS_CRON_SECRET_NEXT'), next);
    functions.accepted.add(next);
    await applyJobs('INTEGRATIONS_CRON_SECRET_NEXT');
    const moved = await cli(['--set', 'INTEGRATIONS_CRON_SECRET_NEXT', '--project', PROJECT, ...REGION]);
    assert.equal(moved.code, 1);
    assert.match(moved.output, /^error: .*, and ads-hub-cleanup-old-jobs, ads-hub-process-all-users, ads-hub-reset-stale-jobs, ads-hub-worker already send\(s\) another key than the current one/);
    assert.deepEqual(moved.stored, []);
    assert.doesNotMatch(`${blind.output}${moved.output}`, KEY_PATTERN);
  });

  it('firebase-tools runs in a private directory that is removed, even when it fails, so its debug log cannot leave the key behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fake-firebase-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const binary = join(dir, 'firebase');
    const record = join(dir, 'record.json');
    // Like firebase-tools after an error (exit 2): the value in firebase-debug.log in its working directory.
    writeFileSync(
      binary,
      [
        '#!/usr/bin/env node',
        "const fs = require('node:fs');",
        "let value = ''; process.stdin.on('data', (c) => (value += c));",
        "process.stdin.on('end', () => {",
        "  fs.writeFileSync('firebase-debug.log', 'payload ' + value);",
        `  fs.writeFileSync(${JSON.stringify(record)}, JSON.stringify({ cwd: process.cwd(), args: process.argv.slice(2), debug: process.env.DEBUG ?? null }));`,
        '  process.exit(2);',
        '});',
      ].join('\n'),
    );
    chmodSync(binary, 0o755);
    const value = generateCronKey();
    const debugBefore = process.env.DEBUG;
    process.env.DEBUG = 'true';
    let code;
    try {
      code = await firebaseSecretsSet('INTEGRATIONS_CRON_SECRET_NEXT', value, { project: PROJECT, force: false }, binary);
    } finally {
      if (debugBefore === undefined) delete process.env.DEBUG;
      else process.env.DEBUG = debugBefore;
    }
    assert.equal(code, 2);
    const seen = JSON.parse(readFileSync(record, 'utf8')) as { cwd: string; args: string[]; debug: string | null };
    assert.deepEqual(seen.args, ['functions:secrets:set', 'INTEGRATIONS_CRON_SECRET_NEXT', '--data-file=-', '--project', PROJECT]);
    assert.equal(seen.debug, null, 'DEBUG would make firebase-tools keep its log');
    assert.notEqual(seen.cwd, ROOT);
    assert.equal(existsSync(seen.cwd), false, 'the directory with the debug log is gone');
    // The emulators under `npm test` keep their own firebase-debug.log in the repository: it must not hold the key.
    for (const log of readdirSync(ROOT).filter((name) => /^firebase-debug(\.\d+)?\.log$/.test(name))) {
      assert.ok(!readFileSync(join(ROOT, log), 'utf8').includes(value), `${log} holds the key`);
    }
  });
});

describe('npm run secret:promote', () => {
  const CURRENT = generateCronKey();
  const NEXT = generateCronKey();
  const PROMOTE = ['promote', '--project', PROJECT, ...REGION, '--force'];

  /** Mid-rotation: both keys deployed, the jobs moved to the next one. */
  async function readyToPromote() {
    fake.secrets.set(secret('INTEGRATIONS_CRON_SECRET'), CURRENT);
    fake.secrets.set(secret('INTEGRATIONS_CRON_SECRET_NEXT'), `${NEXT}\n`);
    functions.accepted.add(CURRENT);
    functions.accepted.add(NEXT);
    await applyJobs('INTEGRATIONS_CRON_SECRET_NEXT');
  }
  /** What `--force` makes firebase-tools do: a new version, and the functions redeployed with it. */
  const storeAndRedeploy = (stored: Stored) => {
    fake.secrets.set(secret(stored.name), stored.value);
    functions.accepted.delete(CURRENT);
  };

  it('makes the next key the current one once the jobs send it, and checks that the functions refuse the old one', async () => {
    await readyToPromote();
    const { code, stored, output } = await cli(PROMOTE, { onSet: storeAndRedeploy });
    assert.equal(code, 0, output);
    assert.deepEqual(stored, [{ name: 'INTEGRATIONS_CRON_SECRET', value: NEXT, project: PROJECT, force: true }]);
    assert.equal(output, `Promoted: INTEGRATIONS_CRON_SECRET holds the next key, the jobs send it, and the functions at ${BASE} refuse the old one.\n`);
    assert.deepEqual(functions.checks, ['POST /cron accepted', 'POST /cron refused']);
    assert.doesNotMatch(output, KEY_PATTERN);

    const again = await cli(PROMOTE);
    assert.deepEqual([again.code, again.stored, again.output], [0, [], 'INTEGRATIONS_CRON_SECRET already holds the next key, and the functions refuse the previous one: nothing to promote.\n']);
  });

  it('says plainly when the functions still accept the old key (not redeployed), and keeps saying it until they do not', async () => {
    await readyToPromote();
    const storeOnly = (stored: Stored) => fake.secrets.set(secret(stored.name), stored.value);
    const first = await cli(PROMOTE, { onSet: storeOnly });
    assert.equal(first.code, 1);
    assert.equal(
      first.output,
      `INTEGRATIONS_CRON_SECRET now holds the next key, but the functions at ${BASE} still accept the old one: they run with the secret version of their last deploy. ` +
        `Deploy them (\`npx firebase deploy --only functions --project ${PROJECT}\`), then run this again to check.\n`,
    );
    const second = await cli(PROMOTE);
    assert.equal(second.code, 1);
    assert.match(second.output, /^INTEGRATIONS_CRON_SECRET already holds the next key, but the functions at .* still accept the previous one/);
    functions.accepted.delete(CURRENT);
    assert.equal((await cli(PROMOTE)).code, 0);
  });

  it('refuses while a job still sends another key, or while the functions refuse the next key; nothing is set', async () => {
    fake.secrets.set(secret('INTEGRATIONS_CRON_SECRET'), CURRENT);
    fake.secrets.set(secret('INTEGRATIONS_CRON_SECRET_NEXT'), NEXT);
    functions.accepted.add(CURRENT);
    await applyJobs('INTEGRATIONS_CRON_SECRET');
    const early = await cli(PROMOTE);
    assert.equal(early.code, 1);
    assert.equal(
      early.output,
      'error: refusing to promote: ads-hub-cleanup-old-jobs, ads-hub-process-all-users, ads-hub-reset-stale-jobs, ads-hub-worker still send(s) another key than the next one, ' +
        'and would be refused (401) once it is the only key. Move the jobs first: ' +
        `\`npm run scheduler -- apply --project ${PROJECT} --region us-central1 --key-secret INTEGRATIONS_CRON_SECRET_NEXT\`\n`,
    );
    // Jobs moved by hand (the scheduler script would have checked), functions never deployed with the next key.
    for (const job of fake.jobs.values()) job.httpTarget!.headers!['x-cron-key'] = NEXT;
    const undeployed = await cli(PROMOTE);
    assert.equal(undeployed.code, 1);
    assert.match(undeployed.output, /^error: refusing to promote: the functions at .* refuse the next key \(401\)\. Deploy them with it first/);
    assert.deepEqual([...early.stored, ...undeployed.stored], []);
  });

  it('names what is missing: the project, the region, or the next key', async () => {
    assert.equal((await cli(['promote'])).code, 2);
    const noRegion = await cli(['promote', '--project', PROJECT]);
    assert.equal(noRegion.code, 2);
    assert.match(noRegion.output, /^error: promote needs --region <location>/);
    fake.secrets.set(secret('INTEGRATIONS_CRON_SECRET'), CURRENT);
    const { code, stored, output } = await cli(['promote', '--project', PROJECT, ...REGION]);
    assert.equal(code, 1);
    assert.match(output, /^error: reading secret INTEGRATIONS_CRON_SECRET_NEXT: NOT_FOUND: .*Create it with `npm run secret:generate -- --set INTEGRATIONS_CRON_SECRET_NEXT --project ads-hub-prod`\.\n$/);
    assert.deepEqual(stored, []);
  });
});
