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
  /** Every data request answers a server error while set (the platform is down). */
  down?: boolean;
  /** Share of data requests (0..1) answered with a server error, drawn from a seeded sequence. */
  serverErrorRate?: number;
  /** Bursts of rate limits: after every `every` data requests, the next `length` are refused. */
  rateLimitBursts?: { every: number; length: number; retryAfterSeconds?: number };
  /** Extra delay on every page after the first. */
  slowPageMs?: number;
  /** The next N data requests are refused as malformed, in the platform's style. */
  invalidRequests?: number;
  /** Meta: the utilisation its usage headers report (percent). Default grows with recent traffic. */
  usagePct?: number;
  /** Meta: one ad account's business use case utilisation (percent), by account id; the app's stays usagePct. */
  accountUsagePct?: Record<string, number>;
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
   * (the user's token), or (`UNNAMED`) a daily limit whose message does not say "DAY".
   * Default: a short-lived throttle that names no limit.
   */
  linkedinDailyLimit?: 'APPLICATION' | 'MEMBER' | 'UNNAMED';
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
  /** From the `x-sandbox-run` header ("<subject> <run>"): who sent it, e.g. an integration and one run of its job. */
  subject?: string;
  run?: string;
  /** The access token was refused (expired, revoked or missing). */
  authRefused?: boolean;
}

/** Two runs of one subject whose requests arrived in overlapping time spans. */
export interface RunOverlap {
  subject: string;
  runs: [string, string];
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
  private readonly revokedTokens = new Set<string>();
  private random = seededRandom(1);
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

  /** Changes some faults and keeps the rest, with their counters. */
  updateFaults(provider: ProviderId, patch: Partial<ProviderFaults>): void {
    const s = this.state(provider);
    s.faults = { ...s.faults, ...patch };
  }

  /** The seed of the sequence `serverErrorRate` draws from. */
  seed(seed: number): void {
    this.random = seededRandom(seed);
  }

  /** These tokens (an access token and its refresh token) are refused from now on: the user revoked the app. */
  revoke(tokens: readonly (string | null)[]): void {
    for (const token of tokens) if (token) this.revokedTokens.add(token);
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
    if (s.faults.down || (s.faults.serverErrorRate !== undefined && this.random() < s.faults.serverErrorRate)) return { type: 'server-error' };
    const bursts = s.faults.rateLimitBursts;
    if (bursts && s.dataRequests % (bursts.every + bursts.length) >= bursts.every) {
      return { type: 'rate-limit', retryAfterSeconds: bursts.retryAfterSeconds ?? 1 };
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
    if (s.faults.revoked || this.revokedTokens.has(token)) return 'revoked';
    if (s.expiredUpTo !== null) {
      const issued = this.tokens.get(token);
      if (!issued || issued.provider !== provider || issued.seq <= s.expiredUpTo) return 'expired';
    }
    return 'ok';
  }

  /** Asked once per refresh request: with rotation on, a usable token is spent by the asking. */
  refreshTokenUsable(provider: ProviderId, token: string | null): boolean {
    if (!token || this.state(provider).faults.revoked || this.spentRefreshTokens.has(token) || this.revokedTokens.has(token)) return false;
    if (this.state(provider).faults.rotateRefreshTokens) this.spentRefreshTokens.add(token);
    return true;
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

  /**
   * Pairs of runs of one subject whose requests arrived in overlapping spans (first to last
   * arrival): for integrations, a job that ran twice at the same time.
   */
  overlappingRuns(): RunOverlap[] {
    const spans = new Map<string, Map<string, { first: number; last: number }>>();
    for (const entry of this.log) {
      if (!entry.subject || !entry.run) continue;
      const at = entry.receivedAt;
      const runs = spans.get(entry.subject) ?? new Map<string, { first: number; last: number }>();
      const span = runs.get(entry.run) ?? { first: at, last: at };
      runs.set(entry.run, { first: Math.min(span.first, at), last: Math.max(span.last, at) });
      spans.set(entry.subject, runs);
    }
    const overlaps: RunOverlap[] = [];
    for (const [subject, runs] of spans) {
      const list = [...runs.entries()].sort((a, b) => a[1].first - b[1].first);
      for (let i = 0; i < list.length; i++) {
        for (let j = i + 1; j < list.length && list[j]![1].first <= list[i]![1].last; j++) overlaps.push({ subject, runs: [list[i]![0], list[j]![0]] });
      }
    }
    return overlaps;
  }
}

/** mulberry32: a small seeded generator, so a fault rate is the same sequence on every run. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
