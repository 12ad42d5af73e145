/**
 * `npm test`: starts the Firestore and Auth emulators (offline where the machine has them),
 * runs every test file with Node's test runner inside them, and stops them again.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT, emulatorEnv, exitCodeOf, firebase } from './emulators.js';

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : testFiles(path);
    return name.endsWith('.test.ts') ? [relative(ROOT, path)] : [];
  });
}

const only = process.argv.slice(2);
const files = only.length > 0 ? only : testFiles(join(ROOT, 'test')).sort();
const command = ['node', '--import', 'tsx', '--test', '--test-reporter=spec', ...files].join(' ');
const child = firebase(['emulators:exec', '--only', 'firestore,auth', command], emulatorEnv());
process.exit(await exitCodeOf(child));
