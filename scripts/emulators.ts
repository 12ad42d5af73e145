/**
 * Starts the Firebase emulators without downloads where the machine already has Google's
 * emulators (Debian's google-cloud-sdk packages), and lets firebase-tools download its own
 * copies everywhere else.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const PROJECT_ID = 'demo-ads-hub';
export const FIRESTORE_HOST = '127.0.0.1:8080';
export const AUTH_HOST = '127.0.0.1:9099';
export const FUNCTIONS_ORIGIN = 'http://127.0.0.1:5001';
export const HOSTING_ORIGIN = 'http://127.0.0.1:5000';

const SDK = '/usr/lib/google-cloud-sdk/platform';
const FIRESTORE_JAR = join(SDK, 'cloud-firestore-emulator/cloud-firestore-emulator.jar');
const PUBSUB_BIN = join(SDK, 'pubsub-emulator/bin/cloud-pubsub-emulator');
const FIRESTORE_MAIN = 'com.google.cloud.datastore.emulator.firestore.CloudFirestore';

/**
 * firebase-tools runs `java -jar $FIRESTORE_EMULATOR_BINARY_PATH`; the SDK's jar has no
 * Main-Class, so a two-line wrapper jar names it and puts the real jar on the class path.
 */
function firestoreWrapperJar(): string | null {
  if (!existsSync(FIRESTORE_JAR)) return null;
  const dir = join(ROOT, '.emulators');
  const jar = join(dir, 'firestore-wrapper.jar');
  if (existsSync(jar)) return jar;
  mkdirSync(dir, { recursive: true });
  const manifest = join(dir, 'MANIFEST.MF');
  writeFileSync(manifest, `Main-Class: ${FIRESTORE_MAIN}\nClass-Path: ${FIRESTORE_JAR}\n`);
  const made = spawnSync('jar', ['--create', '--file', jar, '--manifest', manifest], { stdio: 'inherit' });
  if (made.status !== 0) {
    console.warn('Could not build the Firestore wrapper jar (is the JDK `jar` tool installed?); firebase-tools will download its emulator.');
    return null;
  }
  return jar;
}

/** Environment for firebase-tools: local emulator binaries when present. */
export function emulatorEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  const jar = firestoreWrapperJar();
  if (jar && !env.FIRESTORE_EMULATOR_BINARY_PATH) env.FIRESTORE_EMULATOR_BINARY_PATH = jar;
  if (existsSync(PUBSUB_BIN) && !env.PUBSUB_EMULATOR_BINARY_PATH) env.PUBSUB_EMULATOR_BINARY_PATH = PUBSUB_BIN;
  return env;
}

const FIREBASE_BIN = join(ROOT, 'node_modules/.bin/firebase');

export function firebase(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(FIREBASE_BIN, [...args, '--project', PROJECT_ID], { cwd: ROOT, env, stdio: 'inherit' });
}

export function exitCodeOf(child: ChildProcess): Promise<number> {
  return new Promise((resolveCode) => child.on('exit', (code, signal) => resolveCode(code ?? (signal ? 1 : 0))));
}
