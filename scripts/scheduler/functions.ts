/**
 * The deployed shape of the HTTP functions, read from the same manifest `firebase deploy`
 * reads (each v2 function's `__endpoint`), so timeouts and regions have one definition:
 * functions/src/index.ts.
 */
import * as exported from '../../functions/src/index.js';

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
