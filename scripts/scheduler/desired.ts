/**
 * The Cloud Scheduler jobs the schedules definition asks for, in one project and location.
 * Pure: no network; the key itself enters only `schedulerJob`, the request apply sends.
 */
import { createHash } from 'node:crypto';
import { protos } from '@google-cloud/scheduler';
import type { ScheduleDefinition } from '../../functions/src/scheduler/schedules.js';

/** Jobs this project owns carry both the prefix and the ownership marker in their description. */
export const JOB_ID_PREFIX = 'ads-hub-';
const OWNER_MARKER = 'managed by ads-hub-sync';
const MARKER_PATTERN = /^(.*) \(managed by ads-hub-sync; key ([0-9a-f]{16})\)$/s;

/**
 * Cloud Scheduler keeps the x-cron-key header but cannot be asked for it, so the description
 * records which key the job sends: a hash, which tells nothing about a 256-bit random key.
 */
export function keyFingerprint(cronKey: string): string {
  return createHash('sha256').update(`ads-hub-sync cron key:${cronKey}`).digest('hex').slice(0, 16);
}

export function describeOwned(purpose: string, fingerprint: string): string {
  return `${purpose} (${OWNER_MARKER}; key ${fingerprint})`;
}

/** The purpose and key fingerprint of a job this project owns; null for anyone else's. */
export function parseOwnedDescription(jobId: string, description: string | null | undefined): { purpose: string; fingerprint: string } | null {
  if (!jobId.startsWith(JOB_ID_PREFIX)) return null;
  const match = MARKER_PATTERN.exec(description ?? '');
  return match ? { purpose: match[1]!, fingerprint: match[2]! } : null;
}

/** Cloud Scheduler accepts HTTP attempt deadlines from 15 s to 30 min. */
const DEADLINE_RANGE_SECONDS = { min: 15, max: 1_800 };
/**
 * Beyond the function's own timeout, for a cold start and the round trip. A deadline shorter
 * than the function may run would record a failure (and retry) while the call still works.
 */
const DEADLINE_SLACK_SECONDS = 30;

export function attemptDeadlineSeconds(functionName: string, functionTimeoutSeconds: number): number {
  const wanted = Math.max(DEADLINE_RANGE_SECONDS.min, functionTimeoutSeconds + DEADLINE_SLACK_SECONDS);
  if (wanted > DEADLINE_RANGE_SECONDS.max) {
    throw new Error(
      `function ${functionName} may run ${functionTimeoutSeconds} s, but Cloud Scheduler waits at most ${DEADLINE_RANGE_SECONDS.max} s for an HTTP call: ` +
        'lower its timeoutSeconds (scheduled calls should hand long work to the queue)',
    );
  }
  return wanted;
}

/** Cloud Scheduler's default; with the backoffs of schedules.ts the cap is reached first. */
const MAX_DOUBLINGS = 5;

export interface DesiredJob {
  /** Job id, e.g. `ads-hub-worker`. */
  id: string;
  /** `projects/<project>/locations/<location>/jobs/<id>`. */
  name: string;
  description: string;
  schedule: string;
  timeZone: string;
  uri: string;
  /** The JSON body exactly as sent. */
  body: string;
  attemptDeadlineSeconds: number;
  retry: {
    retryCount: number;
    minBackoffSeconds: number;
    maxBackoffSeconds: number;
    maxRetryDurationSeconds: number;
    maxDoublings: number;
  };
}

export interface JobTarget {
  projectId: string;
  location: string;
  /** Where the functions answer, without a trailing slash; the function name is appended. */
  functionsBaseUrl: string;
}

export function locationName(target: Pick<JobTarget, 'projectId' | 'location'>): string {
  return `projects/${target.projectId}/locations/${target.location}`;
}

export function desiredJobs(
  schedules: readonly ScheduleDefinition[],
  target: JobTarget,
  functionTimeouts: Readonly<Record<string, number>>,
  fingerprint: string,
): DesiredJob[] {
  return schedules.map((schedule) => {
    if (!/^[A-Za-z0-9_-]{1,500}$/.test(schedule.name) || !schedule.name.startsWith(JOB_ID_PREFIX)) {
      throw new Error(`schedule ${schedule.name}: a job id is letters, digits, - and _, starting with ${JOB_ID_PREFIX}`);
    }
    const timeout = functionTimeouts[schedule.endpoint];
    if (timeout === undefined) throw new Error(`schedule ${schedule.name} calls ${schedule.endpoint}, which functions/src/index.ts does not export as an HTTP function`);
    const { retryCount, minBackoffSeconds, maxBackoffSeconds, maxRetryDurationSeconds } = schedule.retry;
    if (!Number.isInteger(retryCount) || retryCount < 0 || retryCount > 5 || minBackoffSeconds > maxBackoffSeconds) {
      throw new Error(`schedule ${schedule.name}: retryCount must be 0 to 5 and minBackoffSeconds at most maxBackoffSeconds`);
    }
    return {
      id: schedule.name,
      name: `${locationName(target)}/jobs/${schedule.name}`,
      description: describeOwned(schedule.description, fingerprint),
      schedule: schedule.cron,
      timeZone: schedule.timeZone,
      uri: `${target.functionsBaseUrl}/${schedule.endpoint}`,
      body: JSON.stringify(schedule.body),
      attemptDeadlineSeconds: attemptDeadlineSeconds(schedule.endpoint, timeout),
      retry: { retryCount, minBackoffSeconds, maxBackoffSeconds, maxRetryDurationSeconds, maxDoublings: MAX_DOUBLINGS },
    };
  });
}

type Job = protos.google.cloud.scheduler.v1.IJob;

const seconds = (value: number) => ({ seconds: value, nanos: 0 });

/** The job as Cloud Scheduler takes it; the only place the key goes. */
export function schedulerJob(desired: DesiredJob, cronKey: string): Job {
  return {
    name: desired.name,
    description: desired.description,
    schedule: desired.schedule,
    timeZone: desired.timeZone,
    attemptDeadline: seconds(desired.attemptDeadlineSeconds),
    retryConfig: {
      retryCount: desired.retry.retryCount,
      minBackoffDuration: seconds(desired.retry.minBackoffSeconds),
      maxBackoffDuration: seconds(desired.retry.maxBackoffSeconds),
      maxRetryDuration: seconds(desired.retry.maxRetryDurationSeconds),
      maxDoublings: desired.retry.maxDoublings,
    },
    httpTarget: {
      uri: desired.uri,
      httpMethod: protos.google.cloud.scheduler.v1.HttpMethod.POST,
      headers: { 'Content-Type': 'application/json', 'x-cron-key': cronKey },
      body: Buffer.from(desired.body, 'utf8'),
    },
  };
}

/** Every field an update rewrites: what the definition decides, and nothing an operator sets (pause state). */
export const UPDATE_MASK = { paths: ['description', 'schedule', 'time_zone', 'attempt_deadline', 'retry_config', 'http_target'] };
