/**
 * The deployed shape of the HTTP functions, read from the same manifest `firebase deploy`
 * reads (each v2 function's `__endpoint`), so timeouts and regions have one definition:
 * functions/src/index.ts.
 */
import * as exported from '../../functions/src/index.js';
import { SCHEDULES } from '../../functions/src/scheduler/schedules.js';
import { UsageError } from '../google.js';

/** firebase-functions' defaults when an option is not set. */
const DEFAULT_TIMEOUT_SECONDS = 60;
export const DEFAULT_FUNCTIONS_REGION = 'us-central1';

export interface HttpFunction {
  timeoutSeconds: number;
  region: string;
}

interface Manifest {
  httpsTrigger?: unknown;
  timeoutSeconds?: unknown;
  region?: unknown;
}

export function httpFunctions(): Record<string, HttpFunction> {
  const found: Record<string, HttpFunction> = {};
  for (const [name, value] of Object.entries(exported)) {
    const manifest = (value as { __endpoint?: Manifest }).__endpoint;
    if (!manifest?.httpsTrigger) continue;
    const timeout = manifest.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
    const regions = manifest.region ?? [DEFAULT_FUNCTIONS_REGION];
    if (typeof timeout !== 'number' || !Array.isArray(regions) || regions.length !== 1 || typeof regions[0] !== 'string') {
      throw new Error(`function ${name}: the scheduler script needs a literal timeoutSeconds and a single literal region`);
    }
    found[name] = { timeoutSeconds: timeout, region: regions[0] };
  }
  return found;
}

/**
 * Where the functions answer: `https://<region>-<project>.cloudfunctions.net` (which 2nd gen
 * HTTP functions answer), or an https `--base-url` without query or fragment, the function
 * name appended. Refuses a region other than the scheduled functions' own.
 */
export function functionsBaseUrl(override: string | undefined, projectId: string, location: string): string {
  if (override === undefined) {
    const elsewhere = [...new Set(SCHEDULES.map((schedule) => schedule.endpoint))]
      .map((name) => [name, httpFunctions()[name]?.region] as const)
      .filter(([, region]) => region !== undefined && region !== location);
    if (elsewhere.length > 0) {
      throw new UsageError(
        `the scheduled functions run in ${elsewhere.map(([name, region]) => `${region} (${name})`).join(', ')} but --region is ${location}: ` +
          'pass their region, or --base-url where they answer',
      );
    }
    return `https://${location}-${projectId}.cloudfunctions.net`;
  }
  let url: URL;
  try {
    url = new URL(override);
  } catch {
    throw new UsageError(`--base-url "${override}" is not a URL`);
  }
  if (url.protocol !== 'https:') throw new UsageError('--base-url must be https: the jobs send the cron key');
  if (url.search !== '' || url.hash !== '' || override.includes('?') || override.includes('#')) {
    throw new UsageError('--base-url must not have a query or a fragment: the function name is appended to its path');
  }
  return url.href.replace(/\/+$/, '');
}

export type KeyCheck = 'accepted' | 'refused' | { problem: string };

/**
 * Whether the deployed functions accept a cron key, without doing anything: `POST /cron`
 * with an empty body answers 400 (no operation) once the key is accepted, and 401 before,
 * since the key is checked before the body.
 */
export async function checkCronKey(baseUrl: string, key: string, fetchImpl: typeof fetch = fetch): Promise<KeyCheck> {
  let status: number;
  try {
    const response = await fetchImpl(`${baseUrl}/cron`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-cron-key': key },
      body: '{}',
      // A cold start of the function can take several seconds.
      signal: AbortSignal.timeout(30_000),
    });
    status = response.status;
    await response.body?.cancel();
  } catch (error) {
    return { problem: `${baseUrl}/cron could not be reached (${error instanceof Error ? error.message : String(error)})` };
  }
  if (status === 400) return 'accepted';
  if (status === 401) return 'refused';
  if (status === 404) return { problem: `no function answers at ${baseUrl}/cron (404): deploy the functions first` };
  if (status === 503) return { problem: `${baseUrl}/cron answers 503: the functions have no valid INTEGRATIONS_CRON_SECRET (see /health)` };
  return { problem: `${baseUrl}/cron answered ${status} to a key check` };
}
