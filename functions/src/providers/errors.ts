import { PROVIDER_LABELS } from '../schema/common.js';
import type { ProviderId } from '../schema/common.js';

/** Every message a connector error carries is built here, so wording stays consistent. */
export const providerMessages = {
  authExpired: (provider: ProviderId, reason: string) =>
    `${PROVIDER_LABELS[provider]} access has expired or was revoked (${reason}): reconnect ${PROVIDER_LABELS[provider]}.`,
  permission: (provider: ProviderId, permission: string) =>
    `${PROVIDER_LABELS[provider]} denied access: the connected user needs the "${permission}" permission.`,
  managerRequired: (provider: ProviderId) =>
    `${PROVIDER_LABELS[provider]} denied access to the account: it is reached through a manager account, which must be chosen for this connection: reconnect ${PROVIDER_LABELS[provider]} and pick the manager.`,
  rateLimited: (provider: ProviderId, retryAfterMs: number, limit = 'rate limit reached') =>
    `${PROVIDER_LABELS[provider]} ${limit}; retry in ${formatWait(retryAfterMs)}.`,
  transient: (provider: ProviderId, detail: string) => `${PROVIDER_LABELS[provider]} is temporarily unavailable: ${detail}.`,
  permanent: (provider: ProviderId, detail: string, record?: string) =>
    `${PROVIDER_LABELS[provider]} rejected the request: ${detail}${record ? ` (${record})` : ''}.`,
};

export abstract class ProviderError extends Error {
  abstract readonly retryable: boolean;
  constructor(
    readonly provider: ProviderId,
    message: string,
  ) {
    super(message);
  }
}

/** The user must reconnect the platform: no retry helps. */
export class AuthExpiredError extends ProviderError {
  override readonly name = 'AuthExpiredError';
  readonly retryable = false;
  constructor(provider: ProviderId, readonly reason: string) {
    super(provider, providerMessages.authExpired(provider, reason));
  }
}

export class PermissionError extends ProviderError {
  override readonly name = 'PermissionError';
  readonly retryable = false;
  constructor(
    provider: ProviderId,
    readonly permission: string,
    message = providerMessages.permission(provider, permission),
  ) {
    super(provider, message);
  }
}

/** Whose budget ran out: this request's, one connection's (a user's token), or the whole platform's (the app's). */
export type RateLimitScope = 'request' | 'connection' | 'platform';

export interface RateLimitDetails {
  /** Default 'request'. */
  scope?: RateLimitScope;
  /** What ran out, in words for the user ("daily request limit reached"). */
  limit?: string;
  /** When the limit resets (epoch ms), when the platform names a moment rather than a wait. */
  resumeAt?: number;
}

export class RateLimitedError extends ProviderError {
  override readonly name = 'RateLimitedError';
  readonly retryable = true;
  readonly scope: RateLimitScope;
  /** Epoch ms from which the platform accepts requests again. */
  readonly resumeAt: number;
  constructor(
    provider: ProviderId,
    readonly retryAfterMs: number,
    readonly details: RateLimitDetails = {},
  ) {
    super(provider, providerMessages.rateLimited(provider, retryAfterMs, details.limit));
    this.scope = details.scope ?? 'request';
    this.resumeAt = details.resumeAt ?? Date.now() + retryAfterMs;
  }

  /** The same limit with a longer wait (a platform's hint below the client's floor). */
  waitingAtLeast(ms: number): RateLimitedError {
    return this.retryAfterMs >= ms ? this : new RateLimitedError(this.provider, ms, { ...this.details, resumeAt: undefined });
  }
}

/** "45 s", "3 min", "5 h 12 min": never "0 s". */
export function formatWait(ms: number): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  if (seconds < 120) return `${seconds} s`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 120) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`;
}

/** Server errors, timeouts, network failures: worth retrying later. */
export class TransientError extends ProviderError {
  override readonly name = 'TransientError';
  readonly retryable = true;
  constructor(provider: ProviderId, readonly detail: string) {
    super(provider, providerMessages.transient(provider, detail));
  }
}

/** A bad request or bad data: retrying the same thing fails the same way. */
export class PermanentError extends ProviderError {
  override readonly name = 'PermanentError';
  readonly retryable = false;
  constructor(provider: ProviderId, readonly detail: string, readonly record?: string) {
    super(provider, providerMessages.permanent(provider, detail, record));
  }
}
