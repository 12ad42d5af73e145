import * as logger from 'firebase-functions/logger';
import { z } from 'zod';
import type { ConnectorsConfig } from '../providers/index.js';
import type { BudgetSettings } from '../schema/budgets.js';
import { PROVIDER_IDS, providerIdSchema, type ProviderId } from '../schema/common.js';
import { queueTimeProblems } from './limits.js';
import { SECRET_NAMES, type SecretName } from './secrets.js';

/** A key of `npm run secret:generate` (43 random base64url characters) has about 31 different characters. */
export const CRON_KEY_MIN_LENGTH = 32;
export const CRON_KEY_MIN_DISTINCT = 16;

/**
 * A cron key: long, varied enough not to be a word or a pattern, and sendable as an HTTP
 * header value. Surrounding whitespace (a newline from `echo key | firebase
 * functions:secrets:set`) is dropped, as HTTP drops it from headers.
 */
export const cronKeySchema = z
  .string()
  .trim()
  .min(CRON_KEY_MIN_LENGTH, { message: `must be at least ${CRON_KEY_MIN_LENGTH} characters`, abort: true })
  .regex(/^[\x21-\x7e]+$/, { message: 'must be printable ASCII without spaces', abort: true })
  .refine(
    (key) => new Set(key).size >= CRON_KEY_MIN_DISTINCT,
    `must use at least ${CRON_KEY_MIN_DISTINCT} different characters (a random key does; \`npm run secret:generate\` makes one)`,
  );

/** An empty or blank next key (a secret version holding only a newline) means no rotation is under way. */
const optionalCronKey = z.preprocess((value) => (typeof value === 'string' && value.trim() === '' ? undefined : value), cronKeySchema.optional());

const intFromEnv = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

/**
 * Every setting the functions read, parsed once. A missing or weak cron secret is not a
 * crash: it leaves `cronSecret` null, every guarded endpoint refuses, and health says why.
 */
