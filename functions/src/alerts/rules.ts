/**
 * Which conditions deserve a person's attention, and at what threshold. Pure: the tests
 * feed it runs and readings and compare what comes out.
 */
import { scrubbed } from '../logs.js';
import {
  ALERT_KINDS,
  PLATFORM_ALERT_KINDS,
  PROVIDER_IDS,
  PROVIDER_LABELS,
  RECONNECT_REASON,
  type AlertKind,
  type AlertOverride,
  type AlertSettingsBody,
  type Cadence,
  type PlatformBudgetDocument,
  type ProviderId,
} from '../schema/index.js';

export interface AlertDefaults {
  failureThreshold: number;
  throttleMinutes: number;
  backlogMinutes: number;
}

/** The configured defaults with the admins' stored overrides applied. */
export interface AlertPolicy {
  failureThreshold: number;
  throttleMs: number;
  backlogMs: number;
  overrides: readonly AlertOverride[];
}

export function alertPolicy(defaults: AlertDefaults, stored: AlertSettingsBody): AlertPolicy {
  return {
    failureThreshold: defaults.failureThreshold,
    throttleMs: (stored.throttleMinutes ?? defaults.throttleMinutes) * 60_000,
    backlogMs: (stored.backlogMinutes ?? defaults.backlogMinutes) * 60_000,
    overrides: stored.overrides,
  };
}

/** SCHEDULER_ALERT_FAILURE_THRESHOLD for failures in a run; any single occurrence for the rest. */
const defaultThreshold = (kind: AlertKind, policy: AlertPolicy) => (kind === 'run-failures' ? policy.failureThreshold : 1);

/** The most specific override wins: kind and platform, then the kind, then the platform, then the default. */
export function thresholdFor(policy: AlertPolicy, kind: AlertKind, providerId: ProviderId | null): { threshold: number; muted: boolean } {
  const match = (k: AlertKind | null, p: ProviderId | null) => policy.overrides.find((o) => o.kind === k && o.providerId === p);
  const override = (providerId ? match(kind, providerId) : undefined) ?? match(kind, null) ?? (providerId ? match(null, providerId) : undefined) ?? match(null, null);
  return override ? { threshold: override.threshold, muted: override.muted } : { threshold: defaultThreshold(kind, policy), muted: false };
}

/** Every key an alert can have, with its threshold: what the admin view shows. */
export function effectiveThresholds(policy: AlertPolicy): { kind: AlertKind; providerId: ProviderId | null; threshold: number; muted: boolean }[] {
  return ALERT_KINDS.flatMap((kind) =>
    (PLATFORM_ALERT_KINDS.includes(kind) ? PROVIDER_IDS : [null]).map((providerId) => ({ kind, providerId, ...thresholdFor(policy, kind, providerId) })),
  );
}

/** What one evaluation saw for one key: `count` is compared with the key's threshold. */
export interface Observation {
  kind: AlertKind;
  providerId: ProviderId | null;
  count: number;
  summary: string;
  details: string[];
}

export const alertKey = (kind: AlertKind, providerId: ProviderId | null) => (providerId ? `${kind}:${providerId}` : kind);

export const platformName = (providerId: ProviderId | null) => (providerId ? PROVIDER_LABELS[providerId] : null);

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export interface RunJob {
  id: string;
  providerId: ProviderId | null;
  result: string;
  error?: string;
  /** Why a job failed, in the queue's words (`reconnect`: the integration needs its user). */
  reason?: string;
}

export interface RunSummary {
  source: string;
  operation: string;
  jobs: readonly RunJob[];
  circuitsOpened: readonly ProviderId[];
}

/** A job's error as an example in Slack (a third party): cut to 300 characters, anything shaped like a credential removed. */
const example = (job: RunJob) => `job ${job.id}: ${scrubbed(job.error ?? 'no error recorded').slice(0, 300)}`;

/**
 * A worker run's observations, per platform it ran jobs of (the scheduler's own jobs,
 * without a platform, count under none): jobs that failed (to be retried or for good),
 * jobs that failed for good, integrations that now need their user to reconnect, and each
 * circuit the run opened. A platform the run did not touch is not judged.
 */
