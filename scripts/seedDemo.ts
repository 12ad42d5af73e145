/**
 * Demo data for `npm start`: a demo user whose four platforms show the product (one synced
 * with months of data, one asking to reconnect, one not connected, one with its history
 * loading), an admin, and a few hundred users with integrations in every state, so the
 * queue has real work.
 */
import { getApps, initializeApp } from 'firebase-admin/app';
import { getAuth } from 'firebase-admin/auth';
import { Timestamp, getFirestore, type Firestore } from 'firebase-admin/firestore';
import { nextRunAfter } from '../functions/src/scheduler/cadence.js';
import { requestStart } from '../functions/src/scheduler/startNow.js';
import { PROVIDER_IDS, CADENCES, integrationDocument, type IntegrationDocument, type ProviderId } from '../functions/src/schema/index.js';
import { backfillChunks } from '../functions/src/sync/window.js';
import { credentialsRef, emptyStoredMetrics, integrationRef, writeMetrics } from '../functions/src/sync/store.js';
import { expectedRows } from './sandbox/data.js';
import type { Sandbox } from './sandbox/server.js';
import { DEMO_ADMIN_EMAIL, DEMO_PASSWORD, DEMO_USER_EMAIL } from './localConfig.js';
import { enqueueJob } from '../functions/src/scheduler/jobs.js';

const DAY = 86_400_000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The demo user's own four platforms, each in another state. */
async function seedDemoUser(db: Firestore, sandbox: Sandbox, uid: string): Promise<void> {
  const now = Date.now();
  const base = (providerId: ProviderId, accountId: string, accountName: string): IntegrationDocument =>
    integrationDocument({
      userId: uid,
      providerId,
      connectionId: `demo-${providerId}`,
      accountId,
      accountName,
      nextRunAt: Timestamp.fromDate(nextRunAfter('daily', new Date(now))),
      lastSyncedAt: Timestamp.fromMillis(now - 2 * 3_600_000),
      lastSyncStatus: 'succeeded',
      historyLoadedAt: Timestamp.fromMillis(now - 30 * DAY),
      lastRequestedAt: Timestamp.fromMillis(now - 2 * 3_600_000),
    });
  // Google Ads: synced, six months of data, reached through a manager account.
  const google = { ...base('google', '1234567890', 'Northwind Coffee'), loginCustomerId: '1112223334' };
  // Meta Ads: the grant was revoked three days ago; the card asks to reconnect.
  const meta: IntegrationDocument = {
    ...base('meta', '2345678901', 'Contoso Bikes'),
    status: 'error',
    lastSyncedAt: Timestamp.fromMillis(now - 3 * DAY),
    lastSyncStatus: 'failed',
    lastRequestedAt: Timestamp.fromMillis(now - 3 * DAY + 3_600_000),
    lastError: 'Meta Ads access has expired or was revoked (code 190, subcode 458): reconnect Meta Ads.',
  };
  // TikTok Ads: connected a few minutes ago, its two years of history a third loaded.
  const tiktok = { ...base('tiktok', '7000000000000000001', 'Fabrikam Shoes'), historyLoadedAt: null, lastSyncedAt: Timestamp.fromMillis(now - 4 * 60_000), lastRequestedAt: Timestamp.fromMillis(now - 5 * 60_000) };

  const writer = db.bulkWriter();
  for (const integration of [google, meta, tiktok]) {
    void writer.set(integrationRef(db, uid, integration.providerId), integration);
    const issued = sandbox.issueCredentials(integration.providerId, 365 * 86_400);
    void writer.set(credentialsRef(db, uid, integration.providerId), { ...issued, refreshToken: integration.providerId === 'google' ? issued.refreshToken : null });
  }
  await writer.close();
  const window = (days: number, endAgo = 0) => ({ start: isoDay(now - (days + endAgo - 1) * DAY), end: isoDay(now - endAgo * DAY) });
  for (const [providerId, accountId, span] of [
    ['google', google.accountId, window(183)],
    ['meta', meta.accountId, window(120, 3)],
    ['tiktok', tiktok.accountId, window(30)],
  ] as const) {
    await writeMetrics(db, uid, expectedRows(providerId, accountId!, 'campaign-daily', span), emptyStoredMetrics());
  }
  // The start request runs it at once. Planned in 5-day parts (production plans 90), a third
  // done: with the demo sandbox's slow TikTok it stays visibly under way, with its ETA, for
  // the first minutes.
  const chunks = backfillChunks(730, 5, 'UTC').map(({ start, end }) => ({ start, end }));
  const startedAt = now - 4 * 60_000;
  await enqueueJob(db, {
    userId: uid,
    providerId: 'tiktok',
    jobType: 'initial-backfill',
    payload: { firstStartedAt: startedAt, backfill: { chunks, next: Math.floor(chunks.length / 3), firstStartedAt: startedAt } },
    alsoWrite: (batch) => requestStart(batch, db, uid),
  });
}

