import { Timestamp, type Firestore } from 'firebase-admin/firestore';
import { integrationDocument, type Cadence, type IntegrationStatus, type ProviderId } from '../../functions/src/schema/index.js';

export interface SeedIntegration {
  userId: string;
  providerId: ProviderId;
  status?: IntegrationStatus;
  enabled?: boolean;
  cadence?: Cadence;
  nextRunAt?: Date | null;
}

/** Writes users and integrations with a BulkWriter (fast on the emulator). */
export async function seedIntegrations(db: Firestore, integrations: SeedIntegration[]): Promise<void> {
  const writer = db.bulkWriter();
  const users = new Set<string>();
  for (const i of integrations) {
    if (!users.has(i.userId)) {
      users.add(i.userId);
      void writer.set(db.collection('users').doc(i.userId), { email: `${i.userId}@example.com`, displayName: i.userId, createdAt: Timestamp.now() });
    }
    void writer.set(
      db.collection('users').doc(i.userId).collection('integrations').doc(i.providerId),
      integrationDocument({
        userId: i.userId,
        providerId: i.providerId,
        status: i.status ?? 'connected',
        accountId: `acct-${i.userId}-${i.providerId}`,
        automation: { enabled: i.enabled ?? true, cadence: i.cadence ?? 'daily', lookbackDays: 28 },
        nextRunAt: i.nextRunAt === undefined ? Timestamp.fromMillis(Date.now() - 60_000) : i.nextRunAt && Timestamp.fromDate(i.nextRunAt),
      }),
    );
  }
  await writer.close();
}
