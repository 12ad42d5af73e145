/**
 * A local stand-in for the two Google REST APIs the scheduler script calls: Cloud Scheduler
 * v1 (jobs list / create / patch / delete) and Secret Manager v1 (access a version). The
 * script talks to it through the real client libraries in their HTTP/JSON mode, so only the
 * network endpoint and the credentials differ from production. There is no emulator for
 * either service.
 *
 * Like the real Cloud Scheduler, it keeps the headers a job sends but does not return the
 * x-cron-key value, and it pages long job lists.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
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
  /** By `projects/<id>/secrets/<name>`: the latest version's value. */
  secrets: Map<string, string>;
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

/** What a GET returns: the stored job without the header values Cloud Scheduler keeps to itself. */
function shown(job: RestJob): RestJob {
  const headers = Object.fromEntries(Object.entries(job.httpTarget?.headers ?? {}).filter(([name]) => name.toLowerCase() !== 'x-cron-key'));
  return { ...job, httpTarget: { ...job.httpTarget, headers: { ...headers, 'User-Agent': 'Google-Cloud-Scheduler' } } };
}

export async function startFakeGoogleApis(): Promise<FakeGoogleApis> {
  const jobs = new Map<string, RestJob>();
  const secrets = new Map<string, string>();
  const requests: string[] = [];
  const deny = new Set<'scheduler' | 'secrets'>();
  const state = { echoRequestInErrors: false };

  const handle = (method: string, url: URL, body: string): unknown => {
    const path = decodeURIComponent(url.pathname);
    const secret = /^\/v1\/(projects\/[^/]+\/secrets\/[^/]+)\/versions\/latest:access$/.exec(path);
    if (secret && method === 'GET') {
      if (deny.has('secrets')) throw new ApiError('PERMISSION_DENIED', `Permission 'secretmanager.versions.access' denied for resource '${secret[1]}/versions/latest'.`);
      const value = secrets.get(secret[1]!);
      if (value === undefined) throw new ApiError('NOT_FOUND', `Secret [${secret[1]}] not found or has no versions.`);
      return { name: `${secret[1]}/versions/1`, payload: { data: Buffer.from(value, 'utf8').toString('base64') } };
    }
    const list = /^\/v1\/(projects\/[^/]+\/locations\/[^/]+)\/jobs$/.exec(path);
    const one = /^\/v1\/(projects\/[^/]+\/locations\/[^/]+\/jobs\/[^/]+)$/.exec(path);
    if ((list || one) && deny.has('scheduler')) throw new ApiError('PERMISSION_DENIED', 'The principal lacks IAM permission "cloudscheduler.jobs.list".');
    if (list && method === 'GET') {
      const all = [...jobs.values()].filter((job) => job.name.startsWith(`${list[1]}/`)).sort((a, b) => a.name.localeCompare(b.name));
      const start = Number(url.searchParams.get('pageToken') || 0);
      const next = start + PAGE_SIZE < all.length ? String(start + PAGE_SIZE) : undefined;
      return { jobs: all.slice(start, start + PAGE_SIZE).map(shown), ...(next ? { nextPageToken: next } : {}) };
    }
    if (list && method === 'POST') {
      const job = JSON.parse(body) as RestJob;
      if (state.echoRequestInErrors) throw new ApiError('INVALID_ARGUMENT', `Invalid job: ${body}`);
      if (jobs.has(job.name)) throw new ApiError('ALREADY_EXISTS', `Job ${job.name} already exists.`);
      jobs.set(job.name, { ...job, state: 1, userUpdateTime: new Date().toISOString() });
      return shown(jobs.get(job.name)!);
    }
    if (one && method === 'PATCH') {
      const existing = jobs.get(one[1]!);
      if (!existing) throw new ApiError('NOT_FOUND', `Job ${one[1]} not found.`);
      const patch = JSON.parse(body) as Record<string, unknown>;
      const updated: Record<string, unknown> = { ...existing };
      for (const field of (url.searchParams.get('updateMask') ?? '').split(',').filter(Boolean).map(camel)) updated[field] = patch[field];
      const job = { ...(updated as unknown as RestJob), state: existing.state === 2 ? 2 : 1, userUpdateTime: new Date().toISOString() };
      jobs.set(one[1]!, job);
      return shown(job);
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
    writes: () => requests.filter((request) => !request.startsWith('GET ')),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