const envSchema = z.object({
  INTEGRATIONS_CRON_SECRET: cronKeySchema.optional(),
  /** Accepted beside the current key during a rotation; unset (or blank), or equal to it, otherwise. */
  INTEGRATIONS_CRON_SECRET_NEXT: optionalCronKey,
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
  /** One alert per key per this many minutes (admins may change it in the Ads Hub). */
  SCHEDULER_ALERT_THROTTLE_MINUTES: intFromEnv(60, 1, 7 * 24 * 60),
  /** A due job waiting longer than this is a backlog (admins may change it in the Ads Hub). */
  SCHEDULER_ALERT_BACKLOG_MINUTES: intFromEnv(60, 5, 7 * 24 * 60),
  /** The longest a run waits for the webhook, all alerts together. */
  SCHEDULER_ALERT_TIMEOUT_MS: intFromEnv(3_000, 100, 30_000),
  /** The Ads Hub's address, for the button in alerts; default https://<project>.web.app. */
  ADS_HUB_URL: z.url().optional(),
  GCLOUD_PROJECT: z.string().optional(),
  JOB_RETENTION_DAYS: intFromEnv(7, 1, 365),
  JOB_MAX_ATTEMPTS: intFromEnv(3, 1, 20),
  RETRY_BASE_MS: intFromEnv(60_000, 1, 3_600_000),
  RETRY_MAX_MS: intFromEnv(3_600_000, 1, 86_400_000),
  JOB_TIMEOUT_MS: intFromEnv(120_000, 100, 3_600_000),
  WORKER_CONCURRENCY: intFromEnv(8, 1, 64),
  WORKER_BUDGET_MS: intFromEnv(480_000, 1_000, 3_600_000),
  /** Added to JOB_TIMEOUT_MS for a job's lease: time for its outcome to be written. */
  JOB_LEASE_MARGIN_MS: intFromEnv(60_000, 1_000, 3_600_000),
  CIRCUIT_FAILURE_THRESHOLD: intFromEnv(5, 1, 1_000),
  CIRCUIT_COOLDOWN_MS: intFromEnv(600_000, 1_000, 86_400_000),
  /** Platform API origins; unset means the real platforms. `npm start` points them at the sandbox. */
  META_API_BASE_URL: z.url().optional(),
  GOOGLE_ADS_API_BASE_URL: z.url().optional(),
  GOOGLE_OAUTH_BASE_URL: z.url().optional(),
  LINKEDIN_API_BASE_URL: z.url().optional(),
  LINKEDIN_OAUTH_BASE_URL: z.url().optional(),
  TIKTOK_API_BASE_URL: z.url().optional(),
  /** OAuth apps and the Google developer token: a platform is synced only when its app is set. */
  GOOGLE_ADS_DEVELOPER_TOKEN: z.string().min(1).optional(),
  GOOGLE_OAUTH_CLIENT_ID: z.string().min(1).optional(),
  GOOGLE_OAUTH_CLIENT_SECRET: z.string().min(1).optional(),
  GOOGLE_ADS_LOGIN_CUSTOMER_ID: z.string().regex(/^\d{10}$/, 'must be 10 digits').optional(),
  LINKEDIN_CLIENT_ID: z.string().min(1).optional(),
  LINKEDIN_CLIENT_SECRET: z.string().min(1).optional(),
  TIKTOK_APP_ID: z.string().min(1).optional(),
  TIKTOK_APP_SECRET: z.string().min(1).optional(),
  META_ENABLED: z.enum(['true', 'false']).default('true'),
  /** The connect flow (OAuth authorization code): Meta's app, the authorize pages' origins, where platforms send users back. */
  META_APP_ID: z.string().min(1).optional(),
  META_APP_SECRET: z.string().min(1).optional(),
  META_AUTHORIZE_BASE_URL: z.url().optional(),
  GOOGLE_AUTHORIZE_BASE_URL: z.url().optional(),
  OAUTH_REDIRECT_URI: z.url().optional(),
  /** Share of each platform's request budget that backfills may use. */
  BACKFILL_RATE_SHARE: z.coerce.number().min(0.05).max(1).default(0.25),
  BACKFILL_CHUNK_DAYS: intFromEnv(90, 1, 366),
  /**
   * Function instances that may send to the platforms at once (worker, process and
   * start-request instances): each paces itself to this fraction of a platform's rate.
   */
  PACING_INSTANCES: intFromEnv(1, 1, 100),
  /**
   * Requests a day per platform, `google=15000,linkedin=100000`: the scheduler plans each day
   * within them (docs/architecture.md, "Daily budgets"). Google Ads Basic access allows 15,000
   * operations a day per developer token; a platform left out is not budgeted; empty: none.
   */
  DAILY_API_BUDGETS: z
    .string()
    .default('google=15000')
    .transform((raw, ctx) => {
      const budgets: Partial<Record<ProviderId, number>> = {};
      for (const entry of raw.split(',').map((e) => e.trim()).filter((e) => e.length > 0)) {
        const match = /^([a-z]+)=(\d+)$/.exec(entry);
        const provider = providerIdSchema.safeParse(match?.[1]);
        const budget = Number(match?.[2]);
        if (!match || !provider.success || !Number.isSafeInteger(budget) || budget < 1 || provider.data in budgets) {
          ctx.addIssue({ code: 'custom', message: `has "${entry}": expected <platform>=<requests a day> once per platform (${PROVIDER_IDS.join(', ')}), e.g. google=15000` });
          return z.NEVER;
        }
        budgets[provider.data] = budget;
      }
      return budgets;
    }),
  /** Share of each daily budget kept back from scheduled syncs and from every retry, for first runs (Sync now, backfills). */
  BUDGET_RETRY_RESERVE: z.coerce.number().min(0).max(0.5).default(0.1),
  FUNCTIONS_EMULATOR: z.string().optional(),
  FIREBASE_AUTH_EMULATOR_HOST: z.string().optional(),
  APP_VERSION: z.string().default('0.1.0'),
});

/**
 * The connectors' settings of each configured platform (the sections of ConnectorsConfig the
 * environment sets), and how this deployment shares the platforms' rates.
 */
export interface ProvidersConfig extends Pick<ConnectorsConfig, ProviderId> {
  backfillRateShare: number;
  backfillChunkDays: number;
  pacingInstances: number;
}

/** Each platform's OAuth app for the connect flow; a platform is connectable when its app is set. */
export interface OAuthConfig {
  /** The Ads Hub page platforms send the user back to (registered with every platform's app). */
  redirectUri: string | null;
  meta?: { appId: string; appSecret: string; authorizeBaseUrl?: string; apiBaseUrl?: string };
  google?: NonNullable<ProvidersConfig['google']> & { authorizeBaseUrl?: string };
  linkedin?: ProvidersConfig['linkedin'];
  tiktok?: ProvidersConfig['tiktok'];
}

export interface AlertConfig {
  /** The Slack-compatible webhook; no alerts without it. A secret of sorts: never logged. */
  readonly webhookUrl: string | null;
  readonly failureThreshold: number;
  readonly throttleMinutes: number;
  readonly backlogMinutes: number;
  readonly timeoutMs: number;
  /** The Ads Hub's admin view, linked from every alert; null when unknown. */
  readonly adminUrl: string | null;
}

