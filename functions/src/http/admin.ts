import type { AppContext } from '../context.js';
import { setAutomation } from '../integrations/automation.js';
import { retryJob } from '../queue/index.js';
import { adsQueue } from '../scheduler/jobs.js';
import { requestStart } from '../scheduler/startNow.js';
import { scheduleSyncs } from '../scheduler/operations.js';
import { alertSettingsView, saveAlertSettings } from '../alerts/index.js';
import {
  adminAutomationBodySchema,
  alertSettingsBodySchema,
  jobIdBodySchema,
  scheduleBodySchema,
  type AlertSettingsResponse,
  type JobActionResponse,
} from '../schema/index.js';
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
    await adsQueue(ctx().db, { retentionDays: ctx().config.queue.retentionDays }).jobs.cancel(jobId, `cancelled by ${admin.email ?? 'an admin'}`);
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

  /** The alert thresholds and throttle admins may change: GET shows them, POST replaces the stored overrides. */
  const alertSettings: Endpoint = async (req) => {
    const admin = await requireAdmin(ctx(), req);
    const { db, config } = ctx();
    if (req.method === 'POST') {
      const body = parseOrThrow(alertSettingsBodySchema, req.body, 'body');
      await saveAlertSettings(db, body, admin.email ?? admin.uid);
    }
    const body: AlertSettingsResponse = await alertSettingsView({ db, config: config.alerts });
    return { status: 200, body };
  };

  return routeByName({
    retry: { method: 'POST', endpoint: retry },
    alertSettings: { method: ['GET', 'POST'], endpoint: alertSettings },
    cancel: { method: 'POST', endpoint: cancel },
    automation: { method: 'POST', endpoint: automation },
    schedule: { method: 'POST', endpoint: schedule },
  });
}
