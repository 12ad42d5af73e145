import { randomBytes, randomUUID } from 'node:crypto';
import { FieldValue, Timestamp, type Firestore, type WriteBatch } from 'firebase-admin/firestore';
import type { AppContext } from '../context.js';
import { ConflictError, InvalidInputError, UnavailableError, UpstreamError } from '../errors.js';
import { createAuthorizations, type PlatformAuthorization } from '../providers/authorization.js';
import { AuthExpiredError, ProviderError } from '../providers/index.js';
import { enqueueJob } from '../scheduler/jobs.js';
import { nextRunFor } from '../scheduler/cadence.js';
import { requestStart } from '../scheduler/startNow.js';
import {
  DEFAULT_AUTOMATION,
  PROVIDER_LABELS,
  integrationDocumentSchema,
  oauthStateDocumentSchema,
  pendingConnectionDocumentSchema,
  type ConnectCompleteBody,
  type ConnectCompleteResponse,
  type ConnectStartResponse,
  type EnqueuedJobResponse,
  type ProviderId,
  type SelectAccountBody,
  type SyncJobType,
  OAUTH_STATES_COLLECTION,
  oauthStatePath,
  pendingConnectionPath,
} from '../schema/index.js';
import { credentialsRef, integrationRef } from '../sync/store.js';
import { cancelActiveSyncs } from './disconnect.js';

const STATE_TTL_MS = 10 * 60_000;
/** A new account's recent weeks load first, beside the backfill, so the chart fills in seconds. */
const RECENT_DAYS_FIRST = 30;
const PENDING_TTL_MS = 30 * 60_000;

export const oauthStateRef = (db: Firestore, state: string) => db.doc(oauthStatePath(state));
export const pendingConnectionRef = (db: Firestore, userId: string, providerId: ProviderId) => db.doc(pendingConnectionPath(userId, providerId));

const authorizationsCache = new WeakMap<AppContext['config'], Map<ProviderId, PlatformAuthorization>>();

function authorizationFor(ctx: AppContext, providerId: ProviderId): { platform: PlatformAuthorization; redirectUri: string } {
  let all = authorizationsCache.get(ctx.config);
  if (!all) authorizationsCache.set(ctx.config, (all = createAuthorizations(ctx.config.oauth)));
  const platform = all.get(providerId);
  const redirectUri = ctx.config.oauth.redirectUri;
  if (!platform || !redirectUri) throw new UnavailableError(`${PROVIDER_LABELS[providerId]} cannot be connected: its OAuth app is not configured on the server`);
  return { platform, redirectUri };
}

/** Platform failures during the flow: a refused code is the user's to retry, the rest is the platform's. */
function platformFailure(providerId: ProviderId, error: unknown): never {
  if (error instanceof AuthExpiredError) {
    throw new InvalidInputError(`${PROVIDER_LABELS[providerId]} refused the authorization code (it expires after a few minutes and works once): connect again`, 'code');
  }
  if (error instanceof ProviderError) throw new UpstreamError(`${PROVIDER_LABELS[providerId]} could not complete the connection: ${error.message}`);
  throw error;
}

/** Live states one person may hold: enough for a few platforms and retries, not a pile of them. */
export const MAX_STATES_PER_USER = 10;

/** Step 1: a single-use state tied to this user, and the platform's authorize page to send them to. */
export async function startConnect(ctx: AppContext, userId: string, providerId: ProviderId): Promise<ConnectStartResponse> {
  const { platform, redirectUri } = authorizationFor(ctx, providerId);
  const live = await ctx.db.collection(OAUTH_STATES_COLLECTION).where('userId', '==', userId).where('expiresAt', '>', Timestamp.now()).count().get();
  if (live.data().count >= MAX_STATES_PER_USER) {
    throw new ConflictError(`too many connections in progress: finish one, or start again in ${STATE_TTL_MS / 60_000} minutes`, 'providerId');
  }
  const state = randomBytes(24).toString('base64url');
  await oauthStateRef(ctx.db, state).create({
    userId,
    providerId,
    redirectUri,
    expiresAt: Timestamp.fromMillis(Date.now() + STATE_TTL_MS),
    createdAt: FieldValue.serverTimestamp(),
  });
  return { authorizeUrl: platform.authorizeUrl({ state, redirectUri }) };
}

/**
 * Step 2, after the platform sent the user back: the state is consumed (once, by its own
 * user, in time), the code exchanged for tokens and the reachable accounts listed. Tokens
 * stay server-side until the user picks an account.
 */
