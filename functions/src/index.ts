import { defineSecret } from 'firebase-functions/params';
import { onRequest } from 'firebase-functions/v2/https';
import { FUNCTION_TIMEOUT_SECONDS } from './config/limits.js';
import { createAppContext, type AppContext } from './context.js';
import { createEndpoints } from './http/endpoints.js';

const cronSecret = defineSecret('INTEGRATIONS_CRON_SECRET');

// Built on first use, after the runtime has put the secret into the environment.
let context: AppContext | undefined;
const endpoints = createEndpoints(() => (context ??= createAppContext()));

const guarded = { secrets: [cronSecret], memory: '512MiB' as const };
const timeout = FUNCTION_TIMEOUT_SECONDS;

export const cron = onRequest({ ...guarded, timeoutSeconds: timeout.cron }, endpoints.cron);
export const worker = onRequest({ ...guarded, timeoutSeconds: timeout.worker }, endpoints.worker);
export const schedule = onRequest({ ...guarded, timeoutSeconds: timeout.schedule, cors: true }, endpoints.schedule);
export const process = onRequest({ ...guarded, timeoutSeconds: timeout.process }, endpoints.process);
export const health = onRequest({ secrets: [cronSecret], timeoutSeconds: timeout.health, cors: true }, endpoints.health);
export const status = onRequest({ timeoutSeconds: timeout.status, cors: true }, endpoints.status);
