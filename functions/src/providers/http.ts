import pLimit from 'p-limit';
import type { LimitFunction } from 'p-limit';
import pRetry, { AbortError } from 'p-retry';
import { RateLimitedError, TransientError } from './errors.js';
import { RequestGate, type RequestLane } from './requestGate.js';
import type { CredentialRefresher, ProviderId } from './types.js';

export interface HttpPolicy {
  /** Requests in flight at once, per platform. Default 4. */
  concurrency: number;
  /** Steady request rate per platform, or null for none. Default null. */
  requestsPerSecond: number | null;
  /** Retries of a transient failure (5xx, network error, timeout). Default 4. */
  retries: number;
  /** Delay before the first retry; doubles per retry, randomised up to x2. Default 1000 ms. */
  baseDelayMs: number;
  /** Upper bound of one backoff delay. Default 30 s. */
  maxDelayMs: number;
  /** Longest platform-requested wait honoured in place; a longer one surfaces as RateLimitedError. Default 120 s. */
  maxRateLimitWaitMs: number;
  /**
   * Shortest wait after a rate-limit answer, whatever the platform's hint says (a hint of 0,
   * or none, would mean retrying at once into the same limit). Default 1 s.
   */
  minRateLimitWaitMs: number;
  /** Rate-limit answers waited out per request before giving up with RateLimitedError. Default 5. */
  maxRateLimitRetries: number;
  /** Timeout of one HTTP request. Default 60 s. */
  timeoutMs: number;
}

export const DEFAULT_HTTP_POLICY: HttpPolicy = Object.freeze({
  concurrency: 4,
  requestsPerSecond: null,
  retries: 4,
  baseDelayMs: 1000,
  maxDelayMs: 30_000,
  maxRateLimitWaitMs: 120_000,
  minRateLimitWaitMs: 1000,
  maxRateLimitRetries: 5,
  timeoutMs: 60_000,
});

/** A request to an ad platform's API, sent through ProviderHttpClient. */
export interface PlatformRequest {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: string;
}

/** What the platform answered. */
export interface PlatformResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON, or undefined when the body was empty or not JSON. */
  body: unknown;
}

/** Throws the typed error a response stands for (rate limit, auth, ...); returns when it is a success. */
export type ResponseCheck = (response: PlatformResponse) => void;

/** Sees every response before it is checked, e.g. to slow down on usage headers. */
export type ResponseObserver = (response: PlatformResponse, client: ProviderHttpClient, ctx: RequestContext) => void;

/** Per report: counts every request sent (for apiCalls) and carries the caller's abort signal and refresher. */
export interface RequestContext {
  calls: number;
  signal?: AbortSignal;
  /** The caller's refresher, used by the report's TokenSession. */
  refresher?: CredentialRefresher;
  /** The gate of the account the requests are for, where the platform also limits per account (Meta). */
  accountGate?: RequestGate;
}

/**
 * One platform's HTTP client, shared by all reports of that platform in the process so the
 * concurrency limit, pacing and rate-limit pauses apply across jobs. Daily syncs and backfills
 * have a client each (their own concurrency) over one shared gate (one rate per platform).
 */
export class ProviderHttpClient {
  readonly gate: RequestGate;
  private readonly limit: LimitFunction;

  constructor(
    readonly provider: ProviderId,
    readonly policy: HttpPolicy,
    private readonly observe?: ResponseObserver,
    pacing: { gate?: RequestGate; lane?: RequestLane } = {},
  ) {
    this.gate = pacing.gate ?? new RequestGate(policy.requestsPerSecond);
    this.lane = pacing.lane ?? 'sync';
    this.limit = pLimit(policy.concurrency);
  }

  private readonly lane: RequestLane;

  /** Sends with retries: transient failures back off exponentially; rate limits wait for the platform's hint. */
  async send(request: PlatformRequest, check: ResponseCheck, ctx: RequestContext): Promise<PlatformResponse> {
    let rateLimitHits = 0;
    const { policy } = this;
    // An account's own wait comes before a place among the requests in flight: one paused
    // account must not hold the places every other account's requests need.
    const once = async () => {
      await ctx.accountGate?.wait(ctx.signal);
      return this.limit(() => this.attempt(request, check, ctx));
    };
    return pRetry(once, {
      retries: policy.retries,
      factor: 2,
      minTimeout: policy.baseDelayMs,
      maxTimeout: policy.maxDelayMs,
      randomize: true,
      signal: ctx.signal,
      // Waiting out a rate limit is not a failure of the request: it keeps its transient budget.
      shouldConsumeRetry: ({ error }) => !(error instanceof RateLimitedError),
      onFailedAttempt: ({ error }) => {
        if (error instanceof RateLimitedError && error.retryAfterMs <= policy.maxRateLimitWaitMs) {
          this.limitedGate(error, ctx).pauseFor(error.retryAfterMs);
        }
      },
      shouldRetry: ({ error }) => {
        if (error instanceof RateLimitedError) {
          rateLimitHits += 1;
          return rateLimitHits <= policy.maxRateLimitRetries && error.retryAfterMs <= policy.maxRateLimitWaitMs;
        }
        return error instanceof TransientError;
      },
    });
  }

  /** A limit of one connection's account slows that account only; any other limit, the platform. */
  private limitedGate(error: RateLimitedError, ctx: RequestContext): RequestGate {
    return error.scope === 'connection' && ctx.accountGate ? ctx.accountGate : this.gate;
  }

  private async attempt(request: PlatformRequest, check: ResponseCheck, ctx: RequestContext): Promise<PlatformResponse> {
    await this.gate.wait(ctx.signal, this.lane);
    ctx.calls += 1;
    const timeout = AbortSignal.timeout(this.policy.timeoutMs);
    const signal = ctx.signal ? AbortSignal.any([ctx.signal, timeout]) : timeout;
    let response: PlatformResponse;
    try {
      const res = await fetch(request.url, { method: request.method, headers: request.headers, body: request.body, signal });
      response = { status: res.status, headers: res.headers, body: parseJson(await res.text()) };
    } catch (error) {
      if (ctx.signal?.aborted) throw new AbortError(error instanceof Error ? error : String(error));
      // The URL is never part of the message: Meta carries the access token in it.
      throw new TransientError(this.provider, timeout.aborted ? `request timed out after ${this.policy.timeoutMs} ms` : networkReason(error));
    }
    this.observe?.(response, this, ctx);
    try {
      check(response);
    } catch (error) {
      if (!(error instanceof RateLimitedError)) throw error;
      this.limitedGate(error, ctx).slowDown();
      throw error.waitingAtLeast(this.policy.minRateLimitWaitMs);
    }
    this.gate.onSuccess();
    ctx.accountGate?.onSuccess();
    return response;
  }
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function networkReason(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : null;
  const code = cause && 'code' in cause && typeof cause.code === 'string' ? cause.code : null;
  return `network error${code ? ` (${code})` : ''}`;
}

/** Query string from defined values only. */
export function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) search.set(key, String(value));
  return search.toString();
}

export function resolvePolicy(...layers: Array<Partial<HttpPolicy> | undefined>): HttpPolicy {
  return Object.assign({}, DEFAULT_HTTP_POLICY, ...layers.filter(Boolean)) as HttpPolicy;
}

/** A configured API origin (or the platform's own) without trailing slashes, plus a path. */
export function apiUrl(configured: string | undefined, fallback: string, path = ''): string {
  return `${(configured ?? fallback).replace(/\/+$/, '')}${path}`;
}
