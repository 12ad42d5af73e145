import { randomBytes } from 'node:crypto';
import type { ProviderId } from '../../functions/src/providers/types.js';

export interface RateLimitFault {
  /** Data requests answered normally before the limit starts. Default 0. */
  after?: number;
  /** Data requests then answered with the platform's rate-limit response. */
  count: number;
  /** The wait the platform asks for (Retry-After, retryDelay, Meta's reset hints). Default 1. */
  retryAfterSeconds?: number;
}

/** Per-platform misbehaviour. Counters start when the faults are set; setting faults replaces the previous ones. */
export interface ProviderFaults {
  /** Extra delay on every request to this platform. */
  latencyMs?: number;
  rateLimit?: RateLimitFault;
  /** Enforced limit: data requests beyond this many in the last second get the rate-limit response. */
  requestsPerSecond?: number;
  /** The next N data requests answer a server error. */
  serverErrors?: number;
  /** Access tokens issued before now fail (as expired) until a refresh issues a new one. */
  expiredTokens?: boolean;
  /** Every access token and refresh token is refused. */
  revoked?: boolean;
  /** Extra delay on every page after the first. */
  slowPageMs?: number;
  /** The next N data requests are refused as malformed, in the platform's style. */
  invalidRequests?: number;
  /** Meta: the utilisation its usage headers report (percent). Default grows with recent traffic. */
  usagePct?: number;
  /** Meta: the seconds until usage resets that its headers announce (reset_time_duration). Default 0. */
  usageResetSeconds?: number;
  /** Meta: status polls answered before an async report ends ("Job Not Started", "Job Started", then "Job Running"). Default 1. */
  asyncPolls?: number;
  /** Meta: async report jobs end as "Job Failed". */
  asyncJobsFail?: boolean;
  /** Meta: async report jobs end as "Job Skipped". */
  asyncJobsSkip?: boolean;
  /** Meta: the throttle answer, 17 / 2446079 (default) or 613 / 1487742. */
  metaThrottleCode?: 17 | 613;
  /**
   * LinkedIn: rate-limit answers name the daily limit of the application or of the member
   * (the user's token). Default: a short-lived throttle that names no limit.
   */
  linkedinDailyLimit?: 'APPLICATION' | 'MEMBER';
  /**
   * Meta: how a synchronous insights request over `metaSyncRowLimit` is refused. Default
   * "reduce-data" (HTTP 500, code 1, no subcode), the answer Meta is reported to send.
   */
  metaOversizedAs?: MetaOversizedAnswer;
}

/** The answers Meta gives a synchronous insights request that is too heavy (sources in the README). */
export type MetaOversizedAnswer = 'reduce-data' | 'reduce-data-100' | 'timeout-100' | 'timeout-2';

export interface RequestLogEntry {
  provider: ProviderId;
  method: string;
  /** Path below the platform's prefix, without the query: "/v25.0/act_1/insights", "/token". */
  path: string;
  /** Request headers as received (lower-case names). */
  headers: Record<string, string>;
  status: number;
  /** The platform's own error code in the body, when it sent one (Meta's error.code, Google's error.status, ...). */
  code: string | null;
  /** When the request arrived (epoch ms). */
  receivedAt: number;
  /** When it was answered, or given up on because the client had gone (epoch ms). */
  at: number;
  /** The client hung up before the answer was sent (an aborted request). */
  clientClosed: boolean;
}

export interface RequestStats {
  total: number;
  /** Keyed "METHOD path", e.g. "POST /token". */
  byPath: Record<string, number>;
  log: RequestLogEntry[];
}

export interface IssuedCredentials {
  accessToken: string;
  refreshToken: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

interface ProviderState {
  faults: ProviderFaults;
  dataRequests: number;
  rateLimited: number;
  serverErrorsLeft: number;
  invalidLeft: number;
  /** Tokens issued at or before this sequence number count as expired. */
  expiredUpTo: number | null;
  recent: number[];
}

export type DataFault = { type: 'server-error' } | { type: 'rate-limit'; retryAfterSeconds: number } | { type: 'invalid' } | null;

export class SandboxState {
  private readonly providers = new Map<ProviderId, ProviderState>();
  private readonly tokens = new Map<string, { provider: ProviderId; seq: number }>();
  private seq = 0;
  private log: RequestLogEntry[] = [];
  /** Google Ads client accounts the user reaches only through a manager account: client -> manager. */
  googleManagers = new Map<string, string>();
  latencyMs: number;