/** The admin view of the Ads Hub at this address. */
const adminUrlOf = (hub: string | undefined) => (hub ? new URL('/admin', hub).href : null);

export interface Config {
  /** Null when missing or invalid: guarded endpoints then refuse every call. */
  readonly cronSecret: string | null;
  /** The next cron key, also accepted while callers move to it; null when unset or invalid. */
  readonly cronSecretNext: string | null;
  readonly adminEmails: readonly string[];
  readonly alerts: AlertConfig;
  readonly queue: {
    readonly retentionDays: number;
    readonly maxAttempts: number;
    readonly retryBaseMs: number;
    readonly retryMaxMs: number;
    readonly jobTimeoutMs: number;
    readonly concurrency: number;
    readonly workerBudgetMs: number;
    readonly leaseMarginMs: number;
    readonly circuitFailureThreshold: number;
    readonly circuitCooldownMs: number;
  };
  /** Connector settings for each platform that is configured; secrets included, never logged. */
  readonly providers: ProvidersConfig;
  /** Daily request budgets per platform and the share kept back for first runs. */
  readonly budgets: BudgetSettings;
  /** Per platform, the settings it still needs before it can be synced (empty when configured). */
  readonly missingProviderSettings: Readonly<Record<ProviderId, readonly string[]>>;
  /** App secrets included, never logged. */
  readonly oauth: OAuthConfig;
  readonly runningInEmulator: boolean;
  readonly authEmulatorHost: string | null;
  readonly version: string;
  /** Human-readable problems, each naming the variable (never a secret's value). */
  readonly problems: readonly string[];
  /** The queue's time settings that do not fit together: the worker refuses to run while any is here. */
  readonly unsafeQueueSettings: readonly string[];
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
  const isProblemOf = (key: string) => (p: string) => p.startsWith(`${key} `);
  if (v.INTEGRATIONS_CRON_SECRET === undefined && !problems.some(isProblemOf('INTEGRATIONS_CRON_SECRET'))) {
    problems.push('INTEGRATIONS_CRON_SECRET is not set');
  }
  const runningInEmulator = v.FUNCTIONS_EMULATOR === 'true';
  const providers = providersFrom(v);
  if (v.FIREBASE_AUTH_EMULATOR_HOST && !runningInEmulator) {
    problems.push('FIREBASE_AUTH_EMULATOR_HOST is set outside the emulator: ID tokens cannot be verified, so every signed-in call is refused');
  }
  const unsafeQueueSettings = queueTimeProblems({ jobTimeoutMs: v.JOB_TIMEOUT_MS, workerBudgetMs: v.WORKER_BUDGET_MS, leaseMarginMs: v.JOB_LEASE_MARGIN_MS });
  problems.push(...unsafeQueueSettings);
  return Object.freeze({
    cronSecret: problems.some(isProblemOf('INTEGRATIONS_CRON_SECRET')) ? null : (v.INTEGRATIONS_CRON_SECRET ?? null),
    cronSecretNext: v.INTEGRATIONS_CRON_SECRET_NEXT ?? null,
    adminEmails: Object.freeze([...v.ADMIN_EMAILS]),
    alerts: Object.freeze({
      webhookUrl: v.SCHEDULER_ALERT_WEBHOOK_URL ?? null,
      failureThreshold: v.SCHEDULER_ALERT_FAILURE_THRESHOLD,
      throttleMinutes: v.SCHEDULER_ALERT_THROTTLE_MINUTES,
      backlogMinutes: v.SCHEDULER_ALERT_BACKLOG_MINUTES,
      timeoutMs: v.SCHEDULER_ALERT_TIMEOUT_MS,
      adminUrl: adminUrlOf(v.ADS_HUB_URL ?? (v.GCLOUD_PROJECT ? `https://${v.GCLOUD_PROJECT}.web.app` : undefined)),
    }),
    queue: Object.freeze({
      retentionDays: v.JOB_RETENTION_DAYS,
      maxAttempts: v.JOB_MAX_ATTEMPTS,
      retryBaseMs: v.RETRY_BASE_MS,
      retryMaxMs: v.RETRY_MAX_MS,
      jobTimeoutMs: v.JOB_TIMEOUT_MS,
      concurrency: v.WORKER_CONCURRENCY,
      workerBudgetMs: v.WORKER_BUDGET_MS,
      leaseMarginMs: v.JOB_LEASE_MARGIN_MS,
      circuitFailureThreshold: v.CIRCUIT_FAILURE_THRESHOLD,
      circuitCooldownMs: v.CIRCUIT_COOLDOWN_MS,
    }),
    providers: Object.freeze(providers),
    budgets: Object.freeze({ daily: Object.freeze(v.DAILY_API_BUDGETS), reserveShare: v.BUDGET_RETRY_RESERVE }),
    missingProviderSettings: Object.freeze(missingProviderSettings(v)),
    oauth: Object.freeze(oauthFrom(v, providers)),
    runningInEmulator,
    authEmulatorHost: v.FIREBASE_AUTH_EMULATOR_HOST ?? null,
    version: v.APP_VERSION,
    problems: Object.freeze(problems),
    unsafeQueueSettings: Object.freeze(unsafeQueueSettings),
  });
}

