import type { AppContext } from '../context.js';
import { cronBodySchema, processBodySchema, scheduleBodySchema, workerBodySchema } from '../schema/index.js';
import { runCronOperation, runWorkerCall, scheduleSyncs } from '../scheduler/operations.js';
import { checkHealth } from '../status/health.js';
import { userStatus } from '../status/userStatus.js';
import { requireAdminOrCronKey, requireCronKey, requireUser } from './guards.js';
import { parseOrThrow, toRequestHandler, type Endpoint } from './respond.js';

/** Each endpoint: authorize -> parse (zod) -> call a service -> map the result. */
export function createEndpoints(ctx: () => AppContext) {
  const cron: Endpoint = async (req) => {
    requireCronKey(ctx(), req);
    const body = parseOrThrow(cronBodySchema, req.body, 'body');
    const result = await runCronOperation(ctx(), body);
    // The fan-out runs in the worker: accepted, not done.
    return { status: result.operation === 'process_all_users' ? 202 : 200, body: result };
  };

  const worker: Endpoint = async (req) => {
    requireCronKey(ctx(), req);
    const body = parseOrThrow(workerBodySchema, req.body, 'body');
    const report = await runWorkerCall(ctx(), body, 'worker');
    return { status: 200, body: report };
  };

  const schedule: Endpoint = async (req) => {
    await requireAdminOrCronKey(ctx(), req);
    const body = parseOrThrow(scheduleBodySchema, req.body, 'body');
    const result = await scheduleSyncs(ctx(), body);
    return { status: 202, body: result };
  };

  const process: Endpoint = async (req) => {
    requireCronKey(ctx(), req);
    const body = parseOrThrow(processBodySchema, req.body, 'body');
    const report = await runWorkerCall(ctx(), { maxJobs: body.maxJobs, userId: body.userId }, 'process');
    return { status: 200, body: report };
  };

  const health: Endpoint = async () => {
    const { db, config, startedAt } = ctx();
    const report = await checkHealth(db, config, startedAt);
    return { status: report.status === 'healthy' ? 200 : 503, body: report };
  };

  const status: Endpoint = async (req) => {
    const user = await requireUser(ctx(), req);
    return { status: 200, body: await userStatus(ctx().db, user.uid) };
  };

  return {
    cron: toRequestHandler(cron, ['POST']),
    worker: toRequestHandler(worker, ['POST']),
    schedule: toRequestHandler(schedule, ['POST']),
    process: toRequestHandler(process, ['POST']),
    health: toRequestHandler(health, ['GET']),
    status: toRequestHandler(status, ['GET']),
  };
}

export type Endpoints = ReturnType<typeof createEndpoints>;
