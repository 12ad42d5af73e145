/**
 * Desired jobs against the jobs a location has: what to create, update, leave or delete.
 * Pure: the tests feed it jobs in the shapes the client library returns.
 */
import { protos } from '@google-cloud/scheduler';
import { JOB_ID_PREFIX, parseOwnedDescription, type DesiredJob } from './desired.js';

type Job = protos.google.cloud.scheduler.v1.IJob;
type Duration = protos.google.protobuf.IDuration | null | undefined;
const { HttpMethod } = protos.google.cloud.scheduler.v1;
const { State } = protos.google.cloud.scheduler.v1.Job;

export type PlanAction = 'create' | 'update' | 'unchanged' | 'delete';

export interface PlanStep {
  action: PlanAction;
  id: string;
  /** The full resource name: of the desired job, or of the owned job to delete. */
  name: string;
  /** For create and update. */
  desired?: DesiredJob;
  /** For update: what differs, in words. */
  changes: string[];
  /** Paused by an operator: apply updates it but leaves it paused. */
  paused: boolean;
}

export interface JobsPlan {
  steps: PlanStep[];
  /** Jobs with a desired id that this project does not own: apply refuses to touch them. */
  conflicts: string[];
  /** Other jobs with the prefix but without the ownership marker: left alone. */
  unmanaged: string[];
  /** Jobs of anything else in the location: left alone. */
  others: number;
}

/** The fields compared, in the units people read. Header values are not among them: the API does not return them. */
interface Comparable {
  purpose: string;
  keyFingerprint: string;
  schedule: string;
  timeZone: string;
  method: string;
  uri: string;
  body: string;
  attemptDeadline: number;
  retryCount: number;
  minBackoff: number;
  maxBackoff: number;
  maxRetryDuration: number;
  maxDoublings: number;
}

const LABELS: Record<keyof Comparable, string> = {
  purpose: 'description',
  keyFingerprint: 'cron key (fingerprint)',
  schedule: 'schedule',
  timeZone: 'time zone',
  method: 'method',
  uri: 'url',
  body: 'body',
  attemptDeadline: 'attempt deadline (s)',
  retryCount: 'retries',
  minBackoff: 'min backoff (s)',
  maxBackoff: 'max backoff (s)',
  maxRetryDuration: 'max retry duration (s)',
  maxDoublings: 'max doublings',
};

/** Durations arrive as {seconds: number | string | Long, nanos}; missing means zero. */
const toSeconds = (duration: Duration) => Number(duration?.seconds ?? 0) + Number(duration?.nanos ?? 0) / 1e9;
/** Enums arrive as names (REST, and gRPC as decoded) or numbers. */
const enumName = (names: Record<number, string>, value: unknown) => (typeof value === 'number' ? (names[value] ?? String(value)) : String(value ?? ''));
/** Bytes arrive as a Buffer / Uint8Array, or base64 in JSON. */
const bodyText = (body: Uint8Array | string | null | undefined) =>
  body === null || body === undefined ? '' : typeof body === 'string' ? Buffer.from(body, 'base64').toString('utf8') : Buffer.from(body).toString('utf8');

function comparableCurrent(job: Job, owned: { purpose: string; fingerprint: string }): Comparable {
  const retry = job.retryConfig ?? {};
  return {
    purpose: owned.purpose,
    keyFingerprint: owned.fingerprint,
    schedule: job.schedule ?? '',
    timeZone: job.timeZone ?? '',
    method: enumName(HttpMethod, job.httpTarget?.httpMethod),
    uri: job.httpTarget?.uri ?? '',
    body: bodyText(job.httpTarget?.body),
    attemptDeadline: toSeconds(job.attemptDeadline),
    retryCount: Number(retry.retryCount ?? 0),
    minBackoff: toSeconds(retry.minBackoffDuration),
    maxBackoff: toSeconds(retry.maxBackoffDuration),
    maxRetryDuration: toSeconds(retry.maxRetryDuration),
    maxDoublings: Number(retry.maxDoublings ?? 0),
  };
}

function comparableDesired(job: DesiredJob): Comparable {
  const owned = parseOwnedDescription(job.id, job.description);
  if (!owned) throw new Error(`desired job ${job.id} lacks the ownership marker`);
  return {
    purpose: owned.purpose,
    keyFingerprint: owned.fingerprint,
    schedule: job.schedule,
    timeZone: job.timeZone,
    method: 'POST',
    uri: job.uri,
    body: job.body,
    attemptDeadline: job.attemptDeadlineSeconds,
    retryCount: job.retry.retryCount,
    minBackoff: job.retry.minBackoffSeconds,
    maxBackoff: job.retry.maxBackoffSeconds,
    maxRetryDuration: job.retry.maxRetryDurationSeconds,
    maxDoublings: job.retry.maxDoublings,
  };
}

