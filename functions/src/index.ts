import { defineSecret } from 'firebase-functions/params';
import { onRequest } from 'firebase-functions/v2/https';
import { CRON_KEY_SECRETS, PLATFORM_SECRETS } from './config/secrets.js';
import { createInstanceContext, type AppContext } from './context.js';
import { createEndpoints } from './http/endpoints.js';

const cronKeys = CRON_KEY_SECRETS.map((name) => defineSecret(name));
const cronKeysAndPlatforms = [...cronKeys, ...PLATFORM_SECRETS.map((name) => defineSecret(name))];

// Built on first use, after the runtime has put the secrets into the environment.
let context: AppContext | undefined;
const endpoints = createEndpoints(() => (context ??= createInstanceContext()));

const guarded = { secrets: cronKeys, timeoutSeconds: 540, memory: '512MiB' as const };

export const cron = onRequest({ ...guarded, timeoutSeconds: 120 }, endpoints.cron);
export const worker = onRequest({ ...guarded, secrets: cronKeysAndPlatforms }, endpoints.worker);
export const schedule = onRequest({ ...guarded, timeoutSeconds: 60, cors: true }, endpoints.schedule);
export const process = onRequest({ ...guarded, secrets: cronKeysAndPlatforms }, endpoints.process);
export const health = onRequest({ secrets: cronKeys, timeoutSeconds: 30, cors: true }, endpoints.health);
export const status = onRequest({ timeoutSeconds: 30, cors: true }, endpoints.status);
