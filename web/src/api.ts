import { z } from 'zod';
import {
  automationResponseSchema,
  connectCompleteResponseSchema,
  connectStartResponseSchema,
  enqueuedJobResponseSchema,
  errorBodySchema,
  jobActionResponseSchema,
  meResponseSchema,
  type AdminAutomationBody,
  type ConnectCompleteBody,
  type ProviderId,
  type SelectAccountBody,
} from '@functions/schema/index.js';
import { auth } from './firebase';

/** An endpoint's refusal, with the field it names (400) when there is one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** The one client of the function endpoints: adds the ID token, parses answers and the error shape. */
async function call<S extends z.ZodType>(path: string, schema: S, body?: unknown): Promise<z.infer<S>> {
  const user = auth.currentUser;
  if (!user) throw new ApiError(401, 'You are signed out. Sign in again.');
  const response = await fetch(`/api/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${await user.getIdToken()}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const error = errorBodySchema.safeParse(json);
    throw new ApiError(response.status, error.success ? error.data.error : `The server answered ${response.status}.`, error.success ? error.data.field : undefined);
  }
  return schema.parse(json);
}

const providerBody = (providerId: ProviderId) => ({ providerId });
const scheduleResponseSchema = z.object({ fanOut: z.boolean() });

export const api = {
  me: () => call('hub/me', meResponseSchema),
  connect: (providerId: ProviderId) => call('hub/connect', connectStartResponseSchema, providerBody(providerId)),
  completeConnect: (body: ConnectCompleteBody) => call('hub/complete', connectCompleteResponseSchema, body),
  selectAccount: (body: SelectAccountBody) => call('hub/select', enqueuedJobResponseSchema, body),
  disconnect: (providerId: ProviderId) => call('hub/disconnect', z.object({ providerId: z.string() }), providerBody(providerId)),
  syncNow: (providerId: ProviderId) => call('hub/sync', enqueuedJobResponseSchema, providerBody(providerId)),
  admin: {
    retry: (jobId: string) => call('admin/retry', jobActionResponseSchema, { jobId }),
    cancel: (jobId: string) => call('admin/cancel', jobActionResponseSchema, { jobId }),
    setAutomation: (body: AdminAutomationBody) => call('admin/automation', automationResponseSchema, body),
    scheduleAllUsers: (providerId: ProviderId | null) =>
      call('admin/schedule', scheduleResponseSchema, { allUsers: true, ...(providerId ? { providerId } : {}) }),
  },
};

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : 'Something went wrong. Try again.';
}
