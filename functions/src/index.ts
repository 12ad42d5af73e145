import { defineSecret } from 'firebase-functions/params';
import { onRequest } from 'firebase-functions/v2/https';
import { createAppContext, type AppContext } from './context.js';
import { createEndpoints } from './http/endpoints.js';

const cronSecret = defineSecret('INTEGRATIONS_CRON_SECRET');

// Built on first use, after the runtime has put the secret into the environment.
let context: AppContext | undefined;
const endpoints = createEndpoints(() => (context ??= createAppContext()));

const guarded = { secrets: [cronSecret], timeoutSeconds: 540, memory: '512MiB' as const };

export const cron = onRequest({ ...guarded, timeoutSeconds: 120 }, endpoints.cron);
export const worker = onRequest(guarded, endpoints.worker);
export const schedule = onRequest({ ...guarded, timeoutSeconds: 60, cors: true }, endpoints.schedule);
export const process = onRequest(guarded, endpoints.process);
export const health = onRequest({ secrets: [cronSecret], timeoutSeconds: 30, cors: true }, endpoints.health);
export const status = onRequest({ timeoutSeconds: 30, cors: true }, endpoints.status);