/** Account ids in each platform's own format, as a user would paste them. */
function demoAccount(providerId: ProviderId, u: number): string {
  switch (providerId) {
    case 'meta':
      return `act_${1_000_000 + u}`;
    case 'google':
      return String(1_000_000_000 + u);
    case 'linkedin':
      return `urn:li:sponsoredAccount:${500_000 + u}`;
    case 'tiktok':
      return `70000000000${String(u).padStart(8, '0')}`;
  }
}

export async function seedDemo(projectId: string, sandbox: Sandbox, userCount = 200): Promise<{ demoUid: string }> {
  const app = getApps()[0] ?? initializeApp({ projectId });
  const db = getFirestore(app);
  const auth = getAuth(app);
  const ensureUser = async (email: string, claims?: Record<string, unknown>) => {
    const user = await auth.getUserByEmail(email).catch(() => auth.createUser({ email, password: DEMO_PASSWORD, emailVerified: true }));
    if (claims) await auth.setCustomUserClaims(user.uid, claims);
    return user.uid;
  };
  const demoUid = await ensureUser(DEMO_USER_EMAIL);
  await ensureUser(DEMO_ADMIN_EMAIL, { admin: true });

  const writer = db.bulkWriter();
  const now = Date.now();
  void writer.set(db.collection('users').doc(demoUid), { email: DEMO_USER_EMAIL, displayName: 'Demo Marketer', createdAt: Timestamp.fromMillis(now) });
  const users = Array.from({ length: userCount - 1 }, (_, i) => `demo-user-${String(i + 1).padStart(4, '0')}`);
  users.forEach((userId, u) => {
    void writer.set(db.collection('users').doc(userId), { email: `${userId}@example.com`, displayName: userId, createdAt: Timestamp.fromMillis(now) });
    PROVIDER_IDS.slice(0, 1 + (u % PROVIDER_IDS.length)).forEach((providerId, p) => {
      void writer.set(
        db.collection('users').doc(userId).collection('integrations').doc(providerId),
        integrationDocument({
          userId,
          providerId,
          status: (u + p) % 11 === 5 ? 'disconnected' : 'connected',
          accountId: demoAccount(providerId, u),
          automation: { enabled: (u + p) % 7 !== 3, cadence: CADENCES[(u + p) % CADENCES.length]!, lookbackDays: null },
          // Half are due now, the rest over the next day.
          nextRunAt: Timestamp.fromMillis(now + (u % 2 === 0 ? -60_000 : (u % 24) * 3_600_000)),
        }),
      );
      // The sandbox accepts any token; in production these come from the OAuth connect flow.
      void writer.set(credentialsRef(db, userId, providerId), {
        accessToken: `demo-${providerId}-${userId}`,
        refreshToken: providerId === 'meta' ? null : `demo-refresh-${providerId}-${userId}`,
        expiresAt: null,
      });
    });
  });
  await writer.close();
  await seedDemoUser(db, sandbox, demoUid);
  return { demoUid };
}
