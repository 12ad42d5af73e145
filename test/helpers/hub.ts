import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppContext } from '../../functions/src/context.js';
import { createAdminEndpoints } from '../../functions/src/http/admin.js';
import { createHubEndpoints } from '../../functions/src/http/hub.js';
import type { Sandbox } from '../../scripts/sandbox/server.js';
import type { TestServer } from './firebase.js';

export const REDIRECT_URI = 'http://127.0.0.1:5999/oauth/callback';

/** The functions' settings for the connect flow, pointed at a sandbox. */
export function connectEnv(sandbox: Sandbox): Record<string, string> {
  const u = sandbox.baseUrls;
  return {
    OAUTH_REDIRECT_URI: REDIRECT_URI,
    META_API_BASE_URL: u.meta.apiBaseUrl,
    META_AUTHORIZE_BASE_URL: u.meta.apiBaseUrl,
    META_APP_ID: 'meta-app',
    META_APP_SECRET: 'meta-secret',
    GOOGLE_ADS_API_BASE_URL: u.google.apiBaseUrl,
    GOOGLE_OAUTH_BASE_URL: u.google.oauthBaseUrl,
    GOOGLE_AUTHORIZE_BASE_URL: u.google.oauthBaseUrl,
    GOOGLE_ADS_DEVELOPER_TOKEN: 'dev-token',
    GOOGLE_OAUTH_CLIENT_ID: 'google-client',
    GOOGLE_OAUTH_CLIENT_SECRET: 'google-secret',
    LINKEDIN_API_BASE_URL: u.linkedin.apiBaseUrl,
    LINKEDIN_OAUTH_BASE_URL: u.linkedin.oauthBaseUrl,
    LINKEDIN_CLIENT_ID: 'linkedin-client',
    LINKEDIN_CLIENT_SECRET: 'linkedin-secret',
    TIKTOK_API_BASE_URL: u.tiktok.apiBaseUrl,
    TIKTOK_APP_ID: 'tiktok-app',
    TIKTOK_APP_SECRET: 'tiktok-secret',
  };
}

/** The hub and admin routers over real HTTP, at /hub/<name> and /admin/<name>. */
export async function serveHub(ctx: AppContext): Promise<TestServer> {
  const hub = createHubEndpoints(() => ctx);
  const admin = createAdminEndpoints(() => ctx);
  const server: Server = createServer((req, res) => {
    void (req.url?.startsWith('/admin/') ? admin : hub)(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Plays the person on the platform's authorize page: loads it, then presses Allow (or Cancel). */
export async function clickThrough(authorizeUrl: string, decision: 'allow' | 'deny' = 'allow'): Promise<URL> {
  const page = await fetch(authorizeUrl);
  if (page.status !== 200) throw new Error(`authorize page answered ${page.status}: ${await page.text()}`);
  const html = await page.text();
  const fields = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields.set(m[1]!, m[2]!.replace(/&#(\d+);/g, (_, c: string) => String.fromCharCode(Number(c))));
  fields.set('decision', decision);
  const answer = await fetch(authorizeUrl.split('?')[0]!, { method: 'POST', body: fields, redirect: 'manual' });
  const location = answer.headers.get('location');
  if (answer.status !== 302 || !location) throw new Error(`authorize page did not redirect (${answer.status})`);
  return new URL(location);
}
