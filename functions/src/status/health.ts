import type { Firestore } from 'firebase-admin/firestore';
import type { Config } from '../config/index.js';
import { apiVersionStatus, type ApiVersionStatus } from '../providers/index.js';

export interface HealthCheck {
  ok: boolean;
  latencyMs: number;
  error?: string;
}

export interface HealthReport {
  status: 'healthy' | 'unhealthy';
  checks: { firestore: HealthCheck; config: HealthCheck & { problems: readonly string[] } };
  /**
   * The platform API versions the connectors are pinned to. A version within
   * 60 days (SUNSET_WARNING_DAYS) of its sunset is listed in `expiring` with a message, without making
   * the service unhealthy: moving to the next version is an operator's task
   * (docs/operations.md), not an outage.
   */
  apiVersions: { expiring: string[]; pinned: ApiVersionStatus[] };
  uptimeMs: number;
  version: string;
}

const FIRESTORE_TIMEOUT_MS = 3_000;

/** Never includes a secret: config problems name variables, not values. */
export async function checkHealth(db: Firestore, config: Config, startedAt: number, now = Date.now()): Promise<HealthReport> {
  const firestore = await checkFirestore(db);
  const configCheck = { ok: config.problems.length === 0, latencyMs: 0, problems: config.problems };
  const pinned = apiVersionStatus(now);
  return {
    status: firestore.ok && configCheck.ok ? 'healthy' : 'unhealthy',
    checks: { firestore, config: configCheck },
    apiVersions: { expiring: pinned.filter((v) => v.expiring).map(expiryMessage), pinned },
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

function expiryMessage(v: ApiVersionStatus): string {
  const when = v.daysLeft !== null && v.daysLeft < 0 ? `was sunset on ${v.sunsetOn}` : `is sunset on ${v.sunsetOn} (in ${v.daysLeft} days)`;
  return `${v.provider} API version ${v.version} ${when}; move to the next version (docs/operations.md). Source: ${v.source}`;
}
