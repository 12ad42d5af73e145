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
  /** A refresh token works once: each refresh issues a new one and spends the old (TikTok, some Google setups). */
  rotateRefreshTokens?: boolean;
  /** Extra delay on every page after the first. */
  slowPageMs?: number;
  /** The next N data requests are refused as malformed, in the platform's style. */
  invalidRequests?: number;
  /** Meta: the utilisation its usage headers report (percent). Default grows with recent traffic. */
  usagePct?: number;
  /** Meta: status polls answered "Job Running" before an async report completes. Default 1. */
  asyncPolls?: number;
  /** Meta: async report jobs end as "Job Failed". */
  asyncJobsFail?: boolean;
}

export interface RequestLogEntry {
  provider: ProviderId;
  method: string;
  /** Path below the platform's prefix, without the query: "/v25.0/act_1/insights", "/token". */
  path: string;
  status: number;
  at: number;
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
  private readonly spentRefreshTokens = new Set<string>();
  private seq = 0;
  private log: RequestLogEntry[] = [];
  latencyMs: number;

  constructor(latencyMs: number) {
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

  /** Asked once per refresh request: with rotation on, a usable token is spent by the asking. */
  refreshTokenUsable(provider: ProviderId, token: string | null): boolean {
    if (!token || this.state(provider).faults.revoked || this.spentRefreshTokens.has(token)) return false;
    if (this.state(provider).faults.rotateRefreshTokens) this.spentRefreshTokens.add(token);
    return true;
  }

  record(entry: RequestLogEntry): void {
    this.log.push(entry);
  }

  stats(provider?: ProviderId): RequestStats {
    const log = provider ? this.log.filter((e) => e.provider === provider) : [...this.log];
    const byPath: Record<string, number> = {};
    for (const e of log) byPath[`${e.method} ${e.path}`] = (byPath[`${e.method} ${e.path}`] ?? 0) + 1;
    return { total: log.length, byPath, log };
  }

  resetStats(): void {
    this.log = [];
  }
}
