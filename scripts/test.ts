/**
 * `npm test`: starts the Firestore, Auth and Functions emulators (offline where the machine has them),
 * runs every test file with Node's test runner inside them, and stops them again.
 */
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT, emulatorEnv, emulatorProfile, exitCodeOf, firebase } from './emulators.js';
import { ensureLocalConfig } from './localConfig.js';

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
const nodeTest = (paths: string[]) => ['node', '--import', 'tsx', '--import', './test/indexes/recordQueries.ts', '--test', '--test-reporter=spec', ...paths].join(' ');
const command = `${nodeTest(files)} && ${nodeTest(['test/indexes/recorded.check.ts'])}`;
// The Functions emulator serves the built functions with the local cron key, which the
// smoke test in test/functions needs to know.
// Its own ports and project (see emulators.ts), so it runs while `npm start` is up.
const profile = emulatorProfile('test');
const { cronKey } = ensureLocalConfig(profile);
const child = firebase(
  profile,
  ['emulators:exec', '--only', 'firestore,auth,functions', command],
  emulatorEnv({ QUERY_SHAPES_DIR: shapesDir, FUNCTIONS_TEST_CRON_KEY: cronKey, FUNCTIONS_TEST_BASE_URL: profile.functionsBaseUrl, FUNCTIONS_TEST_PROJECT: profile.projectId }),
);
process.exit(await exitCodeOf(child));