const defined = <T extends Record<string, unknown>>(o: T) =>
  Object.fromEntries(Object.entries(o).filter(([, value]) => value !== undefined)) as Partial<T>;

/** The connect flow reuses each platform's app settings; Meta's app and the authorize pages are its own. */
function oauthFrom(v: z.infer<typeof envSchema>, providers: ProvidersConfig): OAuthConfig {
  const { google, linkedin, tiktok } = providers;
  return {
    redirectUri: v.OAUTH_REDIRECT_URI ?? null,
    ...(v.META_APP_ID && v.META_APP_SECRET
      ? { meta: { ...defined({ authorizeBaseUrl: v.META_AUTHORIZE_BASE_URL, apiBaseUrl: v.META_API_BASE_URL }), appId: v.META_APP_ID, appSecret: v.META_APP_SECRET } }
      : {}),
    ...(google ? { google: { ...google, ...defined({ authorizeBaseUrl: v.GOOGLE_AUTHORIZE_BASE_URL }) } } : {}),
    ...(linkedin ? { linkedin } : {}),
    ...(tiktok ? { tiktok } : {}),
  };
}

function providersFrom(v: z.infer<typeof envSchema>): ProvidersConfig {
  const config: ProvidersConfig = { backfillRateShare: v.BACKFILL_RATE_SHARE, backfillChunkDays: v.BACKFILL_CHUNK_DAYS, pacingInstances: v.PACING_INSTANCES };
  if (v.META_ENABLED === 'true') config.meta = defined({ apiBaseUrl: v.META_API_BASE_URL });
  if (v.GOOGLE_ADS_DEVELOPER_TOKEN && v.GOOGLE_OAUTH_CLIENT_ID && v.GOOGLE_OAUTH_CLIENT_SECRET) {
    config.google = {
      ...defined({ apiBaseUrl: v.GOOGLE_ADS_API_BASE_URL, oauthBaseUrl: v.GOOGLE_OAUTH_BASE_URL, loginCustomerId: v.GOOGLE_ADS_LOGIN_CUSTOMER_ID }),
      developerToken: v.GOOGLE_ADS_DEVELOPER_TOKEN,
      clientId: v.GOOGLE_OAUTH_CLIENT_ID,
      clientSecret: v.GOOGLE_OAUTH_CLIENT_SECRET,
    };
  }
  if (v.LINKEDIN_CLIENT_ID && v.LINKEDIN_CLIENT_SECRET) {
    config.linkedin = {
      ...defined({ apiBaseUrl: v.LINKEDIN_API_BASE_URL, oauthBaseUrl: v.LINKEDIN_OAUTH_BASE_URL }),
      clientId: v.LINKEDIN_CLIENT_ID,
      clientSecret: v.LINKEDIN_CLIENT_SECRET,
    };
  }
  if (v.TIKTOK_APP_ID && v.TIKTOK_APP_SECRET) {
    config.tiktok = { ...defined({ apiBaseUrl: v.TIKTOK_API_BASE_URL }), appId: v.TIKTOK_APP_ID, secret: v.TIKTOK_APP_SECRET };
  }
  return config;
}

/** The settings each platform's app needs, by name, as an operator would set them. */
const PROVIDER_SETTINGS: Record<ProviderId, readonly (keyof z.infer<typeof envSchema>)[]> = {
  google: ['GOOGLE_ADS_DEVELOPER_TOKEN', 'GOOGLE_OAUTH_CLIENT_ID', 'GOOGLE_OAUTH_CLIENT_SECRET'],
  linkedin: ['LINKEDIN_CLIENT_ID', 'LINKEDIN_CLIENT_SECRET'],
  tiktok: ['TIKTOK_APP_ID', 'TIKTOK_APP_SECRET'],
  meta: [],
};

