/**
 * The chaos soak (scripts/chaos/soak.ts) at 1,000 users x 4 platforms: the figures of the
 * system under many faults at once, and whether every invariant held.
 */
import { runSoak } from '../chaos/soak.js';

process.env.FIRESTORE_EMULATOR_HOST ??= '127.0.0.1:8080';

export async function runChaosBenchmarks(): Promise<string[][]> {
  const users = Number(process.env.CHAOS_USERS ?? 1000);
  const { figures: f, violations } = await runSoak({
    users,
    kills: 8,
    workers: 6,
    down: { provider: 'google', forMs: 60_000 },
    latencyMs: 200,
    lookbackDays: 1,
    env: {
      JOB_TIMEOUT_MS: '30000',
      JOB_LEASE_MARGIN_MS: '5000',
      WORKER_BUDGET_MS: '120000',
      RETRY_BASE_MS: '2000',
      RETRY_MAX_MS: '20000',
      JOB_MAX_ATTEMPTS: '10',
      CIRCUIT_FAILURE_THRESHOLD: '5',
      CIRCUIT_COOLDOWN_MS: '10000',
    },
    timeoutMs: 40 * 60_000,
    log: (line) => console.log(`[chaos] ${line}`),
  });
  console.log(`[chaos] figures ${JSON.stringify(f)}`);
  for (const v of violations.slice(0, 20)) console.log(`[chaos] violation: ${v}`);
  const s = (ms: number | null) => (ms === null ? 'never' : `${(ms / 1000).toFixed(1)} s`);
  return [
    [
      `chaos soak, ${users.toLocaleString('en')} users × 4 platforms: 5 % 5xx, 429 bursts, Google down 60 s, 2 % revoked, ${f.kills} workers SIGKILLed, stale resets alongside, duplicate deliveries`,
      `99.9 % fresh after ${s(f.freshMs)} (all done ${s(f.durationMs)}); ${f.apiCallsPerSync} API calls per sync; ${f.retries} retries (most attempts of one job ${f.maxAttempts}); ${f.resets} resets; ${f.workersStarted} worker processes; ${violations.length} invariant violations`,
      'n/a',
      'every invariant holds',
      violations.length === 0 ? 'met' : 'missed',
    ],
  ];
}
