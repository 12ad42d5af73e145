/**
 * Starts the Firebase emulators without downloads where the machine already has Google's
 * emulators (Debian's google-cloud-sdk packages), and lets firebase-tools download its own
 * copies everywhere else.
 *
 * Two profiles: `start` (the ports of firebase.json, project demo-ads-hub) and `test`
 * (ports shifted by EMULATOR_PORT_OFFSET, default 10, project demo-ads-hub-test), so
 * `npm test` runs while `npm start` is up, and two checkouts can test side by side with
 * different offsets.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export type EmulatorProfileName = 'start' | 'test';

export interface EmulatorProfile {
  name: EmulatorProfileName;
  projectId: string;
  /** firebase.json for `start`; a generated, git-ignored copy with shifted ports for `test`. */
  configPath: string;
  firestoreHost: string;
  authHost: string;
  functionsOrigin: string;
  hostingOrigin: string;
  /** Base URL of the HTTP functions: `${functionsOrigin}/${projectId}/us-central1`. */
  functionsBaseUrl: string;
}

const BASE_PORTS = { firestore: 8080, firestoreWebsocket: 9150, auth: 9099, functions: 5001, hosting: 5000, pubsub: 8085, hub: 4400, logging: 4500 };
type PortName = keyof typeof BASE_PORTS;
/** Ports fetch (and browsers) refuse to open, e.g. 5061 for offset 60: moved 100 up, past every offset's range. */
const FETCH_BLOCKED_PORTS = new Set([5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6697, 10080]);

function shiftedPort(name: PortName, offset: number): number {
  const port = BASE_PORTS[name] + offset;
  return FETCH_BLOCKED_PORTS.has(port) ? port + 100 : port;
}

function testPortOffset(): number {
  const raw = process.env.EMULATOR_PORT_OFFSET ?? '10';
  const offset = Number(raw);
  if (!Number.isInteger(offset) || offset < 1 || offset > 90) {
    throw new Error(`EMULATOR_PORT_OFFSET must be an integer from 1 to 90 (got "${raw}")`);
  }
  return offset;
}

export function emulatorProfile(name: EmulatorProfileName): EmulatorProfile {
  const offset = name === 'test' ? testPortOffset() : 0;
  const port = (p: PortName) => shiftedPort(p, offset);
  const projectId = name === 'test' ? 'demo-ads-hub-test' : 'demo-ads-hub';
  const functionsOrigin = `http://127.0.0.1:${port('functions')}`;
  return {
    name,
    projectId,
    configPath: name === 'test' ? writeShiftedConfig(offset) : join(ROOT, 'firebase.json'),
    firestoreHost: `127.0.0.1:${port('firestore')}`,
    authHost: `127.0.0.1:${port('auth')}`,
    functionsOrigin,
    hostingOrigin: `http://127.0.0.1:${port('hosting')}`,
    functionsBaseUrl: `${functionsOrigin}/${projectId}/us-central1`,
  };
}

/** firebase.json with every emulator port shifted; kept beside it so relative paths still resolve. */
function writeShiftedConfig(offset: number): string {
  const config = JSON.parse(readFileSync(join(ROOT, 'firebase.json'), 'utf8')) as { emulators: Record<string, unknown> };
  const at = (p: PortName) => ({ host: '127.0.0.1', port: shiftedPort(p, offset) });
  config.emulators = {
    ...config.emulators,
    auth: at('auth'),
    firestore: { ...at('firestore'), websocketPort: shiftedPort('firestoreWebsocket', offset) },
    functions: at('functions'),
    hosting: at('hosting'),
    pubsub: at('pubsub'),
    hub: at('hub'),
    logging: at('logging'),
  };
  const path = join(ROOT, 'firebase.test.local.json');
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`);
  return path;
}

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

export const FIREBASE_BIN = join(ROOT, 'node_modules/.bin/firebase');

export function firebase(profile: EmulatorProfile, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(FIREBASE_BIN, [...args, '--project', profile.projectId, '--config', profile.configPath], { cwd: ROOT, env, stdio: 'inherit' });
}

export function exitCodeOf(child: ChildProcess): Promise<number> {
  return new Promise((resolveCode) => child.on('exit', (code, signal) => resolveCode(code ?? (signal ? 1 : 0))));
}