function missingProviderSettings(v: z.infer<typeof envSchema>): Record<ProviderId, string[]> {
  const missing = (id: ProviderId) => PROVIDER_SETTINGS[id].filter((key) => !v[key]);
  return {
    google: missing('google'),
    linkedin: missing('linkedin'),
    tiktok: missing('tiktok'),
    meta: v.META_ENABLED === 'true' ? [] : ['META_ENABLED=true'],
  };
}

/** A secret as safe to log: whether it is set, and whether the functions accept what is set. */
function secretShown(name: SecretName, value: unknown, problems: readonly string[]): string {
  if (problems.some((p) => p.startsWith(`${name} `) && !p.endsWith(' is not set'))) return '<invalid>';
  return value ? '<set>' : '<missing>';
}

/** Only the origin of an overridden API base URL: enough to tell the sandbox from the real platform. */
function platformShown(platform: { apiBaseUrl?: string } | undefined, secretsBound: boolean): Record<string, unknown> {
  if (platform) return { enabled: true, apiOrigin: platform.apiBaseUrl ? new URL(platform.apiBaseUrl).origin : 'default' };
  return secretsBound ? { enabled: false } : { enabled: false, reason: 'its secrets are not bound to this function' };
}

const PLATFORM_SECRET_OF: Record<ProviderId, SecretName | null> = {
  meta: null,
  google: 'GOOGLE_OAUTH_CLIENT_SECRET',
  linkedin: 'LINKEDIN_CLIENT_SECRET',
  tiktok: 'TIKTOK_APP_SECRET',
};

/** A problem about a secret this function does not bind is no problem of this function. */
const aboutUnbound = (bound: ReadonlySet<string>) => (problem: string) =>
  SECRET_NAMES.some((name) => !bound.has(name) && problem.startsWith(`${name} `));

/**
 * The config as safe to log. Built section by section rather than copied, so a setting
 * added later is not logged until someone decides it may be; secrets appear only as set,
 * missing or invalid, and only those this function binds (`bound`; every secret when
 * omitted). Admin emails are personal data: counted, not listed. The queue section holds
 * numbers only.
 */
export function redactedConfig(config: Config, bound: readonly SecretName[] = SECRET_NAMES): Record<string, unknown> {
  const { meta, google, linkedin, tiktok, backfillRateShare, backfillChunkDays } = config.providers;
  const binds = new Set<string>(bound);
  const platformBound = (id: ProviderId) => {
    const secret = PLATFORM_SECRET_OF[id];
    return secret === null || binds.has(secret);
  };
  const next = config.cronSecretNext && config.cronSecretNext === config.cronSecret
    ? '<same as current>'
    : secretShown('INTEGRATIONS_CRON_SECRET_NEXT', config.cronSecretNext, config.problems);
  return {
    version: config.version,
    runningInEmulator: config.runningInEmulator,
    authEmulatorHost: config.authEmulatorHost,
    secretsBound: [...bound],
    cronKeys: binds.has('INTEGRATIONS_CRON_SECRET')
      ? { current: secretShown('INTEGRATIONS_CRON_SECRET', config.cronSecret, config.problems), next }
      : '<not bound to this function>',
    adminEmails: { count: config.adminEmails.length },
    alerts: {
      webhookUrl: config.alerts.webhookUrl ? '<set>' : null,
      failureThreshold: config.alerts.failureThreshold,
      throttleMinutes: config.alerts.throttleMinutes,
      backlogMinutes: config.alerts.backlogMinutes,
      timeoutMs: config.alerts.timeoutMs,
      adminUrl: config.alerts.adminUrl,
    },
    queue: { ...config.queue },
    platforms: {
      meta: platformShown(meta, platformBound('meta')),
      google: platformShown(google, platformBound('google')),
      linkedin: platformShown(linkedin, platformBound('linkedin')),
      tiktok: platformShown(tiktok, platformBound('tiktok')),
    },
    backfill: { rateShare: backfillRateShare, chunkDays: backfillChunkDays },
    dailyBudgets: { ...config.budgets.daily, retryReserve: config.budgets.reserveShare },
    problems: config.problems.filter((problem) => !aboutUnbound(binds)(problem)),
    connect: {
      redirectUri: config.oauth.redirectUri,
      platforms: Object.fromEntries(PROVIDER_IDS.map((id) => [id, config.oauth[id] ? '<configured>' : '<not configured>'])),
    },
  };
}

/**
 * Once per instance, on its first request: what this instance runs with, never a secret.
 * Always INFO: /health judges the configuration. `bound` names the secrets of the function
 * this instance serves, so the log does not report the others as missing.
 */
export function logConfiguration(config: Config, bound: readonly SecretName[] = SECRET_NAMES): void {
  logger.info('configuration loaded', { configuration: redactedConfig(config, bound) });
}
