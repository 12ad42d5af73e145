import { PROVIDER_IDS } from '../schema/common.js';
import { RequestGate, type PacingOptions, type RequestLane } from './requestGate.js';
import type { HttpPolicy, ResponseObserver } from './http.js';
import { ProviderHttpClient, resolvePolicy } from './http.js';
import { GoogleAdsConnector } from './google.js';
import type { GoogleAdsConfig } from './google.js';
import { LinkedInConnector } from './linkedin.js';
import type { LinkedInConfig } from './linkedin.js';
import { MetaConnector } from './meta.js';
import type { MetaConfig } from './meta.js';
import { TikTokConnector } from './tiktok.js';
import type { TikTokConfig } from './tiktok.js';
import type { Connector, ProviderId } from './types.js';

export * from './errors.js';
export type * from './types.js';
export type { HttpPolicy } from './http.js';
export { RequestGate } from './requestGate.js';
export type { PacingOptions, RequestLane } from './requestGate.js';
export { API_VERSIONS, SUNSET_WARNING_DAYS, apiVersionStatus } from './versions.js';
export { TOKEN_EXPIRY_MARGIN_MS, tokenExpiresSoon } from './session.js';
export type { ApiVersionStatus, PinnedApiVersion } from './versions.js';
export type { GoogleAdsConfig, LinkedInConfig, MetaConfig, TikTokConfig };

/** A platform is available when its section is present; base URLs default to the real APIs. */
export interface ConnectorsConfig {
  meta?: MetaConfig;
  google?: GoogleAdsConfig;
  linkedin?: LinkedInConfig;
  tiktok?: TikTokConfig;
  /** Applies to every platform; a platform's own `http` wins. */
  http?: Partial<HttpPolicy>;
  /** Each platform's known request rate and its bounds (PLATFORM_POLICY's requestsPerSecond otherwise). */
  pacing?: Partial<Record<ProviderId, Partial<PacingOptions>>>;
}

export type PlatformGates = ReadonlyMap<ProviderId, RequestGate>;

/**
 * One gate per platform for everything this process sends: pass the same gates to the daily
 * and the backfill connectors so both lanes share each platform's rate.
 */
export function createGates(config: ConnectorsConfig, shares: { backfillShare?: number; processShare?: number } = {}): PlatformGates {
  const gates = new Map<ProviderId, RequestGate>();
  for (const id of PROVIDER_IDS) {
    const policy = resolvePolicy(PLATFORM_POLICY[id], config.http, config[id]?.http);
    const known: PacingOptions = { requestsPerSecond: policy.requestsPerSecond, ...config.pacing?.[id] };
    gates.set(id, new RequestGate({ ...known, ...withHeadroom(known), ...shares }));
  }
  return gates;
}

/**
 * A platform counts requests as they arrive in its own window; requests sent exactly at its
 * limit arrive a few milliseconds early or late and now and then an eleventh lands in a
 * second of ten. Pacing at 90 % of a stated limit keeps clear of that: a refusal costs far
 * more (Meta's shortest wait is a minute) than the tenth given up.
 */
export const KNOWN_RATE_HEADROOM = 0.9;

function withHeadroom(known: PacingOptions): Pick<PacingOptions, 'requestsPerSecond' | 'maxRequestsPerSecond'> {
  const scaled = (rate: number | null | undefined) => (typeof rate === 'number' ? rate * KNOWN_RATE_HEADROOM : rate);
  return {
    requestsPerSecond: scaled(known.requestsPerSecond) ?? null,
    ...(known.maxRequestsPerSecond !== undefined ? { maxRequestsPerSecond: scaled(known.maxRequestsPerSecond) } : {}),
  };
}

export interface ConnectorRegistry {
  /** Throws when the platform is not configured. */
  get(providerId: ProviderId): Connector;
  has(providerId: ProviderId): boolean;
  all(): Connector[];
}

/** Sane per-platform pacing: TikTok and LinkedIn limit per second / per day far below Google. */
const PLATFORM_POLICY: Record<ProviderId, Partial<HttpPolicy>> = {
  // Meta budgets calls and CPU time per hour (usage headers, obeyed by MetaConnector.observeUsage), not
  // requests in flight: more at once costs no extra calls, it only lets window slices run side by side.
  // Meta states its wait in whole minutes (estimated_time_to_regain_access), so 0 means "under a
  // minute": a minute is the shortest wait that is sure to be long enough.
  meta: { concurrency: 24, minRateLimitWaitMs: 60_000 },
  google: { concurrency: 8 },
  linkedin: { concurrency: 4 },
  tiktok: { concurrency: 4, requestsPerSecond: 10 },
};

export function createConnectors(config: ConnectorsConfig, pacing: { gates?: PlatformGates; lane?: RequestLane } = {}): ConnectorRegistry {
  const connectors = new Map<ProviderId, Connector>();
  const gates = pacing.gates ?? createGates(config);
  const client = (id: ProviderId, own: Partial<HttpPolicy> | undefined, observe?: ResponseObserver) =>
    new ProviderHttpClient(id, resolvePolicy(PLATFORM_POLICY[id], config.http, own), observe, { gate: gates.get(id), lane: pacing.lane });

  if (config.meta) {
    const usage = MetaConnector.observeUsage(config.meta.usageThresholdPct ?? 90);
    connectors.set('meta', new MetaConnector(config.meta, client('meta', config.meta.http, usage)));
  }
  if (config.google) connectors.set('google', new GoogleAdsConnector(config.google, client('google', config.google.http)));
  if (config.linkedin) connectors.set('linkedin', new LinkedInConnector(config.linkedin, client('linkedin', config.linkedin.http)));
  if (config.tiktok) connectors.set('tiktok', new TikTokConnector(config.tiktok, client('tiktok', config.tiktok.http)));

  return {
    get(providerId) {
      const connector = connectors.get(providerId);
      if (!connector) throw new Error(`no connector configured for ${providerId}`);
      return connector;
    },
    has: (providerId) => connectors.has(providerId),
    all: () => [...connectors.values()],
  };
}
