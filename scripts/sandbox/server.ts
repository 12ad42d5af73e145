import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProviderId } from '../../functions/src/providers/types.js';
import { createGoogleSim } from './google.js';
import { createLinkedInSim } from './linkedin.js';
import { createMetaSim } from './meta.js';
import { OAuthSandboxState, handleOAuth, type PageReply } from './oauth.js';
import type { PlatformSim, SimContext, SimOptions, SimReply, SimRequest } from './platform.js';
import type { IssuedCredentials, ProviderFaults, RequestStats, RunOverlap } from './state.js';
import { createTikTokSim } from './tiktok.js';

export type { IssuedCredentials, ProviderFaults, RateLimitFault, RequestLogEntry, RequestStats, RunOverlap } from './state.js';
export { expectedRows, accountProfile } from './data.js';

export interface SandboxOptions extends Partial<SimOptions> {
  /** Default 0: a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Delay on every request, all platforms. Default 0. */
  latencyMs?: number;
  /** Faults in force from the start. */
  faults?: Partial<Record<ProviderId, ProviderFaults>>;
  /**
   * The newest requests the log keeps (with their headers, bearer tokens included). Default
   * unbounded, for tests that count every request; the demo's long-running sandbox keeps few.
   */
  requestLogLimit?: number;
  /** Seed of the sequence `serverErrorRate` draws from. Default 1. */
  seed?: number;
}

/** Base URLs in the shape createConnectors takes: each platform lives under its own prefix. */
export interface SandboxBaseUrls {
  meta: { apiBaseUrl: string };
  google: { apiBaseUrl: string; oauthBaseUrl: string };
  linkedin: { apiBaseUrl: string; oauthBaseUrl: string };
  tiktok: { apiBaseUrl: string };
}

