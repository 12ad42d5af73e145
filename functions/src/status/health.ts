import type { Firestore } from 'firebase-admin/firestore';
import type { Config } from '../config/index.js';

export interface HealthCheck {
  ok: boolean;
  latencyMs: number;
  error?: string;
}

export interface HealthReport {
  status: 'healthy' | 'unhealthy';
  checks: { firestore: HealthCheck; config: HealthCheck & { problems: readonly string[] } };
  uptimeMs: number;
  version: string;
}

const FIRESTORE_TIMEOUT_MS = 3_000;

/** Never includes a secret: config problems name variables, not values. */
export async function checkHealth(db: Firestore, config: Config, startedAt: number): Promise<HealthReport> {
  const firestore = await checkFirestore(db);
  const configCheck = { ok: config.problems.length === 0, latencyMs: 0, problems: config.problems };
  return {
    status: firestore.ok && configCheck.ok ? 'healthy' : 'unhealthy',
    checks: { firestore, config: configCheck },
    uptimeMs: Date.now() - startedAt,
    version: config.version,
  };
}

async function checkFirestore(db: Firestore): Promise<HealthCheck> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const read = db.collection('admin').doc('scheduler').get();
  // The read may settle after the timeout won the race; it must not surface as unhandled.
  read.catch(() => undefined);
  try {
    await Promise.race([
      read,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${FIRESTORE_TIMEOUT_MS} ms`)), FIRESTORE_TIMEOUT_MS);
      }),
    ]);
    return { ok: true, latencyMs: Date.now() - started };
  } catch (error) {
    return { ok: false, latencyMs: Date.now() - started, error: `unreachable: ${error instanceof Error ? error.message.split('\n')[0] : 'unknown error'}` };
  } finally {
    clearTimeout(timer);
  }
}
