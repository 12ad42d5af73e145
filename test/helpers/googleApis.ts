/**
 * A local stand-in for the two Google REST APIs the scheduler script calls: Cloud Scheduler
 * v1 (jobs list / create / patch / delete) and Secret Manager v1 (access a version). The
 * script talks to it through the real client libraries in their HTTP/JSON mode, so only the
 * network endpoint and the credentials differ from production. There is no emulator for
 * either service.
 *
 * Like the real Cloud Scheduler, it returns the headers a job sends with their values (the
 * API documents `headers` as a plain map, and gcloud prints them), unless told to hide the
 * x-cron-key value; it pages long job lists and keeps every version of a secret.
 * `startFakeFunctions` stands in for the deployed functions' answer to a key check.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach } from 'node:test';
import { UserRefreshClient } from 'google-auth-library';

/** A job as the REST API carries it: durations as "570s", bytes as base64, enums as numbers. */
export interface RestJob {
  name: string;
  description?: string;
  schedule?: string;
  timeZone?: string;
  attemptDeadline?: string;
  retryConfig?: Record<string, unknown>;
  httpTarget?: { uri?: string; httpMethod?: number | string; headers?: Record<string, string>; body?: string };
  /** 1 enabled, 2 paused, 4 update failed. */
  state?: number;
  userUpdateTime?: string;
}

export interface FakeGoogleApis {
  /** For CloudSchedulerClient and SecretManagerServiceClient. */
  clientOptions: { fallback: true; protocol: string; apiEndpoint: string; port: number; authClient: UserRefreshClient };
  /** By full resource name, as stored (with every header). */
  jobs: Map<string, RestJob>;
  /** By `projects/<id>/secrets/<name>`: the latest version's value; each set adds a version. */
  secrets: Map<string, string>;
  /** Return jobs without their x-cron-key header value (the fallback to the description's fingerprint). */
  hideCronKeyHeader: boolean;
  /** Every request as `METHOD /path`. */
  requests: string[];
  /** Answer PERMISSION_DENIED for one API. */
  deny: Set<'scheduler' | 'secrets'>;
  /** Answer job creation with an INVALID_ARGUMENT that quotes the request (as a careless service might). */
  echoRequestInErrors: boolean;
  writes(): string[];
  close(): Promise<void>;
}

const PAGE_SIZE = 2;
const HTTP_STATUS = { INVALID_ARGUMENT: 400, PERMISSION_DENIED: 403, NOT_FOUND: 404, ALREADY_EXISTS: 409 } as const;

class ApiError extends Error {
  constructor(
    readonly status: keyof typeof HTTP_STATUS,
    message: string,
  ) {
    super(message);
  }
}

const camel = (path: string) => path.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());

/** What a GET returns: the stored job, its headers with their values unless the key is hidden. */
function shown(job: RestJob, hideKey: boolean): RestJob {
  const headers = Object.fromEntries(Object.entries(job.httpTarget?.headers ?? {}).filter(([name]) => !hideKey || name.toLowerCase() !== 'x-cron-key'));
  return { ...job, httpTarget: { ...job.httpTarget, headers: { ...headers, 'User-Agent': 'Google-Cloud-Scheduler' } } };
}

/** Secret values by name; every set is a new version, as in Secret Manager. */
class SecretVersions extends Map<string, string> {
  readonly history = new Map<string, string[]>();
  override set(name: string, value: string): this {
    // Map's constructor calls set before the field exists.
    if (this.history) this.history.set(name, [...(this.history.get(name) ?? []), value]);
    return super.set(name, value);
  }
  override delete(name: string): boolean {
    this.history.delete(name);
    return super.delete(name);
  }
  override clear(): void {
    this.history.clear();
    super.clear();
  }
}

