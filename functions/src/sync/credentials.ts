import { setTimeout as sleep } from 'node:timers/promises';
import { FieldValue, Timestamp, type DocumentSnapshot, type Firestore } from 'firebase-admin/firestore';
import { AuthExpiredError, TransientError, type CredentialRefresher } from '../providers/index.js';
import { GRPC, hasCode } from '../firestore/errors.js';
import { providerCredentialsSchema, type ProviderCredentials, type ProviderId } from '../schema/index.js';
import { ConnectionChangedError, storeRefreshedCredentials } from './connection.js';
import { credentialsRef } from './store.js';

export interface RefreshOptions {
  /** How long a refresh holds the credentials without renewing its lease. Default 10 s. */
  leaseMs: number;
  /** How often a waiting refresher looks for the other one's result. Default 250 ms. */
  pollMs: number;
  /** Longest wait for another refresher before giving up with a transient error. Default 60 s. */
  maxWaitMs: number;
  /** The job's signal: once it is aborted nothing more is refreshed, stored or waited for. */
  signal?: AbortSignal;
}

const DEFAULTS: Omit<RefreshOptions, 'signal'> = { leaseMs: 10_000, pollMs: 250, maxWaitMs: 60_000 };

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
 * - a refresh holds a lease on the credentials document (`refreshingUntil`, taken and
 *   renewed with preconditions while the platform call runs): a second refresher waits
 *   for the first one's result instead of spending the refresh token again, so concurrent
 *   refreshes converge on one credential. A refresher that dies stops renewing, and its
 *   lease lapses within `leaseMs`.
 */
export class StoredCredentialRefresher implements CredentialRefresher {
  private inflight: Promise<ProviderCredentials> | null = null;
  private readonly options: RefreshOptions;

  constructor(
    private readonly db: Firestore,
    private readonly userId: string,
    private readonly providerId: ProviderId,
    options: Partial<RefreshOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  private get ref() {
    return credentialsRef(this.db, this.userId, this.providerId);
  }

  refresh(stale: ProviderCredentials, refreshAtPlatform: () => Promise<ProviderCredentials>): Promise<ProviderCredentials> {
    this.inflight ??= this.refreshOnce(stale, refreshAtPlatform).finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async refreshOnce(stale: ProviderCredentials, refreshAtPlatform: () => Promise<ProviderCredentials>): Promise<ProviderCredentials> {
    const { signal, leaseMs, pollMs, maxWaitMs } = this.options;
    const giveUpAt = Date.now() + maxWaitMs;
    for (;;) {
      signal?.throwIfAborted();
      const snap = await this.ref.get();
      const stored = storedOf(snap);
      if (stored && stored.accessToken !== stale.accessToken) return stored;
      const busyUntil = (snap.get('refreshingUntil') as Timestamp | undefined)?.toMillis() ?? 0;
      if (busyUntil > Date.now()) {
        if (Date.now() > giveUpAt) throw new TransientError(this.providerId, 'another refresh of these credentials did not finish');
        await sleep(pollMs, undefined, { signal });
        continue;
      }
      // Deleted by a disconnect: refreshing now would only bring the tokens back.
      if (!snap.exists) throw new ConnectionChangedError(this.providerId, 'was disconnected');
      try {
        const taken = await this.ref.update({ refreshingUntil: Timestamp.fromMillis(Date.now() + leaseMs) }, { lastUpdateTime: snap.updateTime! });
        return await this.refreshHolding(stale, refreshAtPlatform, taken.writeTime);
      } catch (error) {
        if (hasCode(error, GRPC.FAILED_PRECONDITION)) continue;
        throw error;
      }
    }
  }

  /** Calls the platform while renewing the lease (version: the lease write's update time). */
  private async refreshHolding(stale: ProviderCredentials, refreshAtPlatform: () => Promise<ProviderCredentials>, version: Timestamp): Promise<ProviderCredentials> {
    const { signal, leaseMs } = this.options;
    let held: Timestamp | null = version;
    let renewing: Promise<unknown> = Promise.resolve();
    const renew = setInterval(() => {
      if (!held) return;
      const at = held;
      renewing = this.ref
        .update({ refreshingUntil: Timestamp.fromMillis(Date.now() + leaseMs) }, { lastUpdateTime: at })
        .then((r) => void (held = r.writeTime), () => void (held = null));
    }, leaseMs / 3);
    let fresh: ProviderCredentials;
    try {
      fresh = await refreshAtPlatform();
    } catch (error) {
      clearInterval(renew);
      await renewing;
      if (held) await this.ref.update({ refreshingUntil: FieldValue.delete() }, { lastUpdateTime: held }).catch(() => undefined);
      // A refused refresh may only mean someone else spent the refresh token first: take theirs.
      if (error instanceof AuthExpiredError) {
        const stored = storedOf(await this.ref.get());
        if (stored && stored.accessToken !== stale.accessToken) return stored;
      }
      throw error;
    }
    clearInterval(renew);
    await renewing;
    // Stored at once, even when the job has timed out meanwhile: the platform may have
    // spent the old refresh token. Never over a disconnect or a newer connection's tokens.
    const current = await storeRefreshedCredentials(this.db, this.userId, this.providerId, stale, fresh);
    signal?.throwIfAborted();
    return current;
  }
}
