import { PROVIDER_LABELS } from '../schema/common.js';
import type { ProviderId } from '../schema/common.js';

/** Every message a connector error carries is built here, so wording stays consistent. */
export const providerMessages = {
  authExpired: (provider: ProviderId, reason: string) =>
    `${PROVIDER_LABELS[provider]} access has expired or was revoked (${reason}): reconnect ${PROVIDER_LABELS[provider]}.`,
  permission: (provider: ProviderId, permission: string) =>
    `${PROVIDER_LABELS[provider]} denied access: the connected user needs the "${permission}" permission.`,
  rateLimited: (provider: ProviderId, retryAfterMs: number) =>
    `${PROVIDER_LABELS[provider]} rate limit reached; retry in ${Math.ceil(retryAfterMs / 1000)} s.`,
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
  constructor(provider: ProviderId, readonly permission: string) {
    super(provider, providerMessages.permission(provider, permission));
  }
}

export class RateLimitedError extends ProviderError {
  override readonly name = 'RateLimitedError';
  readonly retryable = true;
  constructor(provider: ProviderId, readonly retryAfterMs: number) {
    super(provider, providerMessages.rateLimited(provider, retryAfterMs));
  }
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
