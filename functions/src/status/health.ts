import type { Firestore } from 'firebase-admin/firestore';
import { currentPolicy } from '../alerts/index.js';
import { openedByFailures, readBacklog } from '../alerts/monitor.js';
import type { Config } from '../config/index.js';
import { apiVersionStatus, type ApiVersionStatus } from '../providers/index.js';
import { isOpen } from '../queue/index.js';
import { loadCircuits } from '../scheduler/jobs.js';
import { PROVIDER_LABELS, SCHEDULER_PATH, type ProviderId } from '../schema/index.js';

export interface HealthCheck {
  ok: boolean;
  latencyMs: number;
  error?: string;
}

export interface PausedPlatform {
  providerId: ProviderId;
  /** Until when (ISO). */
  until: string;
  /** `failures`: the circuit opened (unhealthy); `rate-limit`: the platform's own limit, waited out (healthy). */
  reason: 'failures' | 'rate-limit';
}

export interface HealthReport {
  status: 'healthy' | 'unhealthy';
  /** What failed, one line each: what a 503 is about. Empty when healthy. */
  failed: string[];
  checks: {
    /** A read of one document: the round trip to Firestore. */
    firestore: HealthCheck;
    config: HealthCheck & { problems: readonly string[] };
    /** Platforms paused now; unhealthy when a circuit opened after failures. */
    circuits: HealthCheck & { paused: PausedPlatform[] };
    /** The oldest due job; unhealthy when it has waited longer than the backlog limit. */
    queue: HealthCheck & { oldestDueAgeMs: number | null; overdue: number; limitMinutes: number };
  };
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

const CHECK_TIMEOUT_MS = 3_000;

/** Runs one check against its own timeout; a check that throws or is late fails with why. */
async function timed<T>(work: () => Promise<T>): Promise<{ ok: true; value: T; latencyMs: number } | { ok: false; error: string; latencyMs: number }> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const running = work();
  // The work may settle after the timeout won the race; it must not surface as unhandled.
  running.catch(() => undefined);
  try {
    const value = await Promise.race([
      running,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { ok: true, value, latencyMs: Date.now() - started };
  } catch (error) {
    return { ok: false, error: `unreachable: ${error instanceof Error ? error.message.split('\n')[0] : 'unknown error'}`, latencyMs: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

const minutes = (ms: number) => Math.floor(ms / 60_000);

/**
 * Never includes a secret, nor anything a platform said: config problems name variables,
 * paused platforms only their name and until when (the circuit's last error stays in the
 * admin view), the queue only counts and ages.
 */
export async function checkHealth(db: Firestore, config: Config, startedAt: number, now = Date.now()): Promise<HealthReport> {
  const failed: string[] = [];
  const [firestoreRead, circuitsRead, queueRead] = await Promise.all([
    timed(() => db.doc(SCHEDULER_PATH).get()),
    timed(() => loadCircuits(db)),
    timed(async () => {
      const { backlogMs } = await currentPolicy({ db, config: config.alerts });
      return { backlogMs, ...(await readBacklog(db, backlogMs, now)) };
    }),
  ]);

  const firestore: HealthCheck = firestoreRead.ok ? { ok: true, latencyMs: firestoreRead.latencyMs } : { ok: false, latencyMs: firestoreRead.latencyMs, error: firestoreRead.error };
  if (!firestore.ok) failed.push(`firestore: ${firestore.error}`);

  const configCheck = { ok: config.problems.length === 0, latencyMs: 0, problems: config.problems };
  for (const problem of config.problems) failed.push(`config: ${problem}`);

  let circuits: HealthReport['checks']['circuits'];
  if (circuitsRead.ok) {
    const paused: PausedPlatform[] = [...circuitsRead.value.values()]
      .filter((c) => isOpen(c, now))
      .map((c) => ({
        providerId: c.providerId,
        until: c.openUntil!.toISOString(),
        reason: openedByFailures(c, config.queue.circuitFailureThreshold, now) ? 'failures' : 'rate-limit',
      }));
    const broken = paused.filter((p) => p.reason === 'failures');
    for (const p of broken) failed.push(`circuits: ${PROVIDER_LABELS[p.providerId]} is paused after repeated failures until ${p.until}`);
    circuits = { ok: broken.length === 0, latencyMs: circuitsRead.latencyMs, paused };
  } else {
    circuits = { ok: false, latencyMs: circuitsRead.latencyMs, error: circuitsRead.error, paused: [] };
    failed.push(`circuits: ${circuitsRead.error}`);
  }

  let queue: HealthReport['checks']['queue'];
  if (queueRead.ok) {
    const { backlogMs, oldestDueAt, overdue } = queueRead.value;
    const age = oldestDueAt === null ? null : Math.max(0, now - oldestDueAt);
    const ok = overdue === 0;
    if (!ok) failed.push(`queue: ${overdue} due job(s) waited more than ${minutes(backlogMs)} minutes; the oldest ${minutes(age ?? 0)} minutes`);
    queue = { ok, latencyMs: queueRead.latencyMs, oldestDueAgeMs: age, overdue, limitMinutes: minutes(backlogMs) };
  } else {
    queue = { ok: false, latencyMs: queueRead.latencyMs, error: queueRead.error, oldestDueAgeMs: null, overdue: 0, limitMinutes: config.alerts.backlogMinutes };
    failed.push(`queue: ${queueRead.error}`);
  }

  const pinned = apiVersionStatus(now);
  return {
    status: failed.length === 0 ? 'healthy' : 'unhealthy',
    failed,
    checks: { firestore, config: configCheck, circuits, queue },
    apiVersions: { expiring: pinned.filter((v) => v.expiring).map(expiryMessage), pinned },
    uptimeMs: Date.now() - startedAt,
    version: config.version,
  };
}

function expiryMessage(v: ApiVersionStatus): string {
  const when = v.daysLeft !== null && v.daysLeft < 0 ? `was sunset on ${v.sunsetOn}` : `is sunset on ${v.sunsetOn} (in ${v.daysLeft} days)`;
  return `${v.provider} API version ${v.version} ${when}; move to the next version (docs/operations.md). Source: ${v.source}`;
}
