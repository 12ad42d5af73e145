/**
 * Every structured log line the functions write, through firebase-functions' logger (one
 * JSON object per line; Cloud Logging reads `severity` and `message`, the rest lands in
 * jsonPayload). Lines carry ids, counts, statuses and durations: never a header, a request
 * body, a token, a key or a credential. Error texts pass through `scrubbed` first.
 */
import * as logger from 'firebase-functions/logger';
import type { EventCounts } from './schema/index.js';

type Severity = 'INFO' | 'WARNING' | 'ERROR';

const write = (severity: Severity, message: string, fields: Record<string, unknown>) =>
  logger.write({ severity, message, ...fields });

/**
 * An error text as safe to log: credentials that a platform or a library might quote are
 * cut out (the connectors already keep URLs, which carry Meta's token, out of messages).
 */
export function scrubbed(text: string): string {
  return text
    .replace(/(access_token|refresh_token|client_secret|fb_exchange_token|code|token)=[^&\s"']+/gi, '$1=<redacted>')
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g, '$1 <redacted>')
    .replace(/(x-cron-key|access-token|developer-token|authorization)(["']?\s*[:=]\s*["']?)[^\s"',}]+/gi, '$1$2<redacted>')
    .slice(0, 1000);
}

export interface EndpointCall {
  /** The path called, without its query: `/worker`, `/api/admin/retry`. */
  endpoint: string;
  method: string;
  status: number;
  durationMs: number;
  /** The error message answered (4xx and 5xx). */
  error?: string;
}

/** One line per call of an HTTP endpoint: ERROR for 5xx, WARNING for 4xx. */
export function endpointCalled(call: EndpointCall): void {
  const severity: Severity = call.status >= 500 ? 'ERROR' : call.status >= 400 ? 'WARNING' : 'INFO';
  write(severity, `${call.method} ${call.endpoint} ${call.status}`, {
    endpoint: call.endpoint,
    method: call.method,
    status: call.status,
    durationMs: Math.round(call.durationMs),
    ...(call.error ? { error: scrubbed(call.error) } : {}),
  });
}

/** A handler threw something no endpoint maps to a status: answered 500. */
export function requestFailed(endpoint: string, error: unknown): void {
  write('ERROR', `request to ${endpoint} failed`, { endpoint, error: scrubbed(error instanceof Error ? error.message : String(error)) });
}

export interface JobOutcomeLine {
  jobId: string;
  userId: string;
  /** The job's group key (its platform). */
  platform: string | null;
  jobType: string;
  result: string;
  /** Attempts used, counting this one. */
  attempts: number;
  durationMs: number;
  workerId: string;
  error?: string;
}

const JOB_SEVERITY: Record<string, Severity> = { succeeded: 'INFO', continued: 'INFO', deferred: 'INFO', retried: 'WARNING', 'lease-lost': 'WARNING' };

/** One line per job a worker ran: INFO when it succeeded, continues or waits for a platform's limit, WARNING when it will be retried, ERROR when it failed for good or its outcome could not be written. */
export function jobFinished(job: JobOutcomeLine): void {
  write(JOB_SEVERITY[job.result] ?? 'ERROR', `job ${job.jobId} ${job.result}`, {
    jobId: job.jobId,
    userId: job.userId,
    platform: job.platform,
    jobType: job.jobType,
    result: job.result,
    attempts: job.attempts,
    durationMs: Math.round(job.durationMs),
    workerId: job.workerId,
    ...(job.error ? { error: scrubbed(job.error) } : {}),
  });
}

/** One line per recorded scheduler run, with its counts. */
export function runRecorded(run: { eventId: string; source: string; operation: string; counts: EventCounts; durationMs: number; circuitsOpened: readonly string[] }): void {
  write(run.counts.failed > 0 || run.circuitsOpened.length > 0 ? 'WARNING' : 'INFO', `${run.source} ${run.operation} recorded`, {
    eventId: run.eventId,
    source: run.source,
    operation: run.operation,
    counts: run.counts,
    durationMs: Math.round(run.durationMs),
    circuitsOpened: run.circuitsOpened,
  });
}

/** Something a run does on the side (alerts, circuit bookkeeping) failed; the run itself did not. */
export function sideTaskFailed(task: string, error: unknown, fields: Record<string, unknown> = {}): void {
  write('WARNING', `${task} failed`, { task, ...fields, error: scrubbed(error instanceof Error ? error.message : String(error)) });
}

/** A retry held for the next budget day: only the platform's reserve was left (docs/architecture.md, "Daily budgets"). */
export function budgetHeld(jobId: string, platform: string, left: number, budget: number): void {
  write('INFO', `retry of job ${jobId} waits for the next budget day: ${Math.max(0, left)} of ${budget} ${platform} requests left, the reserve kept for first runs`, {
    jobId,
    platform,
    left: Math.max(0, left),
    budget,
  });
}


export interface AlertDeliveryLine {
  alertKey: string;
  type: 'firing' | 'resolved';
  attempt: number;
  durationMs: number;
  /** The webhook's HTTP status, when it answered. */
  status?: number;
}

/** An alert message the webhook took (INFO), or did not (WARNING, with why; never the URL, which lets anyone post to the channel). */
export function alertDelivery(line: AlertDeliveryLine, failure: string | null): void {
  const fields = { ...line, durationMs: Math.round(line.durationMs) };
  if (failure === null) write('INFO', `alert ${line.alertKey} delivered`, fields);
  else write('WARNING', `alert ${line.alertKey} not delivered (${failure}); a later run retries`, fields);
}

export function alertResolved(alertKey: string): void {
  write('INFO', `alert ${alertKey} resolved`, { alertKey });
}

/** A message the webhook refused or missed for a day: given up, with what it said. */
export function alertDropped(alertKey: string, type: string, summary: string, attempts: number): void {
  write('ERROR', `alert ${alertKey} dropped after a day of failed deliveries`, { alertKey, type, summary: scrubbed(summary), attempts });
}
