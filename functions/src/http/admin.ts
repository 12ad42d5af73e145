import type { AppContext } from '../context.js';
import { setAutomation } from '../integrations/automation.js';
import { cancelJob, retryJob } from '../queue/index.js';
import { requestStart } from '../scheduler/startNow.js';
import { scheduleSyncs } from '../scheduler/operations.js';
import { adminAutomationBodySchema, jobIdBodySchema, scheduleBodySchema, type JobActionResponse } from '../schema/index.js';
import { requireAdmin } from './guards.js';
import { parseOrThrow, type Endpoint } from './respond.js';
import { routeByName } from './router.js';

/** The admin view's actions; every one checks the admin rule here, whatever the UI shows. */
export function createAdminEndpoints(ctx: () => AppContext) {
  const retry: Endpoint = async (req) => {
    await requireAdmin(ctx(), req);
    const { jobId } = parseOrThrow(jobIdBodySchema, req.body, 'body');
    const { db } = ctx();
    await retryJob(db, jobId, (batch, owner) => requestStart(batch, db, owner));
    const body: JobActionResponse = { jobId, status: 'queued' };
    return { status: 202, body };
  };

  const cancel: Endpoint = async (req) => {
    const admin = await requireAdmin(ctx(), req);
    const { jobId } = parseOrThrow(jobIdBodySchema, req.body, 'body');
    await cancelJob(ctx().db, jobId, `cancelled by ${admin.email ?? 'an admin'}`);
    const body: JobActionResponse = { jobId, status: 'cancelled' };
    return { status: 200, body };
  };

  const automation: Endpoint = async (req) => {
    await requireAdmin(ctx(), req);
    const body = parseOrThrow(adminAutomationBodySchema, req.body, 'body');
    return { status: 200, body: await setAutomation(ctx(), body.userId, body.providerId, body.automation) };
  };

  /** Manual syncs for every connected user, one platform or all (a fan-out job, 202). */
  const schedule: Endpoint = async (req) => {
    await requireAdmin(ctx(), req);
    const body = parseOrThrow(scheduleBodySchema, req.body, 'body');
    return { status: 202, body: await scheduleSyncs(ctx(), body) };
  };

  return routeByName({
    retry: { method: 'POST', endpoint: retry },
    cancel: { method: 'POST', endpoint: cancel },
    automation: { method: 'POST', endpoint: automation },
    schedule: { method: 'POST', endpoint: schedule },
  });
}
