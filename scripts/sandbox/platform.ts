import type { IncomingHttpHeaders } from 'node:http';
import type { ProviderId } from '../../functions/src/providers/types.js';
import type { SandboxState } from './state.js';

export interface SimRequest {
  method: string;
  /** Path below the platform prefix, as sent (not decoded). */
  path: string;
  /** The query string as sent, so Rest.li syntax can be checked before decoding. */
  rawQuery: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
  /** Origin plus platform prefix, for links the platform hands out. */
  base: string;
}

export interface SimReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface SimOptions {
  /** Google: results per stream batch. Default 10000. */
  googleBatchSize: number;
  /** LinkedIn: most elements one adAnalytics answer holds; the rest is cut off. Default 15000. */
  linkedinRowCap: number;
  /** Meta: rows a synchronous insights request may cover before Meta asks for less data. Default 100000. */
  metaSyncRowLimit: number;
}

export interface SimContext {
  state: SandboxState;
  options: SimOptions;
  /** Waits the slow-page fault on pages after the first. */
  pageDelay(page: number): Promise<void>;
}

export type TokenProblem = 'missing' | 'expired' | 'revoked';

/** One platform's protocol: where its token travels, how it says no, and its endpoints. */
export interface PlatformSim {
  readonly provider: ProviderId;
  /** Token endpoints skip data faults and check refresh tokens themselves. */
  isAuthEndpoint(req: SimRequest): boolean;
  accessToken(req: SimRequest): string | null;
  serverError(req: SimRequest): SimReply;
  rateLimited(req: SimRequest, retryAfterSeconds: number, ctx: SimContext): SimReply;
  authFailed(req: SimRequest, problem: TokenProblem): SimReply;
  invalid(req: SimRequest): SimReply;
  handle(req: SimRequest, ctx: SimContext): Promise<SimReply>;
  /** Adds headers every data response carries (Meta's usage headers). */
  decorate?(req: SimRequest, reply: SimReply, ctx: SimContext): void;
  /** The platform's own error code in a reply, as its clients read it; null for none. */
  errorCode(reply: SimReply): string | null;
}

/** A field of a JSON object body, when the body is one. */
export function field(body: unknown, key: string): unknown {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>)[key] : undefined;
}

export function bearer(req: SimRequest): string | null {
  const header = req.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(.+)$/i.exec(header) : null;
  return match?.[1] ?? null;
}

export function isIsoDate(value: string | null | undefined): value is string {
  if (!value || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const ms = Date.parse(`${value}T00:00:00Z`);
  return !Number.isNaN(ms) && new Date(ms).toISOString().startsWith(value);
}

export function daySpan(start: string, end: string): number {
  return (Date.parse(`${end}T00:00:00Z`) - Date.parse(`${start}T00:00:00Z`)) / 86_400_000 + 1;
}

export function encodeCursor(offset: number): string {
  return Buffer.from(`offset:${offset}`).toString('base64url');
}

export function decodeCursor(cursor: string | null): number | null {
  if (!cursor) return 0;
  const match = /^offset:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString());
  return match ? Number(match[1]) : null;
}

export function formBody(req: SimRequest): URLSearchParams {
  return new URLSearchParams(req.body);
}

export function jsonBody(req: SimRequest): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(req.body);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