export interface Sandbox {
  /** Origin, e.g. http://127.0.0.1:8790. */
  readonly url: string;
  readonly baseUrls: SandboxBaseUrls;
  close(): Promise<void>;
  /** Requests answered (or abandoned by their client) so far, for one platform or all. */
  requests(provider?: ProviderId): RequestStats;
  /** Resolves once `count` requests to the platform have arrived since the last resetStats, answered or not. */
  arrived(provider: ProviderId, count: number): Promise<void>;
  /** Resolves once every request that has arrived is answered and in the log. */
  idle(): Promise<void>;
  resetStats(): void;
  /** Replaces the platform's faults and restarts their counters; {} clears them. */
  setFaults(provider: ProviderId, faults: ProviderFaults): void;
  setLatency(ms: number): void;
  /** Credentials the sandbox knows it issued (expiry faults apply to these). */
  issueCredentials(provider: ProviderId, expiresInSeconds?: number): IssuedCredentials;
  /** Changes some of the platform's faults, keeping the others and their counters. */
  updateFaults(provider: ProviderId, patch: Partial<ProviderFaults>): void;
  /** Refuses these credentials from now on, as if the user had revoked the app. */
  revokeCredentials(credentials: { accessToken: string; refreshToken: string | null }): void;
  /**
   * Runs of one subject (requests tagged `x-sandbox-run: <subject> <run>`) that overlapped
   * in time: two runs of one integration's job at once.
   */
  overlappingRuns(): RunOverlap[];
  /**
   * Google Ads client accounts (10 digits) the user reaches only through a manager account,
   * client -> manager; replaces the previous links, {} removes them.
   */
  setGoogleManagers(links: Record<string, string>): void;
  /** The person withdrew the app's access: every token issued so far is refused; a new authorization works. */
  revokeGrants(provider: ProviderId): void;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, reply: PageReply): void {
  if (reply.html !== undefined || reply.status === 302) {
    res.writeHead(reply.status, { 'content-type': 'text/html; charset=utf-8', ...reply.headers });
    res.end(reply.html ?? '');
    return;
  }
  res.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', ...reply.headers });
  res.end(JSON.stringify(reply.body));
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const state = new OAuthSandboxState(options.latencyMs ?? 0, options.requestLogLimit);
  if (options.seed !== undefined) state.seed(options.seed);
  for (const [provider, faults] of Object.entries(options.faults ?? {})) state.setFaults(provider as ProviderId, faults);
  const simOptions: SimOptions = {
    googleBatchSize: options.googleBatchSize ?? 10_000,
    linkedinRowCap: options.linkedinRowCap ?? 15_000,
    metaSyncRowLimit: options.metaSyncRowLimit ?? 100_000,
  };
  const sims = new Map<string, PlatformSim>(
    [createMetaSim(), createGoogleSim(), createLinkedInSim(), createTikTokSim()].map((s) => [s.provider, s]),
  );

  async function dispatch(sim: PlatformSim, req: SimRequest, tags: { authRefused?: boolean }): Promise<PageReply> {
    const provider = sim.provider;
    const ctx: SimContext = {
      state,
      options: simOptions,
      pageDelay: async (page) => {
        const ms = state.faults(provider).slowPageMs ?? 0;
        if (page > 1 && ms > 0) await sleep(ms);
      },
    };
    const latency = state.latencyMs + (state.faults(provider).latencyMs ?? 0);
    if (latency > 0) await sleep(latency);
    const connectFlow = handleOAuth(sim, req, state);
    if (connectFlow) return connectFlow;
    if (sim.isAuthEndpoint(req)) return sim.handle(req, ctx);

    const fault = state.nextDataFault(provider);
    let reply: SimReply;
    if (fault?.type === 'server-error') reply = sim.serverError(req);
    else if (fault?.type === 'rate-limit') reply = sim.rateLimited(req, fault.retryAfterSeconds, ctx);
    else {
      const token = state.accessTokenStatus(provider, sim.accessToken(req));
      tags.authRefused = token !== 'ok';
      if (token !== 'ok') reply = sim.authFailed(req, token);
      else if (fault?.type === 'invalid') reply = sim.invalid(req);
      else reply = await sim.handle(req, ctx);
    }
    sim.decorate?.(req, reply, ctx);
    return reply;
  }

  const arrivals = new Map<ProviderId, number>();
  const arrivalWaiters: { provider: ProviderId; count: number; resolve: () => void }[] = [];
  let inFlight = 0;
  let idleWaiters: (() => void)[] = [];
  const arrive = (provider: ProviderId) => {
    const seen = (arrivals.get(provider) ?? 0) + 1;
    arrivals.set(provider, seen);
    for (const waiter of [...arrivalWaiters]) {
      if (waiter.provider === provider && seen >= waiter.count) {
        arrivalWaiters.splice(arrivalWaiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  const settle = () => {
    inFlight -= 1;
    if (inFlight > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  };

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAt = Date.now();
    let clientClosed = false;
    res.on('close', () => {
      if (!res.writableFinished) clientClosed = true;
    });
    const [rawPath = '/', rawQuery = ''] = (req.url ?? '/').split(/\?(.*)/s);
    const match = /^\/([a-z]+)(\/.*)?$/.exec(rawPath);
    const sim = match ? sims.get(match[1] ?? '') : undefined;
    if (!match || !sim) {
      send(res, { status: 404, body: { error: `No platform at ${rawPath}; use /meta, /google, /linkedin or /tiktok` } });
      return;
    }
    arrive(sim.provider);
    const host = req.headers.host ?? '127.0.0.1';
    const simReq: SimRequest = {
      method: req.method ?? 'GET',
      path: match[2] ?? '/',
      rawQuery,
      query: new URLSearchParams(rawQuery),
      headers: req.headers,
      body: await readBody(req),
      base: `http://${host}/${sim.provider}`,
    };
    let reply: PageReply;
    const tags: { authRefused?: boolean } = {};
    try {
      reply = await dispatch(sim, simReq, tags);
    } catch (error) {
      reply = { status: 500, body: { error: error instanceof Error ? error.message : String(error) } };
    }
    if (!res.destroyed) send(res, reply);
    const [subject, run] = String(req.headers['x-sandbox-run'] ?? '').split(' ');
    state.record({
      provider: sim.provider,
      method: simReq.method,
      path: simReq.path,
      headers: Object.fromEntries(Object.entries(req.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : (value ?? '')])),
      status: reply.status,
      code: sim.errorCode(reply),
      receivedAt,
      at: Date.now(),
      clientClosed: clientClosed || res.destroyed,
      ...(subject && run ? { subject, run } : {}),
      ...(tags.authRefused ? { authRefused: true } : {}),
    });
  }

  const server = createServer((req, res) => {
    inFlight += 1;
    void answer(req, res)
      .catch(() => res.destroy())
      .finally(settle);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const url = `http://${options.host ?? '127.0.0.1'}:${address.port}`;

  return {
    url,
    baseUrls: {
      meta: { apiBaseUrl: `${url}/meta` },
      google: { apiBaseUrl: `${url}/google`, oauthBaseUrl: `${url}/google` },
      linkedin: { apiBaseUrl: `${url}/linkedin`, oauthBaseUrl: `${url}/linkedin` },
      tiktok: { apiBaseUrl: `${url}/tiktok` },
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
    requests: (provider) => state.stats(provider),
    arrived: (provider, count) =>
      (arrivals.get(provider) ?? 0) >= count ? Promise.resolve() : new Promise<void>((resolve) => arrivalWaiters.push({ provider, count, resolve })),
    idle: () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve))),
    resetStats: () => {
      state.resetStats();
      arrivals.clear();
    },
    setFaults: (provider, faults) => state.setFaults(provider, faults),
    setLatency: (ms) => {
      state.latencyMs = ms;
    },
    issueCredentials: (provider, expiresInSeconds = 3600) => state.issue(provider, expiresInSeconds),
    updateFaults: (provider, patch) => state.updateFaults(provider, patch),
    revokeCredentials: (credentials) => state.revoke([credentials.accessToken, credentials.refreshToken]),
    overlappingRuns: () => state.overlappingRuns(),
    setGoogleManagers: (links) => {
      state.googleManagers = new Map(Object.entries(links));
    },
    revokeGrants: (provider) => state.revokeGrants(provider),
  };
}