function differences(current: Comparable, desired: Comparable): string[] {
  return (Object.keys(LABELS) as (keyof Comparable)[])
    .filter((field) => current[field] !== desired[field])
    .map((field) => `${LABELS[field]} ${JSON.stringify(current[field])} -> ${JSON.stringify(desired[field])}`);
}

const jobId = (job: Job) => (job.name ?? '').split('/').pop() ?? '';

/** `force` rewrites every owned job, for headers changed by hand (the API cannot show them). */
export function planJobs(desired: readonly DesiredJob[], current: readonly Job[], options: { force?: boolean } = {}): JobsPlan {
  const byId = new Map(current.map((job) => [jobId(job), job]));
  const wanted = new Set(desired.map((job) => job.id));
  const plan: JobsPlan = { steps: [], conflicts: [], unmanaged: [], others: 0 };

  for (const job of desired) {
    const existing = byId.get(job.id);
    if (!existing) {
      plan.steps.push({ action: 'create', id: job.id, name: job.name, desired: job, changes: [], paused: false });
      continue;
    }
    const owned = parseOwnedDescription(job.id, existing.description);
    if (!owned) {
      plan.conflicts.push(job.id);
      continue;
    }
    const state = enumName(State, existing.state);
    const changes = differences(comparableCurrent(existing, owned), comparableDesired(job));
    // A failed update leaves the job in an unknown shape: write it again.
    if (state === 'UPDATE_FAILED') changes.push('its last update failed');
    if (options.force && changes.length === 0) changes.push('rewritten as asked (--force)');
    plan.steps.push({ action: changes.length > 0 ? 'update' : 'unchanged', id: job.id, name: job.name, desired: job, changes, paused: state === 'PAUSED' });
  }

  for (const [id, job] of [...byId].sort(([a], [b]) => a.localeCompare(b))) {
    if (wanted.has(id)) continue;
    if (parseOwnedDescription(id, job.description)) {
      plan.steps.push({ action: 'delete', id, name: job.name ?? id, changes: [], paused: false });
    } else if (id.startsWith(JOB_ID_PREFIX)) {
      plan.unmanaged.push(id);
    } else {
      plan.others += 1;
    }
  }
  return plan;
}

export const countOf = (plan: JobsPlan, action: PlanAction) => plan.steps.filter((step) => step.action === action).length;

/** Not the key: where the jobs go and which secret's key they will send. */
export interface PlanHeading {
  projectId: string;
  location: string;
  functionsBaseUrl: string;
  keySecret: string;
  fingerprint: string;
}

const SIGN: Record<PlanAction, string> = { create: '+', update: '~', unchanged: '=', delete: '-' };

const when = (job: DesiredJob) => `${job.schedule} ${job.timeZone}`;

function summary(job: DesiredJob, whenWidth: number): string {
  const retries = job.retry.retryCount === 0 ? 'no retries' : `${job.retry.retryCount} retries`;
  return `${when(job).padEnd(whenWidth)}  POST ${new URL(job.uri).pathname} ${job.body}  deadline ${job.attemptDeadlineSeconds}s, ${retries}`;
}

export function formatPlan(plan: JobsPlan, heading: PlanHeading): string {
  const width = Math.max(0, ...plan.steps.map((step) => step.id.length), ...plan.conflicts.map((id) => id.length));
  const whenWidth = Math.max(0, ...plan.steps.map((step) => (step.desired ? when(step.desired).length : 0)));
  const lines = [
    `Cloud Scheduler jobs in project ${heading.projectId}, location ${heading.location}`,
    `Functions at ${heading.functionsBaseUrl}; x-cron-key from secret ${heading.keySecret} (fingerprint ${heading.fingerprint})`,
    '',
  ];
  for (const step of plan.steps) {
    const head = `  ${SIGN[step.action]} ${step.action.padEnd(10)}${step.id.padEnd(width)}`;
    const paused = step.paused ? '  [paused: stays paused]' : '';
    if (step.action === 'update') {
      lines.push(`${head}${paused}`, ...step.changes.map((change) => `      ${change}`));
    } else {
      lines.push(`${head}  ${step.desired ? summary(step.desired, whenWidth) : ''}${paused}`.trimEnd());
    }
  }
  for (const id of plan.conflicts) {
    lines.push(`  ! conflict  ${id.padEnd(width)}  exists but is not managed by this project's scheduler script; delete or rename it first`);
  }
  if (plan.unmanaged.length > 0) lines.push(`  Left alone (prefix ${JOB_ID_PREFIX} but no ownership marker): ${plan.unmanaged.join(', ')}`);
  if (plan.others > 0) lines.push(`  Left alone: ${plan.others} other job(s) in this location`);
  lines.push(
    '',
    `Plan: ${countOf(plan, 'create')} to create, ${countOf(plan, 'update')} to update, ${countOf(plan, 'unchanged')} unchanged, ${countOf(plan, 'delete')} to delete` +
      (plan.conflicts.length > 0 ? `, ${plan.conflicts.length} conflict(s)` : '') +
      '.',
  );
  return lines.join('\n');
}
