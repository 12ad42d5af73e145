/**
 * Demo data for `npm start`: a demo user and an admin in the Auth emulator, and a few
 * hundred users with integrations in every state, so the queue has real work.
 */
import { getApps, initializeApp } from 'firebase-admin/app';
import { getAuth } from 'firebase-admin/auth';
import { Timestamp, getFirestore } from 'firebase-admin/firestore';
import { PROVIDER_IDS, CADENCES, type ProviderId } from '../functions/src/schema/index.js';
import { credentialsRef } from '../functions/src/sync/store.js';
import { DEMO_ADMIN_EMAIL, DEMO_PASSWORD, DEMO_USER_EMAIL } from './localConfig.js';

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

export async function seedDemo(projectId: string, userCount = 200): Promise<{ demoUid: string }> {
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
  const users = [demoUid, ...Array.from({ length: userCount - 1 }, (_, i) => `demo-user-${String(i + 1).padStart(4, '0')}`)];
  users.forEach((userId, u) => {
    void writer.set(db.collection('users').doc(userId), {
      email: userId === demoUid ? DEMO_USER_EMAIL : `${userId}@example.com`,
      displayName: userId === demoUid ? 'Demo Marketer' : userId,
      createdAt: Timestamp.fromMillis(now),
    });
    PROVIDER_IDS.slice(0, 1 + (u % PROVIDER_IDS.length)).forEach((providerId, p) => {
      void writer.set(db.collection('users').doc(userId).collection('integrations').doc(providerId), {
        userId,
        providerId,
        status: (u + p) % 11 === 5 ? 'disconnected' : 'connected',
        accountId: demoAccount(providerId, u),
        timezone: 'UTC',
        automation: { enabled: (u + p) % 7 !== 3, cadence: CADENCES[(u + p) % CADENCES.length], lookbackDays: null },
        // Half are due now, the rest over the next day.
        nextRunAt: Timestamp.fromMillis(now + (u % 2 === 0 ? -60_000 : (u % 24) * 3_600_000)),
        lastSyncedAt: null,
        lastSyncStatus: null,
        lastRequestedAt: null,
        lastError: null,
      });
      // The sandbox accepts any token; in production these come from the OAuth connect flow.
      void writer.set(credentialsRef(db, userId, providerId), {
        accessToken: `demo-${providerId}-${userId}`,
        refreshToken: providerId === 'meta' ? null : `demo-refresh-${providerId}-${userId}`,
        expiresAt: null,
      });
    });
  });
  await writer.close();
  return { demoUid };
}