  constructor(
    latencyMs: number,
    private readonly logLimit = Number.POSITIVE_INFINITY,
  ) {
    this.latencyMs = latencyMs;
  }

  private state(provider: ProviderId): ProviderState {
    let s = this.providers.get(provider);
    if (!s) {
      s = { faults: {}, dataRequests: 0, rateLimited: 0, serverErrorsLeft: 0, invalidLeft: 0, expiredUpTo: null, recent: [] };
      this.providers.set(provider, s);
    }
    return s;
  }

  faults(provider: ProviderId): ProviderFaults {
    return this.state(provider).faults;
  }

  setFaults(provider: ProviderId, faults: ProviderFaults): void {
    this.providers.set(provider, {
      faults: { ...faults },
      dataRequests: 0,
      rateLimited: 0,
      serverErrorsLeft: faults.serverErrors ?? 0,
      invalidLeft: faults.invalidRequests ?? 0,
      expiredUpTo: faults.expiredTokens ? this.seq : null,
      recent: [],
    });
  }

  /** Decides, in order, whether a data request meets a server error, a rate limit or a malformed-request refusal. */
  nextDataFault(provider: ProviderId, now = Date.now()): DataFault {
    const s = this.state(provider);
    s.dataRequests += 1;
    if (s.serverErrorsLeft > 0) {
      s.serverErrorsLeft -= 1;
      return { type: 'server-error' };
    }
    const limit = s.faults.rateLimit;
    if (limit && s.dataRequests > (limit.after ?? 0) && s.rateLimited < limit.count) {
      s.rateLimited += 1;
      return { type: 'rate-limit', retryAfterSeconds: limit.retryAfterSeconds ?? 1 };
    }
    if (s.faults.requestsPerSecond !== undefined) {
      s.recent = s.recent.filter((t) => t > now - 1000);
      if (s.recent.length >= s.faults.requestsPerSecond) return { type: 'rate-limit', retryAfterSeconds: 1 };
      s.recent.push(now);
    }
    if (s.invalidLeft > 0) {
      s.invalidLeft -= 1;
      return { type: 'invalid' };
    }
    return null;
  }

  issue(provider: ProviderId, expiresInSeconds: number): IssuedCredentials {
    const seq = ++this.seq;
    const accessToken = `sbx-${provider}-at-${seq}-${randomBytes(6).toString('hex')}`;
    this.tokens.set(accessToken, { provider, seq });
    return { accessToken, refreshToken: `sbx-${provider}-rt-${seq}-${randomBytes(6).toString('hex')}`, expiresAt: Date.now() + expiresInSeconds * 1000 };
  }

  /** Any non-empty token is accepted (demo and tests invent their own) unless a fault says otherwise. */
  accessTokenStatus(provider: ProviderId, token: string | null): 'ok' | 'missing' | 'expired' | 'revoked' {
    if (!token) return 'missing';
    const s = this.state(provider);
    if (s.faults.revoked) return 'revoked';
    if (s.expiredUpTo !== null) {
      const issued = this.tokens.get(token);
      if (!issued || issued.provider !== provider || issued.seq <= s.expiredUpTo) return 'expired';
    }
    return 'ok';
  }

  refreshTokenUsable(provider: ProviderId, token: string | null): boolean {
    return !!token && !this.state(provider).faults.revoked;
  }

  record(entry: RequestLogEntry): void {
    this.log.push(entry);
    // Trimmed in steps, so a long-running sandbox does not copy its log on every request.
    if (this.log.length > this.logLimit * 2) this.log = this.log.slice(-this.logLimit);
  }

  stats(provider?: ProviderId): RequestStats {
    const kept = this.log.slice(-this.logLimit);
    const log = provider ? kept.filter((e) => e.provider === provider) : kept;
    const byPath: Record<string, number> = {};
    for (const e of log) byPath[`${e.method} ${e.path}`] = (byPath[`${e.method} ${e.path}`] ?? 0) + 1;
    return { total: log.length, byPath, log };
  }

  resetStats(): void {
    this.log = [];
  }
}