export async function completeConnect(ctx: AppContext, userId: string, body: ConnectCompleteBody): Promise<ConnectCompleteResponse> {
  const { db } = ctx;
  const { platform } = authorizationFor(ctx, body.providerId);
  const ref = oauthStateRef(db, body.state);
  const snap = await ref.get();
  const unknown = new InvalidInputError('state is unknown or was already used: connect again', 'state');
  if (!snap.exists) throw unknown;
  const state = oauthStateDocumentSchema.parse(snap.data());
  if (state.userId !== userId || state.providerId !== body.providerId) throw unknown;
  try {
    // Single use even under a double submit: only one delete can match this update time.
    await ref.delete({ lastUpdateTime: snap.updateTime! });
  } catch {
    throw unknown;
  }
  if (state.expiresAt.toMillis() < Date.now()) throw new InvalidInputError('state has expired: connect again', 'state');

  let accounts: ConnectCompleteResponse['accounts'];
  let credentials;
  try {
    credentials = await platform.exchangeCode(body.code, state.redirectUri);
    accounts = await platform.listAccounts(credentials);
  } catch (error) {
    platformFailure(body.providerId, error);
  }
  await pendingConnectionRef(db, userId, body.providerId).set({
    userId,
    providerId: body.providerId,
    credentials,
    accounts,
    expiresAt: Timestamp.fromMillis(Date.now() + PENDING_TTL_MS),
  });
  return { providerId: body.providerId, accounts };
}

/**
 * Step 3: the picked account becomes the integration, the tokens move to the credentials
 * store, and history starts loading at once. Unless this account's history is already
 * loaded (historyLoadedAt), an initial backfill plus a sync of the last 30 days (so the
 * charts fill in seconds while the two years load); otherwise a manual sync to catch up.
 * A different account than before is a new connection: the old account's jobs are
 * cancelled first, and a new connectionId stops anything they still do from landing.
 */
export async function selectAccount(ctx: AppContext, userId: string, body: SelectAccountBody): Promise<EnqueuedJobResponse> {
  const { db } = ctx;
  const pendingRef = pendingConnectionRef(db, userId, body.providerId);
  const [pendingSnap, existingSnap] = await Promise.all([pendingRef.get(), integrationRef(db, userId, body.providerId).get()]);
  const pending = pendingSnap.exists ? pendingConnectionDocumentSchema.parse(pendingSnap.data()) : null;
  if (!pending || pending.expiresAt.toMillis() < Date.now()) {
    throw new ConflictError(`no ${PROVIDER_LABELS[body.providerId]} connection is waiting for an account choice: connect again`, 'providerId');
  }
  const account = pending.accounts.find((a) => a.id === body.accountId && a.managerId === body.managerId);
  if (!account) throw new InvalidInputError('accountId is not an account this connection reaches', 'accountId');

  const existing = existingSnap.exists ? integrationDocumentSchema.parse(existingSnap.data()) : null;
  const sameAccount = existing !== null && existing.accountId === account.id;
  if (existing && !sameAccount) {
    await cancelActiveSyncs(db, userId, body.providerId, `${PROVIDER_LABELS[body.providerId]} was connected to another account`, ctx.config.queue.retentionDays);
  }
  // The same account, still connected, stays the same connection: its running jobs are this connection's.
  const connectionId = sameAccount && existing.status !== 'disconnected' && existing.connectionId ? existing.connectionId : randomUUID();
  const historyLoaded = sameAccount && existing.historyLoadedAt !== null;
  const jobType: SyncJobType = historyLoaded ? 'manual-sync' : 'initial-backfill';
  const automation = existing?.automation ?? DEFAULT_AUTOMATION;
  const nextRunAt = nextRunFor(automation, new Date());
  const now = Timestamp.now();
  const writes = (batch: WriteBatch) => {
    batch.set(integrationRef(db, userId, body.providerId), {
      userId,
      providerId: body.providerId,
      status: 'connected',
      connectionId,
      accountId: account.id,
      accountName: account.name,
      timezone: account.timezone,
      currency: sameAccount ? existing.currency : null,
      loginCustomerId: account.managerId,
      automation,
      nextRunAt: nextRunAt ? Timestamp.fromDate(nextRunAt) : null,
      lastSyncedAt: sameAccount ? existing.lastSyncedAt : null,
      lastSyncStatus: sameAccount ? existing.lastSyncStatus : null,
      historyLoadedAt: sameAccount ? existing.historyLoadedAt : null,
      lastRequestedAt: now,
      lastError: null,
    });
    batch.set(credentialsRef(db, userId, body.providerId), { ...pending.credentials, updatedAt: FieldValue.serverTimestamp() });
    batch.delete(pendingRef);
    requestStart(batch, db, userId);
  };
  const { maxAttempts } = ctx.config.queue;
  const result = await enqueueJob(db, { userId, providerId: body.providerId, jobType, alsoWrite: writes }, maxAttempts);
  if (result.duplicate) {
    // The job already active is this account's: it covers the request; the connection itself still has to land.
    const batch = db.batch();
    writes(batch);
    await batch.commit();
  }
  if (jobType === 'initial-backfill') {
    // Backfills run oldest first and in their own lane; the recent weeks come at once in the sync lane.
    await enqueueJob(
      db,
      { userId, providerId: body.providerId, jobType: 'manual-sync', payload: { timeframeDays: RECENT_DAYS_FIRST }, alsoWrite: (batch) => requestStart(batch, db, userId) },
      maxAttempts,
    );
  }
  return { jobId: result.jobId, jobType, duplicate: result.duplicate, pausedUntil: null };
}
