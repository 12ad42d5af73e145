import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cronKeySchema } from '../../functions/src/config/index.js';
import { generateCronKey, runCronKeyCli, secretsSetArgs, type CronKeyCliDeps } from '../../scripts/cronKey.js';
import { ROOT } from '../../scripts/emulators.js';
import { startFakeGoogleApis, type FakeGoogleApis } from '../helpers/googleApis.js';

const PROJECT = 'ads-hub-prod';
const KEY_PATTERN = /[A-Za-z0-9_-]{43}/;
const EMPTY_DIR = mkdtempSync(join(tmpdir(), 'cron-key-'));

let fake: FakeGoogleApis;
before(async () => {
  fake = await startFakeGoogleApis();
});
after(() => fake.close());

/** The CLI with firebase-tools' `functions:secrets:set` replaced by a recorder. */
async function cli(args: string[], setExitCode = 0) {
  const stored: { name: string; value: string; project?: string; force: boolean }[] = [];
  let output = '';
  const deps: CronKeyCliDeps = {
    env: {},
    cwd: EMPTY_DIR,
    stdout: (text) => (output += text),
    stderr: (text) => (output += text),
    clientOptions: fake.clientOptions,
    setSecret: async (name, value, options) => {
      stored.push({ name, value, ...options });
      return setExitCode;
    },
  };
  const code = await runCronKeyCli(args, deps);
  return { code, stored, output };
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
    assert.equal(code, 0);
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
    const { code, stored } = await cli(['--set', 'INTEGRATIONS_CRON_SECRET', '--set', 'INTEGRATIONS_CRON_SECRET_NEXT'], 1);
    assert.equal(code, 1);
    assert.deepEqual(stored.map((s) => s.name), ['INTEGRATIONS_CRON_SECRET']);
  });

  it('sets cron key secrets only', async () => {
    const { code, stored, output } = await cli(['--set', 'GOOGLE_OAUTH_CLIENT_SECRET']);
    assert.equal(code, 2);
    assert.equal(output, 'error: --set must name a cron key secret (INTEGRATIONS_CRON_SECRET or INTEGRATIONS_CRON_SECRET_NEXT), not GOOGLE_OAUTH_CLIENT_SECRET\n');
    assert.deepEqual(stored, []);
  });
});

describe('npm run secret:promote', () => {
  const secret = (name: string) => `projects/${PROJECT}/secrets/${name}`;
  const CURRENT = generateCronKey();
  const NEXT = generateCronKey();

  it('makes the next key the current one, without showing it', async () => {
    fake.secrets.set(secret('INTEGRATIONS_CRON_SECRET'), CURRENT);
    fake.secrets.set(secret('INTEGRATIONS_CRON_SECRET_NEXT'), `${NEXT}\n`);
    const { code, stored, output } = await cli(['promote', '--project', PROJECT, '--force']);
    assert.equal(code, 0, output);
    assert.deepEqual(stored, [{ name: 'INTEGRATIONS_CRON_SECRET', value: NEXT, project: PROJECT, force: true }]);
    assert.doesNotMatch(output, KEY_PATTERN);
  });

  it('does nothing when the current key already is the next one', async () => {
    fake.secrets.set(secret('INTEGRATIONS_CRON_SECRET'), NEXT);
    const { code, stored, output } = await cli(['promote', '--project', PROJECT]);
    assert.equal(code, 0);
    assert.deepEqual(stored, []);
    assert.equal(output, 'INTEGRATIONS_CRON_SECRET already holds the next key: nothing to promote.\n');
  });

  it('names what is missing: the project, or the next key', async () => {
    assert.deepEqual((await cli(['promote'])).code, 2);
    fake.secrets.delete(secret('INTEGRATIONS_CRON_SECRET_NEXT'));
    const { code, stored, output } = await cli(['promote', '--project', PROJECT]);
    assert.equal(code, 1);
    assert.match(output, /^error: reading secret INTEGRATIONS_CRON_SECRET_NEXT: NOT_FOUND: .*Create it with `npm run secret:generate -- --set INTEGRATIONS_CRON_SECRET_NEXT --project ads-hub-prod`\.\n$/);
    assert.deepEqual(stored, []);
  });
});
