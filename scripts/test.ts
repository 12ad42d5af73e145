/**
 * `npm test`: starts the Firestore, Auth, Functions and Hosting emulators (offline where the machine
 * has them), runs every test file with Node's test runner inside them (the browser tests last,
 * against the built Ads Hub), and stops them again.
 */
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { ROOT, emulatorEnv, emulatorProfile, exitCodeOf, firebase } from './emulators.js';
import { ensureLocalConfig, sandboxPort } from './localConfig.js';

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : testFiles(path);
    return name.endsWith('.test.ts') ? [relative(ROOT, path)] : [];
  });
}

const only = process.argv.slice(2);
const files = only.length > 0 ? only : testFiles(join(ROOT, 'test')).sort();
// Every test process records the queries functions/src runs; a last check then asks
// firestore.indexes.json for each one's index (the emulator ignores indexes).
const shapesDir = join(ROOT, '.test-queries');
rmSync(shapesDir, { recursive: true, force: true });
mkdirSync(shapesDir, { recursive: true });
// The browser tests drive the one project the Functions and Hosting emulators serve, so they
// run alone, after everything else. Every test is bounded: a hang fails that test instead of
// stalling the whole run.
const isBrowserTest = (file: string) => file.startsWith('test/e2e/');
const runner = (group: string[]) =>
  ['node', '--import', 'tsx', '--import', './test/indexes/recordQueries.ts', '--test', '--test-timeout=240000', '--test-reporter=spec', ...group].join(' ');
// The index check judges what the whole suite ran, so it runs with the whole suite only.
const indexCheck = only.length === 0 ? ['test/indexes/recorded.check.ts'] : [];
const groups = [files.filter((f) => !isBrowserTest(f)), files.filter(isBrowserTest), indexCheck].filter((g) => g.length > 0);
const command = groups.map(runner).join(' && ');
// The Functions emulator serves the built functions with the local cron keys, which the
// smoke test in test/functions needs to know. Its own ports and project (see emulators.ts),
// so it runs while `npm start` is up.
const profile = emulatorProfile('test');
const { cronKey, cronKeyNext } = ensureLocalConfig(profile);
const child = firebase(
  profile,
  ['emulators:exec', '--only', 'firestore,auth,functions,hosting', command],
  emulatorEnv({
    QUERY_SHAPES_DIR: shapesDir,
    FUNCTIONS_TEST_CRON_KEY: cronKey,
    FUNCTIONS_TEST_CRON_KEY_NEXT: cronKeyNext,
    FUNCTIONS_TEST_BASE_URL: profile.functionsBaseUrl,
    FUNCTIONS_TEST_PROJECT: profile.projectId,
    E2E_HOSTING_ORIGIN: profile.hostingOrigin,
    E2E_SANDBOX_PORT: String(sandboxPort(profile)),
  }),
  ['inherit', 'pipe', 'pipe'],
);

// The functions log one JSON line per endpoint call and per job (functions/src/logs.ts): tens
// of thousands in a full run. They are counted here and shown with TEST_LOGS=1; tests that
// are about the logs capture them themselves.
const showLogs = process.env.TEST_LOGS === '1';
let hidden = 0;
const relay = (from: Readable, to: Writable) =>
  new Promise<void>((resolve) => {
    const lines = createInterface({ input: from, crlfDelay: Infinity });
    lines.on('line', (line) => {
      if (!showLogs && /^(>\s+)?\{"severity":/.test(line)) hidden++;
      else to.write(`${line}\n`);
    });
    lines.on('close', resolve);
  });
const relayed = Promise.all([relay(child.stdout!, process.stdout), relay(child.stderr!, process.stderr)]);
const code = await exitCodeOf(child);
await relayed;
if (hidden > 0) console.log(`(${hidden} structured log lines of the functions not shown; TEST_LOGS=1 shows them)`);
process.exit(code);
