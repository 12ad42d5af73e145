import { mirrorAdminEmails } from '../auth/adminDirectory.js';
import { isAdmin } from '../auth/index.js';
import { disconnect } from '../connect/disconnect.js';
import { completeConnect, selectAccount, startConnect } from '../connect/flow.js';
import type { AppContext } from '../context.js';
import { syncNow } from '../integrations/syncNow.js';
import { connectCompleteBodySchema, providerBodySchema, selectAccountBodySchema, type MeResponse } from '../schema/index.js';
import { requireUser } from './guards.js';
import { parseOrThrow, type Endpoint } from './respond.js';
import { routeByName } from './router.js';

/** The signed-in user's own endpoints: who am I, connect, disconnect, Sync now. */
export function createHubEndpoints(ctx: () => AppContext) {
  const me: Endpoint = async (req) => {
    const user = await requireUser(ctx(), req);
    // Keeps the rules' copy of ADMIN_EMAILS current before the admin view starts reading.
    await mirrorAdminEmails(ctx().db, ctx().config.adminEmails);
    const body: MeResponse = { uid: user.uid, email: user.email ?? null, admin: isAdmin(user, ctx().config.adminEmails) };
    return { status: 200, body };
  };

  const connect: Endpoint = async (req) => {
    const user = await requireUser(ctx(), req);
    const body = parseOrThrow(providerBodySchema, req.body, 'body');
    return { status: 200, body: await startConnect(ctx(), user.uid, body.providerId) };
  };

  const complete: Endpoint = async (req) => {
    const user = await requireUser(ctx(), req);
    const body = parseOrThrow(connectCompleteBodySchema, req.body, 'body');
    return { status: 200, body: await completeConnect(ctx(), user.uid, body) };
  };

  const select: Endpoint = async (req) => {
    const user = await requireUser(ctx(), req);
    const body = parseOrThrow(selectAccountBodySchema, req.body, 'body');
    return { status: 202, body: await selectAccount(ctx(), user.uid, body) };
  };

  const disconnectEndpoint: Endpoint = async (req) => {
    const user = await requireUser(ctx(), req);
    const body = parseOrThrow(providerBodySchema, req.body, 'body');
    await disconnect(ctx(), user.uid, body.providerId);
    return { status: 200, body: { providerId: body.providerId, status: 'disconnected' } };
  };

  const sync: Endpoint = async (req) => {
    const user = await requireUser(ctx(), req);
    const body = parseOrThrow(providerBodySchema, req.body, 'body');
    return { status: 202, body: await syncNow(ctx(), user.uid, body.providerId) };
  };

  return routeByName({
    me: { method: 'GET', endpoint: me },
    connect: { method: 'POST', endpoint: connect },
    complete: { method: 'POST', endpoint: complete },
    select: { method: 'POST', endpoint: select },
    disconnect: { method: 'POST', endpoint: disconnectEndpoint },
    sync: { method: 'POST', endpoint: sync },
  });
}
