import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SECRET_NAMES } from '../../functions/src/config/secrets.js';
import { ROOT } from '../../scripts/emulators.js';
import { DEMO_PLATFORM_SECRETS, ensureLocalSecrets } from '../../scripts/localConfig.js';

const dir = mkdtempSync(join(tmpdir(), 'local-secrets-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('functions/.secret.local', () => {
  it('keeps every value and line already there, and adds only what is missing', () => {
    const file = join(dir, 'kept.secret.local');
    const current = 'a-local-current-key-0123456789-ABCDEFGHIJ';
    writeFileSync(file, `# my notes\nINTEGRATIONS_CRON_SECRET=${current}\nTIKTOK_APP_SECRET=my-own-tiktok-sandbox-secret\nEXTRA_SETTING=kept`);
    const keys = ensureLocalSecrets(file);
    assert.equal(keys.cronKey, current);
    const text = readFileSync(file, 'utf8');
    assert.match(text, /^# my notes\nINTEGRATIONS_CRON_SECRET=.*\nTIKTOK_APP_SECRET=my-own-tiktok-sandbox-secret\nEXTRA_SETTING=kept\n/);
    const names = text.split('\n').filter((line) => /^[A-Z_]+=/.test(line)).map((line) => line.split('=')[0]);
    assert.deepEqual([...names].sort(), [...SECRET_NAMES, 'EXTRA_SETTING'].sort(), 'each secret once');
    assert.match(text, new RegExp(`\nGOOGLE_OAUTH_CLIENT_SECRET=${DEMO_PLATFORM_SECRETS.GOOGLE_OAUTH_CLIENT_SECRET}\n`));
    assert.deepEqual(ensureLocalSecrets(file), keys);
    assert.equal(readFileSync(file, 'utf8'), text, 'a second run writes nothing');
  });

  it('runs that start at once on a fresh checkout agree on the keys', async () => {
    const file = join(dir, 'raced.secret.local');
    // Each run loads, says it is ready, and waits for the one signal that starts them all.
    const script =
      `import { ensureLocalSecrets } from ${JSON.stringify(join(ROOT, 'scripts/localConfig.ts'))};` +
      `process.stdout.write('ready\\n');` +
      `process.stdin.once('data', () => { process.stdout.write(JSON.stringify(ensureLocalSecrets(${JSON.stringify(file)}))); process.exit(0); });`;
    const children = Array.from({ length: 6 }, () => spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT }));
    const outputs = children.map((child) => {
      let out = '';
      const ready = new Promise<void>((resolve) => child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.startsWith('ready\n')) resolve();
      }));
      const done = new Promise<string>((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve(out.slice('ready\n'.length)) : reject(new Error(`exit ${code}`)))));
      return { ready, done };
    });
    await Promise.all(outputs.map((o) => o.ready));
    for (const child of children) child.stdin.write('go\n');
    const run = (i: number) => outputs[i]!.done;
    const results = await Promise.all(children.map((_, i) => run(i)));
    assert.equal(new Set(results).size, 1, results.join('\n'));
    const { cronKey, cronKeyNext } = JSON.parse(results[0]!) as { cronKey: string; cronKeyNext: string };
    assert.notEqual(cronKey, cronKeyNext);
    assert.equal(readFileSync(file, 'utf8').split('\n').filter((line) => line.startsWith('INTEGRATIONS_CRON_SECRET=')).length, 1);
    assert.deepEqual(readdirSync(dir).filter((name) => name.endsWith('.tmp')), [], 'no temporary file left');
  });
});