export function runObservations(run: RunSummary): Observation[] {
  const observations: Observation[] = [];
  const where = `one ${run.source} run (${run.operation})`;
  const platforms = [...new Set(run.jobs.map((job) => job.providerId))];
  for (const providerId of platforms) {
    const jobs = run.jobs.filter((job) => job.providerId === providerId);
    const name = platformName(providerId) ?? "the scheduler's own";
    const failed = jobs.filter((job) => job.result === 'failed' || job.result === 'retried');
    const forGood = jobs.filter((job) => job.result === 'failed');
    observations.push({
      kind: 'run-failures',
      providerId,
      count: failed.length,
      summary: `${plural(failed.length, `${name} job`)} of ${jobs.length} failed in ${where}.`,
      details: failed.slice(0, 5).map(example),
    });
    observations.push({
      kind: 'job-failed',
      providerId,
      count: forGood.length,
      summary: `${plural(forGood.length, `${name} job`)} failed for good (out of attempts, or an error that retrying cannot fix) in ${where}.`,
      details: forGood.slice(0, 5).map(example),
    });
    if (providerId) {
      const reconnect = jobs.filter((job) => job.reason === RECONNECT_REASON);
      observations.push({
        kind: 'reconnect',
        providerId,
        count: reconnect.length,
        summary: `${plural(reconnect.length, `${name} integration`)} moved to error in ${where}: their users must reconnect ${name}.`,
        details: reconnect.slice(0, 5).map(example),
      });
    }
  }
  for (const providerId of run.circuitsOpened) {
    observations.push(circuitObservation(providerId, true, null));
  }
  return observations;
}

export function staleResetObservation(reset: number, failed: number): Observation {
  return {
    kind: 'stale-reset',
    providerId: null,
    count: reset + failed,
    summary: `${plural(reset + failed, 'running job')} had stopped responding: ${reset} put back in the queue, ${failed} failed for good (out of attempts).`,
    details: [],
  };
}

/** A circuit opened by failures (not a platform's rate-limit pause), or closed again. */
export function circuitObservation(providerId: ProviderId, open: boolean, openUntil: number | null, lastError?: string | null): Observation {
  const name = PROVIDER_LABELS[providerId];
  const until = openUntil ? ` until ${new Date(openUntil).toISOString().slice(11, 16)} UTC` : '';
  return {
    kind: 'circuit-open',
    providerId,
    count: open ? 1 : 0,
    summary: open ? `${name} syncs are paused${until} after repeated failures in a row.` : `${name} syncs run again.`,
    details: lastError ? [`last error: ${scrubbed(lastError).slice(0, 300)}`] : [],
  };
}

export function backlogObservation(overdue: number, oldestDueMs: number | null, backlogMs: number, now: number): Observation {
  const minutes = oldestDueMs === null ? 0 : Math.floor((now - oldestDueMs) / 60_000);
  return {
    kind: 'backlog',
    providerId: null,
    count: overdue,
    summary:
      overdue > 0
        ? `${plural(overdue, 'due job')} ${overdue === 1 ? 'has' : 'have'} waited more than ${Math.round(backlogMs / 60_000)} minutes; the oldest for ${minutes} minutes.`
        : `No due job has waited more than ${Math.round(backlogMs / 60_000)} minutes.`,
    details: [],
  };
}

const EVERY: Record<Cadence, string> = { hourly: 'every hour', every6h: 'every 6 hours', daily: 'daily', weekly: 'weekly' };

/**
 * A platform whose daily request budget will not cover the day's scheduled syncs at the
 * cadences set: the scheduler stretched them, or has only the reserve left. Null plan: no
 * budget, or no plan today (nothing to say, and an earlier episode resolves).
 */
export function budgetObservation(providerId: ProviderId, plan: PlatformBudgetDocument | null): Observation {
  const name = PROVIDER_LABELS[providerId];
  const held = plan !== null && (plan.stretchedTo !== null || plan.reserveReached);
  const figures = plan ? ` ${plan.spent.toLocaleString('en-US')} of ${plan.budget.toLocaleString('en-US')} requests spent today (${plan.reserve.toLocaleString('en-US')} kept for first runs); the scheduled syncs left today would need ${Math.round(plan.demand).toLocaleString('en-US')} at the cadences set.` : '';
  const summary = !held
    ? `The daily request budget for ${name} covers today's scheduled syncs.`
    : plan.reserveReached
      ? `The daily request budget for ${name} is down to its reserve: scheduled syncs wait until midnight UTC.${figures}`
      : `The daily request budget for ${name} will not cover today's scheduled syncs: faster cadences run at most ${EVERY[plan.stretchedTo!]} until midnight UTC.${figures}`;
  return { kind: 'budget', providerId, count: held ? 1 : 0, summary, details: [] };
}

export function freshnessObservation(providerId: ProviderId, stale: number, examples: string[]): Observation {
  const name = PROVIDER_LABELS[providerId];
  return {
    kind: 'freshness',
    providerId,
    count: stale,
    summary: `${plural(stale, `${name} integration`)} with automation on ${stale === 1 ? 'has' : 'have'} not synced successfully for more than twice ${stale === 1 ? 'its' : 'their'} cadence.`,
    details: examples.slice(0, 5),
  };
}

