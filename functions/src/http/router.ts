import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, toRequestHandler, type Endpoint } from './respond.js';

export interface Route {
  method: 'GET' | 'POST';
  endpoint: Endpoint;
}

/**
 * One function serving several endpoints, chosen by the last path segment: the same
 * handler answers /hub/sync from the Functions URL and /api/hub/sync through the Hosting
 * rewrite.
 */
export function routeByName(routes: Record<string, Route>) {
  const handlers = new Map(Object.entries(routes).map(([name, route]) => [name, toRequestHandler(route.endpoint, [route.method])]));
  const names = Object.keys(routes).join(', ');
  const unknown = toRequestHandler(async () => {
    throw new HttpError(404, `no such endpoint; use one of ${names}`);
  }, ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD']);
  return (req: IncomingMessage & { path?: string }, res: ServerResponse): Promise<void> => {
    const path = req.path ?? new URL(req.url ?? '/', 'http://localhost').pathname;
    const name = path.split('/').filter(Boolean).at(-1) ?? '';
    return (handlers.get(name) ?? unknown)(req, res);
  };
}
