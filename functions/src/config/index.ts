import { z } from 'zod';

const intFromEnv = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

/**
 * Every setting the functions read, parsed once. A missing or weak cron secret is not a
 * crash: it leaves `cronSecret` null, every guarded endpoint refuses, and health says why.
 */
const envSchema = z.object({
  INTEGRATIONS_CRON_SECRET: z.string().min(24, 'must be at least 24 characters').optional(),
  ADMIN_EMAILS: z
    .string()
    .default('')
    .transform((raw) =>
      raw
        .split(',')
        .map((e) => e.trim().toLowerCase())
        .filter((e) => e.length > 0),
    )
    .pipe(z.array(z.email())),
  SCHEDULER_ALERT_WEBHOOK_URL: z.url().optional().or(z.literal('').transform(() => undefined)),
  SCHEDULER_ALERT_FAILURE_THRESHOLD: intFromEnv(3, 1, 10_000),
  JOB_RETENTION_DAYS: intFromEnv(7, 1, 365),
  JOB_MAX_ATTEMPTS: intFromEnv(3, 1, 20),
  RETRY_BASE_MS: intFromEnv(60_000, 1, 3_600_000),
  RETRY_MAX_MS: intFromEnv(3_600_000, 1, 86_400_000),
  JOB_TIMEOUT_MS: intFromEnv(120_000, 100, 3_600_000),
  WORKER_CONCURRENCY: intFromEnv(8, 1, 64),
  WORKER_BUDGET_MS: intFromEnv(480_000, 1_000, 3_600_000),
  CIRCUIT_FAILURE_THRESHOLD: intFromEnv(5, 1, 1_000),
  CIRCUIT_COOLDOWN_MS: intFromEnv(600_000, 1_000, 86_400_000),
  FUNCTIONS_EMULATOR: z.string().optional(),
  FIREBASE_AUTH_EMULATOR_HOST: z.string().optional(),
  APP_VERSION: z.string().default('0.1.0'),
});

export interface Config {
  /** Null when missing or invalid: guarded endpoints then refuse every call. */
  readonly cronSecret: string | null;
  readonly adminEmails: readonly string[];
  readonly alerts: { readonly webhookUrl: string | null; readonly failureThreshold: number };
  readonly queue: {
    readonly retentionDays: number;
    readonly maxAttempts: number;
    readonly retryBaseMs: number;
    readonly retryMaxMs: number;
    readonly jobTimeoutMs: number;
    readonly concurrency: number;
    readonly workerBudgetMs: number;
    readonly circuitFailureThreshold: number;
    readonly circuitCooldownMs: number;
  };
  readonly runningInEmulator: boolean;
  readonly authEmulatorHost: string | null;
  readonly version: string;
  /** Human-readable problems, each naming the variable (never its value). */
  readonly problems: readonly string[];
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  // A bad variable is reported by name and then ignored, so the rest still load.
  const input: Record<string, string | undefined> = {};
  for (const key of Object.keys(envSchema.shape)) input[key] = env[key];
  let v: z.infer<typeof envSchema> | undefined;
  while (!v) {
    const parsed = envSchema.safeParse(input);
    if (parsed.success) {
      v = parsed.data;
      break;
    }
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0]);
      problems.push(`${key} ${issue.message}`);
      delete input[key];
    }
  }
  if (v.INTEGRATIONS_CRON_SECRET === undefined && !problems.some((p) => p.startsWith('INTEGRATIONS_CRON_SECRET'))) {
    problems.push('INTEGRATIONS_CRON_SECRET is not set');
  }
  const runningInEmulator = v.FUNCTIONS_EMULATOR === 'true';
  if (v.FIREBASE_AUTH_EMULATOR_HOST && !runningInEmulator) {
    problems.push('FIREBASE_AUTH_EMULATOR_HOST is set outside the emulator: ID tokens would not be verified');
  }
  return Object.freeze({
    cronSecret: problems.some((p) => p.startsWith('INTEGRATIONS_CRON_SECRET')) ? null : (v.INTEGRATIONS_CRON_SECRET ?? null),
    adminEmails: Object.freeze([...v.ADMIN_EMAILS]),
    alerts: Object.freeze({
      webhookUrl: v.SCHEDULER_ALERT_WEBHOOK_URL ?? null,
      failureThreshold: v.SCHEDULER_ALERT_FAILURE_THRESHOLD,
    }),
    queue: Object.freeze({
      retentionDays: v.JOB_RETENTION_DAYS,
      maxAttempts: v.JOB_MAX_ATTEMPTS,
      retryBaseMs: v.RETRY_BASE_MS,
      retryMaxMs: v.RETRY_MAX_MS,
      jobTimeoutMs: v.JOB_TIMEOUT_MS,
      concurrency: v.WORKER_CONCURRENCY,
      workerBudgetMs: v.WORKER_BUDGET_MS,
      circuitFailureThreshold: v.CIRCUIT_FAILURE_THRESHOLD,
      circuitCooldownMs: v.CIRCUIT_COOLDOWN_MS,
    }),
    runningInEmulator,
    authEmulatorHost: v.FIREBASE_AUTH_EMULATOR_HOST ?? null,
    version: v.APP_VERSION,
    problems: Object.freeze(problems),
  });
}

/** The config as safe to log: secrets replaced by whether they are set. */
export function redactedConfig(config: Config): Record<string, unknown> {
  return {
    ...config,
    cronSecret: config.cronSecret ? '<set>' : '<missing>',
    alerts: { ...config.alerts, webhookUrl: config.alerts.webhookUrl ? '<set>' : null },
  };
}
