import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deleteApp, initializeApp, type App } from 'firebase-admin/app';
import { getAuth, type Auth } from 'firebase-admin/auth';
import { getFirestore, type Firestore } from 'firebase-admin/firestore';
import { loadConfig } from '../../functions/src/config/index.js';
import { createAppContext, type AppContext } from '../../functions/src/context.js';
import { createEndpoints } from '../../functions/src/http/endpoints.js';
import { usesEmulatorProject } from '../setup/emulatorProjects.js';
import { clearEmulatorProject } from '../../scripts/emulatorData.js';

export const FIRESTORE_HOST = process.env.FIRESTORE_EMULATOR_HOST ?? '127.0.0.1:8080';
export const AUTH_HOST = process.env.FIREBASE_AUTH_EMULATOR_HOST ?? '127.0.0.1:9099';
process.env.FIRESTORE_EMULATOR_HOST = FIRESTORE_HOST;
process.env.FIREBASE_AUTH_EMULATOR_HOST = AUTH_HOST;

export const TEST_CRON_KEY = 'test-cron-key-0123456789abcdefghijklmnop';
export const ADMIN_EMAIL = 'admin@example.com';

export interface TestFirebase {
  projectId: string;
  app: App;
  db: Firestore;
  auth: Auth;
  clear(): Promise<void>;
  /** Ends this client; the last one of a project also clears it (test/setup/leaks.ts checks). */
  close(): Promise<void>;
}

/** Clients open per project: a test may open a second one (a worker that dies) beside its own. */
const openClients = new Map<string, number>();

/** Each test file gets its own emulator project, so files never see each other's data. */
export function testFirebase(name: string): TestFirebase {
  const projectId = `demo-${name}`;
  const app = initializeApp({ projectId }, `${name}-${randomUUID()}`);
  const db = getFirestore(app);
  const auth = getAuth(app);
  usesEmulatorProject(projectId);
  openClients.set(projectId, (openClients.get(projectId) ?? 0) + 1);
  const clear = () => clearEmulatorProject(projectId, { firestoreHost: FIRESTORE_HOST, authHost: AUTH_HOST });
  return {
    projectId,
    app,
    db,
    auth,
    clear,
    async close() {
      const open = (openClients.get(projectId) ?? 1) - 1;
      openClients.set(projectId, open);
      if (open === 0) await clear();
      await deleteApp(app);
    },
  };
}

export function testConfig(env: Record<string, string> = {}) {
  return loadConfig({
    INTEGRATIONS_CRON_SECRET: TEST_CRON_KEY,
    ADMIN_EMAILS: ADMIN_EMAIL,
    FUNCTIONS_EMULATOR: 'true',
    FIREBASE_AUTH_EMULATOR_HOST: AUTH_HOST,
    ...env,
  });
}

export function testContext(fb: TestFirebase, overrides: Partial<AppContext> = {}): AppContext {
  return createAppContext({ db: fb.db, auth: fb.auth, config: testConfig(), ...overrides });
}

export interface TestServer {
  url: string;
  close(): Promise<void>;
}

/** Serves the real endpoint handlers over real HTTP at /cron, /worker, ... */
export async function serveEndpoints(ctx: AppContext): Promise<TestServer> {
  const endpoints = createEndpoints(() => ctx);
  const server: Server = createServer((req, res) => {
    const name = (req.url ?? '/').split('?')[0]!.replace(/^\//, '') as keyof typeof endpoints;
    const handler = endpoints[name];
    if (!handler) {
      res.statusCode = 404;
      res.end('{}');
      return;
    }
    void handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface StoredDocument {
  /** Changes with every write, also one that stores equal data. */
  updateTime: string;
  /** The fields in the REST API's typed form. */
  fields: unknown;
}

/**
 * Every document in the project by path, with its update time: for "nothing changed"
 * assertions, which then also catch a rewrite of equal data. One query over all
 * collections at once (the emulator's REST API), so thousands of documents take a moment.
 */
export async function dumpDatabase(fb: Pick<TestFirebase, 'projectId' | 'db'>): Promise<Record<string, StoredDocument>> {
  const root = `projects/${fb.projectId}/databases/${fb.db.databaseId}/documents`;
  const response = await fetch(`http://${FIRESTORE_HOST}/v1/${root}:runQuery`, {
    method: 'POST',
    headers: { authorization: 'Bearer owner', 'content-type': 'application/json' },
    body: JSON.stringify({ structuredQuery: { from: [{ allDescendants: true }] } }),
  });
  if (!response.ok) throw new Error(`could not read the database (${response.status}): ${await response.text()}`);
  const results = (await response.json()) as { document?: { name: string; fields?: unknown; updateTime: string } }[];
  const out: Record<string, StoredDocument> = {};
  for (const { document } of results) {
    if (document) out[document.name.slice(root.length + 1)] = { updateTime: document.updateTime, fields: document.fields ?? {} };
  }
  return out;
}

/** The paths whose documents were added, changed (or rewritten) or deleted between two dumps. */
export function changedPaths(before: Record<string, StoredDocument>, after: Record<string, StoredDocument>): string[] {
  const paths = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...paths].filter((path) => before[path]?.updateTime !== after[path]?.updateTime).sort();
}

/**
 * Creates the user in the Auth emulator and returns an ID token of the form the emulator
 * itself issues (unsigned; the Admin SDK accepts those only while
 * FIREBASE_AUTH_EMULATOR_HOST is set). Verification still asks the emulator whether the
 * user exists, is enabled and has not been revoked.
 */
export async function idTokenFor(
  fb: TestFirebase,
  user: { email: string; emailVerified?: boolean; claims?: Record<string, unknown> },
): Promise<{ uid: string; token: string }> {
  const record = await fb.auth.createUser({ email: user.email, emailVerified: user.emailVerified ?? true });
  if (user.claims) await fb.auth.setCustomUserClaims(record.uid, user.claims);
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    ...user.claims,
    iss: `https://securetoken.google.com/${fb.projectId}`,
    aud: fb.projectId,
    auth_time: now,
    user_id: record.uid,
    sub: record.uid,
    iat: now,
    exp: now + 3600,
    email: user.email,
    email_verified: user.emailVerified ?? true,
    firebase: { identities: { email: [user.email] }, sign_in_provider: 'password' },
  };
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
  return { uid: record.uid, token: `${encode({ alg: 'none', typ: 'JWT' })}.${encode(payload)}.` };
}
