import type { DecodedIdToken } from 'firebase-admin/auth';
import { bearerToken, cronKeyMatchesAny, isAdmin, verifyIdToken } from '../auth/index.js';
import type { AppContext } from '../context.js';
import { HttpError, type EndpointRequest } from './respond.js';

const header = (req: EndpointRequest, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** With no current key configured nothing is accepted: the endpoint is closed, not open. */
function acceptedCronKeys(ctx: AppContext): [string, string | null] {
  if (!ctx.config.cronSecret) throw new HttpError(503, 'the cron key is not configured on the server (see /health)');
  return [ctx.config.cronSecret, ctx.config.cronSecretNext];
}

export function requireCronKey(ctx: AppContext, req: EndpointRequest): void {
  const accepted = acceptedCronKeys(ctx);
  const presented = header(req, 'x-cron-key');
  if (presented === undefined) throw new HttpError(401, 'x-cron-key header is required', 'x-cron-key');
  if (!cronKeyMatchesAny(presented, accepted)) throw new HttpError(401, 'x-cron-key is not valid', 'x-cron-key');
}

export async function requireUser(ctx: AppContext, req: EndpointRequest): Promise<DecodedIdToken> {
  // With the Auth emulator variable set, the Admin SDK accepts unsigned tokens: refuse them all.
  if (ctx.config.authEmulatorHost && !ctx.config.runningInEmulator) {
    throw new HttpError(503, 'signed-in calls are refused: FIREBASE_AUTH_EMULATOR_HOST is set outside the emulator, so ID tokens cannot be verified (see /health)');
  }
  const token = bearerToken(header(req, 'authorization'));
  if (!token) throw new HttpError(401, 'Authorization: Bearer <Firebase ID token> is required', 'authorization');
  const decoded = await verifyIdToken(ctx.auth, token);
  if (!decoded) throw new HttpError(401, 'the ID token is invalid, expired or revoked', 'authorization');
  return decoded;
}

/** Cron key (schedulers, scripts) or a signed-in admin (the Ads Hub). */
export async function requireAdminOrCronKey(ctx: AppContext, req: EndpointRequest): Promise<'cron-key' | DecodedIdToken> {
  if (header(req, 'x-cron-key') !== undefined || header(req, 'authorization') === undefined) {
    requireCronKey(ctx, req);
    return 'cron-key';
  }
  const user = await requireUser(ctx, req);
  if (!isAdmin(user, ctx.config.adminEmails)) throw new HttpError(403, 'only admins may schedule syncs');
  return user;
}

/** A signed-in admin (the Ads Hub's admin view); the cron key is not accepted here. */
export async function requireAdmin(ctx: AppContext, req: EndpointRequest): Promise<DecodedIdToken> {
  const user = await requireUser(ctx, req);
  if (!isAdmin(user, ctx.config.adminEmails)) throw new HttpError(403, 'only admins may do this');
  return user;
}
