import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { ConflictError, InvalidInputError, NotFoundError, UnavailableError, UpstreamError } from '../errors.js';
import { endpointCalled, requestFailed } from '../logs.js';

/** A call to one of our endpoints, as its handler sees it (the req/res adapter builds it). */
export interface EndpointRequest {
  method: string;
  headers: IncomingHttpHeaders;
  query: Record<string, unknown>;
  body: unknown;
}

/** What an endpoint handler answers; the adapter writes it as JSON. */
export interface EndpointResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export type Endpoint = (request: EndpointRequest) => Promise<EndpointResponse>;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

/** The one shape of every error body: { error, field? }. */
export function errorResponse(error: HttpError): EndpointResponse {
  return {
    status: error.status,
    body: { error: error.message, ...(error.field ? { field: error.field } : {}) },
    headers: error.headers,
  };
}

/** 400 naming the first offending field, e.g. "maxJobs: Too big: expected number to be <=1000". */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query'): z.infer<S> {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
  const field = [...issue.path, ...keys.slice(0, 1)].map(String).join('.') || where;
  const message = issue.code === 'unrecognized_keys' ? 'is not a known field' : issue.message;
  throw new HttpError(400, `${field}: ${message}`, field);
}

type NodeRequest = IncomingMessage & { body?: unknown; query?: Record<string, unknown>; rawBody?: Buffer; originalUrl?: string };

async function readBody(req: NodeRequest): Promise<unknown> {
  // The Functions runtime has already parsed JSON bodies; a plain Node server has not.
  if (req.body !== undefined && !Buffer.isBuffer(req.body)) return req.body;
  const chunks: Buffer[] = [];
  if (req.rawBody) chunks.push(req.rawBody);
  else for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'body: must be valid JSON', 'body');
  }
}

function queryOf(req: NodeRequest): Record<string, unknown> {
  if (req.query) return req.query;
  const url = new URL(req.url ?? '/', 'http://localhost');
  return Object.fromEntries(url.searchParams.entries());
}

/** The path called, as the caller wrote it (a Hosting rewrite's /api/... included), without the query. */
const pathOf = (req: NodeRequest) => {
  const path = (req.originalUrl ?? req.url ?? '/').split('?')[0]!;
  const fn = process.env.FUNCTION_TARGET;
  // The Functions runtime strips the function's name from the path of a direct call.
  return fn && !path.startsWith(`/${fn}`) && !path.startsWith('/api/') ? `/${fn}${path === '/' ? '' : path}` : path;
};

/**
 * Adapts an endpoint to (req, res): works for the Functions runtime's Express objects and
 * for a plain node:http server alike. Unexpected errors answer 500 without details. Every
 * call is one log line: path, method, status, duration, and the error answered.
 */
export function toRequestHandler(endpoint: Endpoint, methods: readonly string[]) {
  return async (req: NodeRequest, res: ServerResponse): Promise<void> => {
    const started = Date.now();
    let response: EndpointResponse;
    try {
      if (!methods.includes(req.method ?? '')) {
        throw new HttpError(405, `method ${req.method ?? ''} is not allowed; use ${methods.join(', ')}`, undefined, { allow: methods.join(', ') });
      }
      const body = req.method === 'GET' ? undefined : await readBody(req);
      response = await endpoint({ method: req.method ?? '', headers: req.headers, query: queryOf(req), body });
    } catch (error) {
      if (error instanceof HttpError) response = errorResponse(error);
      else if (error instanceof InvalidInputError) response = errorResponse(new HttpError(400, error.message, error.field));
      else if (error instanceof UpstreamError) response = errorResponse(new HttpError(502, error.message));
      else if (error instanceof NotFoundError) response = errorResponse(new HttpError(404, error.message, error.field));
      else if (error instanceof ConflictError) response = errorResponse(new HttpError(409, error.message, error.field));
      else if (error instanceof UnavailableError) response = errorResponse(new HttpError(503, error.message));
      else {
        requestFailed(pathOf(req), error);
        response = { status: 500, body: { error: 'internal error' } };
      }
    }
    const answered = response.body as { error?: unknown } | null;
    endpointCalled({
      endpoint: pathOf(req),
      method: req.method ?? '',
      status: response.status,
      durationMs: Date.now() - started,
      ...(response.status >= 400 && typeof answered?.error === 'string' ? { error: answered.error } : {}),
    });
    res.statusCode = response.status;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.setHeader('cache-control', 'no-store');
    for (const [name, value] of Object.entries(response.headers ?? {})) res.setHeader(name, value);
    res.end(JSON.stringify(response.body));
  };
}
