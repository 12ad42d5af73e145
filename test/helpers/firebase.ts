import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deleteApp, initializeApp, type App } from 'firebase-admin/app';
import { getAuth, type Auth } from 'firebase-admin/auth';
import { getFirestore, type DocumentReference, type Firestore } from 'firebase-admin/firestore';
import { loadConfig } from '../../functions/src/config/index.js';
import { createAppContext, type AppContext } from '../../functions/src/context.js';
import { createEndpoints } from '../../functions/src/http/endpoints.js';

export const FIRESTORE_HOST = process.env.FIRESTORE_EMULATOR_HOST ?? '127.0.0.1:8080';
export const AUTH_HOST = process.env.FIREBASE_AUTH_EMULATOR_HOST ?? '127.0.0.1:9099';
process.env.FIRESTORE_EMULATOR_HOST = FIRESTORE_HOST;
process.env.FIREBASE_AUTH_EMULATOR_HOST = AUTH_HOST;

export const TEST_CRON_KEY = 'test-cron-key-0123456789abcdef';
export const ADMIN_EMAIL = 'admin@example.com';

export interface TestFirebase {
  projectId: string;
  app: App;
  db: Firestore;
  auth: Auth;
  clear(): Promise<void>;
  close(): Promise<void>;
}

/** Each test file gets its own emulator project, so files never see each other's data. */
export function testFirebase(name: string): TestFirebase {
  const projectId = `demo-${name}`;
  const app = initializeApp({ projectId }, `${name}-${randomUUID()}`);
  const db = getFirestore(app);
  const auth = getAuth(app);
  return {
    projectId,
    app,
    db,
    auth,
    async clear() {
      const [fs, au] = await Promise.all([
        fetch(`http://${FIRESTORE_HOST}/emulator/v1/projects/${projectId}/databases/(default)/documents`, { method: 'DELETE' }),
        fetch(`http://${AUTH_HOST}/emulator/v1/projects/${projectId}/accounts`, { method: 'DELETE' }),
      ]);
      if (!fs.ok || !au.ok) throw new Error(`could not clear the emulators (${fs.status}, ${au.status})`);
    },
    async close() {
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

/** Every document in the project, by path: for "nothing changed" assertions. */
export async function dumpDatabase(db: Firestore): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const walk = async (refs: DocumentReference[]) => {
    for (const ref of refs) {
      const snap = await ref.get();
      if (snap.exists) out[ref.path] = JSON.parse(JSON.stringify(snap.data()));
      for (const col of await ref.listCollections()) await walk(await col.listDocuments());
    }
  };
  for (const col of await db.listCollections()) await walk(await col.listDocuments());
  return out;
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