export async function startFakeGoogleApis(): Promise<FakeGoogleApis> {
  const jobs = new Map<string, RestJob>();
  const secrets = new SecretVersions();
  const requests: string[] = [];
  const deny = new Set<'scheduler' | 'secrets'>();
  const state = { echoRequestInErrors: false, hideCronKeyHeader: false };
  const shownJob = (job: RestJob) => shown(job, state.hideCronKeyHeader);

  const handle = (method: string, url: URL, body: string): unknown => {
    const path = decodeURIComponent(url.pathname);
    const secret = /^\/v1\/(projects\/[^/]+\/secrets\/[^/]+)\/versions\/(latest|\d+):access$/.exec(path);
    if (secret && method === 'GET') {
      if (deny.has('secrets')) throw new ApiError('PERMISSION_DENIED', `Permission 'secretmanager.versions.access' denied for resource '${secret[1]}/versions/${secret[2]}'.`);
      const versions = secrets.history.get(secret[1]!) ?? [];
      if (versions.length === 0) throw new ApiError('NOT_FOUND', `Secret [${secret[1]}] not found or has no versions.`);
      const number = secret[2] === 'latest' ? versions.length : Number(secret[2]);
      const value = versions[number - 1];
      if (value === undefined) throw new ApiError('NOT_FOUND', `Secret Version [${secret[1]}/versions/${secret[2]}] not found.`);
      return { name: `${secret[1]}/versions/${number}`, payload: { data: Buffer.from(value, 'utf8').toString('base64') } };
    }
    const list = /^\/v1\/(projects\/[^/]+\/locations\/[^/]+)\/jobs$/.exec(path);
    const one = /^\/v1\/(projects\/[^/]+\/locations\/[^/]+\/jobs\/[^/]+)$/.exec(path);
    if ((list || one) && deny.has('scheduler')) throw new ApiError('PERMISSION_DENIED', 'The principal lacks IAM permission "cloudscheduler.jobs.list".');
    if (list && method === 'GET') {
      const all = [...jobs.values()].filter((job) => job.name.startsWith(`${list[1]}/`)).sort((a, b) => a.name.localeCompare(b.name));
      const start = Number(url.searchParams.get('pageToken') || 0);
      const next = start + PAGE_SIZE < all.length ? String(start + PAGE_SIZE) : undefined;
      return { jobs: all.slice(start, start + PAGE_SIZE).map(shownJob), ...(next ? { nextPageToken: next } : {}) };
    }
    if (list && method === 'POST') {
      const job = JSON.parse(body) as RestJob;
      if (state.echoRequestInErrors) throw new ApiError('INVALID_ARGUMENT', `Invalid job: ${body}`);
      if (jobs.has(job.name)) throw new ApiError('ALREADY_EXISTS', `Job ${job.name} already exists.`);
      jobs.set(job.name, { ...job, state: 1, userUpdateTime: new Date().toISOString() });
      return shownJob(jobs.get(job.name)!);
    }
    if (one && method === 'PATCH') {
      const existing = jobs.get(one[1]!);
      if (!existing) throw new ApiError('NOT_FOUND', `Job ${one[1]} not found.`);
      const patch = JSON.parse(body) as Record<string, unknown>;
      const updated: Record<string, unknown> = { ...existing };
      for (const field of (url.searchParams.get('updateMask') ?? '').split(',').filter(Boolean).map(camel)) updated[field] = patch[field];
      const job = { ...(updated as unknown as RestJob), state: existing.state === 2 ? 2 : 1, userUpdateTime: new Date().toISOString() };
      jobs.set(one[1]!, job);
      return shownJob(job);
    }
    if (one && method === 'DELETE') {
      if (!jobs.delete(one[1]!)) throw new ApiError('NOT_FOUND', `Job ${one[1]} not found.`);
      return {};
    }
    throw new ApiError('NOT_FOUND', `no route for ${method} ${path}`);
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      requests.push(`${req.method} ${decodeURIComponent(url.pathname)}`);
      res.setHeader('content-type', 'application/json');
      try {
        if (req.headers.authorization !== 'Bearer test-access-token') throw new ApiError('PERMISSION_DENIED', 'no credentials');
        res.end(JSON.stringify(handle(req.method ?? 'GET', url, body)));
      } catch (error) {
        const apiError = error instanceof ApiError ? error : new ApiError('INVALID_ARGUMENT', String(error));
        res.statusCode = HTTP_STATUS[apiError.status];
        res.end(JSON.stringify({ error: { code: res.statusCode, message: apiError.message, status: apiError.status } }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  // A user credential holding a valid access token: no refresh, no metadata server.
  const authClient = new UserRefreshClient();
  authClient.setCredentials({ access_token: 'test-access-token', expiry_date: Date.now() + 3_600_000 });

  return {
    clientOptions: { fallback: true, protocol: 'http', apiEndpoint: '127.0.0.1', port, authClient },
    jobs,
    secrets,
    requests,
    deny,
    get echoRequestInErrors() {
      return state.echoRequestInErrors;
    },
    set echoRequestInErrors(value: boolean) {
      state.echoRequestInErrors = value;
    },
    get hideCronKeyHeader() {
      return state.hideCronKeyHeader;
    },
    set hideCronKeyHeader(value: boolean) {
      state.hideCronKeyHeader = value;
    },
    writes: () => requests.filter((request) => !request.startsWith('GET ')),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface FakeFunctions {
  /** The keys the "deployed" functions accept. */
  accepted: Set<string>;
  /** Each key check as `POST /cron <accepted|refused>`. */
  checks: string[];
  /** A fetch that sends any https request to this server instead, path kept. */
  fetch: typeof fetch;
  close(): Promise<void>;
}

/**
 * The deployed functions' answer to `POST /cron {}`: 400 (no operation) for an accepted key,
 * 401 otherwise, and 404 under /missing (no function deployed there).
 */
export async function startFakeFunctions(): Promise<FakeFunctions> {
  const accepted = new Set<string>();
  const checks: string[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const key = req.headers['x-cron-key'];
      const ok = typeof key === 'string' && accepted.has(key);
      checks.push(`${req.method} ${new URL(req.url ?? '/', 'http://localhost').pathname} ${ok ? 'accepted' : 'refused'}`);
      res.setHeader('content-type', 'application/json');
      // Nothing is deployed under /missing; everything else ending in /cron is the cron function.
      if (!req.url?.endsWith('/cron') || req.url.startsWith('/missing')) res.statusCode = 404;
      else res.statusCode = ok ? 400 : 401;
      res.end(JSON.stringify(ok ? { error: 'operation: Invalid input', field: 'operation' } : { error: 'x-cron-key is not valid' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const rerouted: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    return fetch(`${origin}${url.pathname}`, init);
  };
  return { accepted, checks, fetch: rerouted, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/**
 * Both stand-ins for a test file: started before its tests, reset to empty before each (no
 * jobs, no secrets, no accepted key, nothing recorded), closed after.
 */
export function fakeGoogleProject(): { readonly apis: FakeGoogleApis; readonly functions: FakeFunctions } {
  let apis: FakeGoogleApis | undefined;
  let functions: FakeFunctions | undefined;
  before(async () => {
    apis = await startFakeGoogleApis();
    functions = await startFakeFunctions();
  });
  after(() => Promise.all([apis?.close(), functions?.close()]));
  beforeEach(() => {
    apis!.jobs.clear();
    apis!.secrets.clear();
    apis!.requests.length = 0;
    apis!.deny.clear();
    apis!.echoRequestInErrors = false;
    apis!.hideCronKeyHeader = false;
    functions!.accepted.clear();
    functions!.checks.length = 0;
  });
  return {
    get apis() {
      return apis!;
    },
    get functions() {
      return functions!;
    },
  };
}
