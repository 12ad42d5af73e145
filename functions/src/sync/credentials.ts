import { setTimeout as sleep } from 'node:timers/promises';
import { FieldValue, Timestamp, type DocumentSnapshot, type Firestore } from 'firebase-admin/firestore';
import { AuthExpiredError, TransientError, type CredentialRefresher } from '../providers/index.js';
import { GRPC, hasCode } from '../queue/index.js';
import { providerCredentialsSchema, type ProviderCredentials, type ProviderId } from '../schema/index.js';
import { credentialsRef, saveCredentials } from './store.js';

export interface RefreshTiming {
  /** How long one refresh may hold the credentials; above the HTTP client's 60 s request timeout. Default 90 s. */
  leaseMs: number;
  /** How often a waiting refresher looks for the other one's result. Default 250 ms. */
  pollMs: number;
}

const DEFAULT_TIMING: RefreshTiming = { leaseMs: 90_000, pollMs: 250 };

const storedOf = (snap: DocumentSnapshot): ProviderCredentials | null => {
  const parsed = providerCredentialsSchema.safeParse(snap.data());
  return parsed.success ? parsed.data : null;
};

/**
 * One integration's token refreshes, shared by every report of a sync and by every worker
 * (the sync and backfill lanes may refresh the same credentials at the same moment):
 * - new credentials are stored the moment the platform issues them, so a token that
 *   rotates on refresh is never lost to a failure later in the sync;
 * - credentials someone else refreshed meanwhile are taken as they are, without a refresh;
 * - a refresh holds a short lease on the credentials document (`refreshingUntil`, taken
 *   with a precondition): a second refresher waits for the first one's result instead of
 *   spending the refresh token again, so concurrent refreshes converge on one credential.
 */
export class StoredCredentialRefresher implements CredentialRefresher {
  private inflight: Promise<ProviderCredentials> | null = null;
  private readonly timing: RefreshTiming;

  constructor(
    private readonly db: Firestore,
    private readonly userId: string,
    private readonly providerId: ProviderId,
    timing: Partial<RefreshTiming> = {},
  ) {
    this.timing = { ...DEFAULT_TIMING, ...timing };
  }

  refresh(stale: ProviderCredentials, refreshAtPlatform: () => Promise<ProviderCredentials>): Promise<ProviderCredentials> {
    this.inflight ??= this.refreshOnce(stale, refreshAtPlatform).finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async refreshOnce(stale: ProviderCredentials, refreshAtPlatform: () => Promise<ProviderCredentials>): Promise<ProviderCredentials> {
    const ref = credentialsRef(this.db, this.userId, this.providerId);
    const giveUpAt = Date.now() + this.timing.leaseMs;
    for (;;) {
      const snap = await ref.get();
      const stored = storedOf(snap);
      if (stored && stored.accessToken !== stale.accessToken) return stored;
      const busyUntil = (snap.get('refreshingUntil') as Timestamp | undefined)?.toMillis() ?? 0;
      if (busyUntil > Date.now()) {
        if (Date.now() > giveUpAt) throw new TransientError(this.providerId, 'another refresh of these credentials did not finish');
        await sleep(this.timing.pollMs);
        continue;
      }
      if (snap.exists) {
        try {
          await ref.update({ refreshingUntil: Timestamp.fromMillis(Date.now() + this.timing.leaseMs) }, { lastUpdateTime: snap.updateTime! });
        } catch (error) {
          if (hasCode(error, GRPC.FAILED_PRECONDITION)) continue;
          throw error;
        }
      }
      return this.refreshHoldingLease(stale, refreshAtPlatform);
    }
  }

  private async refreshHoldingLease(stale: ProviderCredentials, refreshAtPlatform: () => Promise<ProviderCredentials>): Promise<ProviderCredentials> {
    const ref = credentialsRef(this.db, this.userId, this.providerId);
    let fresh: ProviderCredentials;
    try {
      fresh = await refreshAtPlatform();
    } catch (error) {
      await ref.update({ refreshingUntil: FieldValue.delete() }).catch(() => undefined);
      // A refused refresh may only mean someone else spent the refresh token first: take theirs.
      if (error instanceof AuthExpiredError) {
        const stored = storedOf(await ref.get());
        if (stored && stored.accessToken !== stale.accessToken) return stored;
      }
      throw error;
    }
    // Stored at once; the whole-document write also releases the lease.
    await saveCredentials(this.db, this.userId, this.providerId, fresh);
    return fresh;
  }
}
