/**
 * The test layers, each run with Node's test runner:
 *
 * - `unit`: test/unit/, no emulator, no sandbox; runs in seconds, so it goes first.
 * - `emulator`: every other test file but the browser tests, inside the Firestore, Auth,
 *   Functions and Hosting emulators (offline where the machine has them); then the index check.
 * - `browser`: test/e2e/, Chromium against the built Ads Hub, in the same emulators.
 *
 * `tsx scripts/test.ts` runs all three; `tsx scripts/test.ts unit` (or `emulator browser`)
 * runs those layers; `tsx scripts/test.ts <files>` runs just those files, starting the
 * emulators only when one of them needs them.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { ROOT, emulatorEnv, emulatorProfile, exitCodeOf, firebase } from './emulators.js';
import { ensureLocalConfig, sandboxPort } from './localConfig.js';

const LAYERS = ['unit', 'emulator', 'browser'] as const;
type Layer = (typeof LAYERS)[number];
const isLayer = (arg: string): arg is Layer => (LAYERS as readonly string[]).includes(arg);

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : testFiles(path);
    return name.endsWith('.test.ts') ? [relative(ROOT, path)] : [];
  });
}

function layerOf(file: string): Layer {
  if (file.startsWith('test/unit/')) return 'unit';
  if (file.startsWith('test/e2e/')) return 'browser';
  return 'emulator';
}

const args = process.argv.slice(2);
const layerArgs = args.filter(isLayer);
const fileArgs = args.filter((arg) => !isLayer(arg)).map((file) => relative(ROOT, join(process.cwd(), file)));
const files = fileArgs.length > 0 ? fileArgs : testFiles(join(ROOT, 'test')).sort();
const selected = (layer: Layer) => {
  if (layerArgs.length > 0 && !layerArgs.includes(layer)) return [];
  return files.filter((file) => layerOf(file) === layer);
};
const unitFiles = selected('unit');
const emulatorFiles = selected('emulator');
const browserFiles = selected('browser');
// The index check judges what the whole emulator layer ran, so it runs only after all of it.
const indexCheck = fileArgs.length === 0 && emulatorFiles.length > 0 ? ['test/indexes/recorded.check.ts'] : [];

// Every test is bounded: a hang fails that test instead of stalling the whole run. Every file
// ends as soon as its tests and hooks are done (--test-force-exit), after test/setup/leaks.ts
// has checked that it left no server, socket, timer, child process or emulator data behind.
// The chaos soak is one test that runs long on purpose (worker processes, kills, stale
// resets; about 90 s on a quiet machine, 4 minutes on a loaded one): it runs in a group of its
// own, bounded at 8 minutes instead of 4.
const LONG_RUNNING = new Set(['test/chaos/soak.test.ts']);
const timeoutOf = (group: string[]) => (group.some((file) => LONG_RUNNING.has(file)) ? 480_000 : 240_000);
const nodeArgs = (group: string[]) => [
  '--import', 'tsx',
  '--import', './test/setup/leaks.ts',
  '--import', './test/indexes/recordQueries.ts',
  '--test', '--test-force-exit', `--test-timeout=${timeoutOf(group)}`, '--test-reporter=spec',
  ...group,
];

let code = 0;
if (unitFiles.length > 0) {
  // No emulator: a unit test that reached for one would fail here, not quietly use `npm start`'s.
  const env = { ...process.env };
  for (const name of ['FIRESTORE_EMULATOR_HOST', 'FIREBASE_AUTH_EMULATOR_HOST', 'QUERY_SHAPES_DIR']) delete env[name];
  const child = spawn(process.execPath, nodeArgs(unitFiles), { cwd: ROOT, env, stdio: 'inherit' });
  code = await exitCodeOf(child);
}
if (code === 0 && emulatorFiles.length + browserFiles.length > 0) {
  const [long, regular] = [emulatorFiles.filter((f) => LONG_RUNNING.has(f)), emulatorFiles.filter((f) => !LONG_RUNNING.has(f))];
  code = await inEmulators([regular, long, browserFiles, indexCheck]);
}
process.exit(code);

/**
 * Runs the groups one after another inside one start of the emulators. The browser tests drive
 * the one project the Functions and Hosting emulators serve, so they run alone, after the rest.
 */
async function inEmulators(groups: string[][]): Promise<number> {
  // Every test process records the queries functions/src runs; a last check then asks
  // firestore.indexes.json for each one's index (the emulator ignores indexes).
  const shapesDir = join(ROOT, '.test-queries');
  rmSync(shapesDir, { recursive: true, force: true });
  mkdirSync(shapesDir, { recursive: true });
  const command = groups.filter((g) => g.length > 0).map((group) => ['node', ...nodeArgs(group)].join(' ')).join(' && ');
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
  const exitCode = await exitCodeOf(child);
  await relayed;
  if (hidden > 0) console.log(`(${hidden} structured log lines of the functions not shown; TEST_LOGS=1 shows them)`);
  return exitCode;
}
