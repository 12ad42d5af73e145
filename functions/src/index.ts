import { defineSecret } from 'firebase-functions/params';
import { onDocumentWritten } from 'firebase-functions/v2/firestore';
import { onRequest } from 'firebase-functions/v2/https';
import { FUNCTION_MAX_INSTANCES, FUNCTION_TIMEOUT_SECONDS } from './config/limits.js';
import { SECRETS_BY_FUNCTION, type FunctionName } from './config/secrets.js';
import { createInstanceContext, type AppContext } from './context.js';
import { createAdminEndpoints } from './http/admin.js';
import { createEndpoints } from './http/endpoints.js';
import { createHubEndpoints } from './http/hub.js';
import { runStartRequest } from './scheduler/startNow.js';
import { START_REQUESTS_COLLECTION } from './schema/index.js';

const secretsOf = (name: FunctionName) => SECRETS_BY_FUNCTION[name].map((secret) => defineSecret(secret));

// Built on first use, after the runtime has put the secrets into the environment.
let context: AppContext | undefined;
const appContext = () => (context ??= createInstanceContext());
const endpoints = createEndpoints(appContext);

const guarded = { memory: '512MiB' as const };
const timeout = FUNCTION_TIMEOUT_SECONDS;

export const cron = onRequest({ ...guarded, secrets: secretsOf('cron'), timeoutSeconds: timeout.cron }, endpoints.cron);
const maxInstances = FUNCTION_MAX_INSTANCES;

export const worker = onRequest({ ...guarded, secrets: secretsOf('worker'), timeoutSeconds: timeout.worker, maxInstances: maxInstances.worker }, endpoints.worker);
export const schedule = onRequest({ ...guarded, secrets: secretsOf('schedule'), timeoutSeconds: timeout.schedule, cors: true }, endpoints.schedule);
// Deployed as `process` (POST /process); the module binding has its own name so it never shadows Node's global.
const processUserJobs = onRequest({ ...guarded, secrets: secretsOf('process'), timeoutSeconds: timeout.process, maxInstances: maxInstances.process }, endpoints.process);
export { processUserJobs as process };
export const health = onRequest({ secrets: secretsOf('health'), timeoutSeconds: timeout.health, cors: true }, endpoints.health);
export const status = onRequest({ secrets: secretsOf('status'), timeoutSeconds: timeout.status, cors: true }, endpoints.status);

/** The Ads Hub's API, served under /api/hub and /api/admin through Hosting rewrites. */
// The connect flow exchanges authorization codes with each platform's app secret.
export const hub = onRequest({ secrets: secretsOf('hub'), timeoutSeconds: timeout.hub, cors: true }, createHubEndpoints(appContext));
export const admin = onRequest({ secrets: secretsOf('admin'), timeoutSeconds: timeout.admin, cors: true }, createAdminEndpoints(appContext));

/** Runs a user's jobs as soon as a person asked for them (see scheduler/startNow.ts). */
export const startRequestedJobs = onDocumentWritten(
  // retry: false: a failed run is not repeated; its jobs stay queued for the next minute's worker call.
  {
    document: `${START_REQUESTS_COLLECTION}/{userId}`,
    secrets: secretsOf('startRequestedJobs'),
    timeoutSeconds: timeout.startRequestedJobs,
    memory: '512MiB',
    retry: false,
    maxInstances: maxInstances.startRequestedJobs,
  },
  async (event) => {
    if (!event.data?.after.exists) return;
    await runStartRequest(appContext(), event.params.userId);
  },
);
