import { randomBytes } from 'node:crypto';
import type { ProviderId } from '../../functions/src/providers/types.js';
import { accountProfile } from './data.js';
import { bearer, formBody, jsonBody } from './platform.js';
import type { PlatformSim, SimReply, SimRequest } from './platform.js';
import { SandboxState } from './state.js';

/**
 * The platforms' OAuth 2.0 authorization-code flow: an authorize page a person clicks
 * through, the code exchange at each platform's own token endpoint, and the account
 * listings a connection needs, in each platform's real shapes.
 */

/** The ad accounts a sandbox grant reaches. Google's manager reaches two clients (login-customer-id). */
export const GRANTED_ACCOUNTS = {
  meta: ['1234567890', '2345678901'],
  google: { direct: ['3456789012'], managers: { '1112223334': ['1234567890', '2345678901'] } as Record<string, string[]> },
  linkedin: ['502345678', '503456789'],
  tiktok: ['7000000000000000001', '7000000000000000002'],
} as const;

const GOOGLE_MANAGER_NAME = 'Sandbox Agency (manager)';
const CODE_TTL_MS = 10 * 60_000;

/** An HTML page or a redirect, which the JSON replies of the data endpoints are not. */
export interface PageReply extends SimReply {
  html?: string;
}

interface IssuedCode {
  provider: ProviderId;
  clientId: string;
  redirectUri: string;
  expiresAt: number;
}

/**
 * Sandbox state that also knows grants: revoking a platform's grants refuses every access
 * and refresh token issued for it so far, as when a person removes the app's access, while
 * a new authorization yields tokens that work.
 */
export class OAuthSandboxState extends SandboxState {
  private readonly issuedAt = new Map<string, { provider: ProviderId; n: number }>();
  private readonly revokedUpTo = new Map<ProviderId, number>();
  private issuedCount = 0;
  readonly codes = new Map<string, IssuedCode>();

  override issue(provider: ProviderId, expiresInSeconds: number) {
    const issued = super.issue(provider, expiresInSeconds);
    const n = ++this.issuedCount;
    this.issuedAt.set(issued.accessToken, { provider, n });
    this.issuedAt.set(issued.refreshToken, { provider, n });
    return issued;
  }

  revokeGrants(provider: ProviderId): void {
    this.revokedUpTo.set(provider, this.issuedCount);
  }

  /** Tokens the sandbox never issued (the demo's) count as granted before any revocation. */
  private revoked(provider: ProviderId, token: string | null): boolean {
    const upTo = this.revokedUpTo.get(provider);
    if (upTo === undefined || !token) return false;
    const issued = this.issuedAt.get(token);
    return !issued || issued.provider !== provider || issued.n <= upTo;
  }

  override accessTokenStatus(provider: ProviderId, token: string | null) {
    return this.revoked(provider, token) ? 'revoked' : super.accessTokenStatus(provider, token);
  }

  override refreshTokenUsable(provider: ProviderId, token: string | null): boolean {
    return !this.revoked(provider, token) && super.refreshTokenUsable(provider, token);
  }
}

interface AuthorizePage {
  path: RegExp;
  brand: string;
  clientParam: 'client_id' | 'app_id';
  /** TikTok sends the code as auth_code (and code); the others as code. */
  codeParams: string[];
  needsResponseType: boolean;
}

const AUTHORIZE_PAGES: Record<ProviderId, AuthorizePage> = {
  meta: { path: /^\/v\d+\.\d+\/dialog\/oauth$/, brand: 'Meta for Business', clientParam: 'client_id', codeParams: ['code'], needsResponseType: false },
  google: { path: /^\/o\/oauth2\/v2\/auth$/, brand: 'Google Ads', clientParam: 'client_id', codeParams: ['code'], needsResponseType: true },
  linkedin: { path: /^\/oauth\/v2\/authorization$/, brand: 'LinkedIn Marketing', clientParam: 'client_id', codeParams: ['code'], needsResponseType: true },
  tiktok: { path: /^\/portal\/auth$/, brand: 'TikTok for Business', clientParam: 'app_id', codeParams: ['auth_code', 'code'], needsResponseType: false },
};

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string, status = 200): PageReply {
  return {
    status,
    body: null,
    html: `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;background:#f0f2f5;color:#1c1e21;margin:0;display:grid;place-items:center;min-height:100vh}
main{background:#fff;border-radius:12px;box-shadow:0 2px 12px #0002;padding:2rem;max-width:26rem;width:calc(100% - 2rem)}
h1{font-size:1.25rem;margin:0 0 .5rem}ul{padding-left:1.25rem}.actions{display:flex;gap:.75rem;margin-top:1.5rem}
button{font:inherit;padding:.6rem 1.2rem;border-radius:8px;border:1px solid #ccd0d5;background:#fff;cursor:pointer}
button[value=allow]{background:#1b74e4;border-color:#1b74e4;color:#fff}small{color:#65676b}</style></head>
<body><main>${body}</main></body></html>`,
  };
}

function accountNames(provider: ProviderId): string[] {
  if (provider === 'google') {
    const { direct, managers } = GRANTED_ACCOUNTS.google;
    return [...direct, ...Object.keys(managers)].map((id) => (managers[id] ? `${GOOGLE_MANAGER_NAME} ${id}` : accountProfile('google', id).name));
  }
  return GRANTED_ACCOUNTS[provider].map((id) => accountProfile(provider, id).name);
}

function authorize(provider: ProviderId, req: SimRequest, state: OAuthSandboxState): PageReply {
  const spec = AUTHORIZE_PAGES[provider];
  const params = req.method === 'POST' ? formBody(req) : req.query;
  const clientId = params.get(spec.clientParam);
  const redirectUri = params.get('redirect_uri');
  const missing = [spec.clientParam, 'redirect_uri', 'state', ...(spec.needsResponseType ? ['response_type'] : [])].filter((p) => !params.get(p));
  if (missing.length > 0 || !clientId || !redirectUri || (spec.needsResponseType && params.get('response_type') !== 'code')) {
    return page('Invalid request', `<h1>Invalid request</h1><p>The app's request is missing ${escapeHtml(missing.join(', ') || 'response_type=code')}.</p>`, 400);
  }
  if (req.method === 'GET') {
    const hidden = [...params.entries()].map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`).join('');
    const accounts = accountNames(provider).map((n) => `<li>${escapeHtml(n)}</li>`).join('');
    return page(
      `${spec.brand}: allow access`,
      `<small>${escapeHtml(spec.brand)} (sandbox)</small><h1>Ads Hub wants to read your ads reporting</h1>
<p>Ads Hub will be able to read performance data of these ad accounts:</p><ul>${accounts}</ul>
<form method="post"><input type="hidden" name="${spec.clientParam}" value="${escapeHtml(clientId)}">${hidden}
<div class="actions"><button type="submit" name="decision" value="allow">Allow</button><button type="submit" name="decision" value="deny">Cancel</button></div></form>`,
    );
  }
  const target = new URL(redirectUri);
  if (params.get('decision') === 'allow') {
    const code = `sbx-${provider}-code-${randomBytes(12).toString('hex')}`;
    state.codes.set(code, { provider, clientId, redirectUri, expiresAt: Date.now() + CODE_TTL_MS });
    for (const name of spec.codeParams) target.searchParams.set(name, code);
  } else {
    target.searchParams.set('error', 'access_denied');
    target.searchParams.set('error_description', 'The user denied the request');
  }
  target.searchParams.set('state', params.get('state') ?? '');
  return { status: 302, body: null, headers: { location: target.toString() } };
}

/** Takes a code once: it must be this platform's, unexpired, for this client and redirect. */
function redeem(state: OAuthSandboxState, provider: ProviderId, code: string | null, clientId: string | null, redirectUri: string | null): boolean {
  const issued = code ? state.codes.get(code) : undefined;
  if (!issued || !code) return false;
  state.codes.delete(code);
  return issued.provider === provider && issued.clientId === clientId && (redirectUri === null || issued.redirectUri === redirectUri) && issued.expiresAt > Date.now();
}

function tiktokEnvelope(code: number, message: string, data: unknown = {}): SimReply {
  return { status: 200, body: { code, message, request_id: randomBytes(10).toString('hex'), data } };
}

function exchange(provider: ProviderId, req: SimRequest, state: OAuthSandboxState): SimReply | null {
  switch (provider) {
    case 'meta': {
      if (!/^\/v\d+\.\d+\/oauth\/access_token$/.test(req.path) || !req.query.has('code')) return null;
      const q = req.query;
      if (!q.get('client_secret') || !redeem(state, 'meta', q.get('code'), q.get('client_id'), q.get('redirect_uri'))) {
        return { status: 400, body: { error: { message: 'This authorization code has expired or has been used.', type: 'OAuthException', code: 100, error_subcode: 36009 } } };
      }
      const issued = state.issue('meta', 7200);
      return { status: 200, body: { access_token: issued.accessToken, token_type: 'bearer', expires_in: 7200 } };
    }
    case 'google':
    case 'linkedin': {
      const path = provider === 'google' ? '/token' : '/oauth/v2/accessToken';
      const form = formBody(req);
      if (req.path !== path || req.method !== 'POST' || form.get('grant_type') !== 'authorization_code') return null;
      if (!form.get('client_secret') || !redeem(state, provider, form.get('code'), form.get('client_id'), form.get('redirect_uri'))) {
        return provider === 'google'
          ? { status: 400, body: { error: 'invalid_grant', error_description: 'Malformed auth code.' } }
          : { status: 400, body: { error: 'invalid_request', error_description: 'Unable to retrieve access token: appid/redirect uri/code verifier does not match authorization code. Or authorization code expired.' } };
      }
      const issued = state.issue(provider, provider === 'google' ? 3599 : 5_183_999);
      return provider === 'google'
        ? { status: 200, body: { access_token: issued.accessToken, expires_in: 3599, refresh_token: issued.refreshToken, scope: 'https://www.googleapis.com/auth/adwords', token_type: 'Bearer' } }
        : { status: 200, body: { access_token: issued.accessToken, expires_in: 5_183_999, refresh_token: issued.refreshToken, refresh_token_expires_in: 31_535_999, scope: 'r_ads,r_ads_reporting' } };
    }
    case 'tiktok': {
      if (req.path !== '/open_api/v1.3/oauth2/access_token/' || req.method !== 'POST') return null;
      const body = jsonBody(req);
      const code = typeof body?.auth_code === 'string' ? body.auth_code : null;
      if (!body?.secret || !redeem(state, 'tiktok', code, typeof body.app_id === 'string' ? body.app_id : null, null)) {
        return tiktokEnvelope(40110, 'The auth_code is invalid or has expired.');
      }
      // TikTok's advertiser tokens last until revoked: no refresh token.
      const issued = state.issue('tiktok', 365 * 86_400);
      return tiktokEnvelope(0, 'OK', { access_token: issued.accessToken, advertiser_ids: [...GRANTED_ACCOUNTS.tiktok], scope: [4] });
    }
  }
}

function accounts(provider: ProviderId, req: SimRequest, sim: PlatformSim, state: OAuthSandboxState): SimReply | null {
  const listing =
    (provider === 'meta' && /^\/v\d+\.\d+\/me\/adaccounts$/.test(req.path)) ||
    (provider === 'google' && (req.path.endsWith('/customers:listAccessibleCustomers') || /\/customers\/\d+\/googleAds:search$/.test(req.path))) ||
    (provider === 'linkedin' && req.path === '/rest/adAccounts' && req.query.get('q') === 'search') ||
    // advertiser/info/ is a data endpoint of the TikTok sim (faults apply), also used by the connector.
    (provider === 'tiktok' && req.path === '/open_api/v1.3/oauth2/advertiser/get/');
  if (!listing) return null;
  const token = provider === 'google' || provider === 'linkedin' ? bearer(req) : sim.accessToken(req);
  const status = state.accessTokenStatus(provider, token);
  if (status !== 'ok') return sim.authFailed(req, status);
  const profile = (id: string) => accountProfile(provider, id);
  switch (provider) {
    case 'meta':
      return {
        status: 200,
        body: {
          data: GRANTED_ACCOUNTS.meta.map((id) => ({ id: `act_${id}`, account_id: id, name: profile(id).name, currency: profile(id).currency, timezone_name: 'UTC' })),
          paging: { cursors: { before: 'MAZDZD', after: 'MAZDZD' } },
        },
      };
    case 'linkedin':
      return {
        status: 200,
        body: {
          elements: GRANTED_ACCOUNTS.linkedin.map((id) => ({ id: Number(id), name: profile(id).name, currency: profile(id).currency, status: 'ACTIVE', type: 'BUSINESS', reference: 'urn:li:organization:1' })),
          paging: { start: 0, count: 1000, total: GRANTED_ACCOUNTS.linkedin.length },
        },
      };
    case 'tiktok':
      if (!req.query.get('app_id') || !req.query.get('secret')) return tiktokEnvelope(40001, 'app_id and secret are required.');
      return tiktokEnvelope(0, 'OK', { list: GRANTED_ACCOUNTS.tiktok.map((id) => ({ advertiser_id: id, advertiser_name: profile(id).name })) });
    case 'google':
      return googleAccounts(req);
  }
}

function googleFailure(status: number, code: string, message: string, errorCode: Record<string, string>): SimReply {
  return { status, body: { error: { code: status, message, status: code, details: [{ '@type': 'type.googleapis.com/google.ads.googleads.v23.errors.GoogleAdsFailure', errors: [{ errorCode, message }] }] } } };
}

/** listAccessibleCustomers, and the customer_client hierarchy of one of them (googleAds:search). */
function googleAccounts(req: SimRequest): SimReply {
  const { direct, managers } = GRANTED_ACCOUNTS.google;
  if (!req.headers['developer-token']) return googleFailure(401, 'UNAUTHENTICATED', 'The developer token is missing.', { authenticationError: 'DEVELOPER_TOKEN_PARAMETER_MISSING' });
  if (req.path.endsWith(':listAccessibleCustomers')) {
    return { status: 200, body: { resourceNames: [...direct, ...Object.keys(managers)].map((id) => `customers/${id}`) } };
  }
  const customerId = /\/customers\/(\d+)\//.exec(req.path)?.[1] ?? '';
  const query = String(jsonBody(req)?.query ?? '');
  if (!/FROM\s+customer_client/i.test(query)) return googleFailure(400, 'INVALID_ARGUMENT', 'The sandbox serves customer_client through googleAds:search.', { queryError: 'INVALID_RESOURCE_NAME_IN_FROM_CLAUSE' });
  const clients = managers[customerId];
  if (!clients && !(direct as readonly string[]).includes(customerId)) {
    return googleFailure(403, 'PERMISSION_DENIED', "The caller does not have permission", { authorizationError: 'USER_PERMISSION_DENIED' });
  }
  const row = (id: string, level: number, manager: boolean) => {
    const p = accountProfile('google', id);
    return {
      customerClient: {
        resourceName: `customers/${customerId}/customerClients/${id}`,
        clientCustomer: `customers/${id}`,
        id,
        descriptiveName: manager ? `${GOOGLE_MANAGER_NAME}` : p.name,
        manager,
        level: String(level),
        currencyCode: p.currency,
        timeZone: 'UTC',
      },
    };
  };
  const results = clients ? [row(customerId, 0, true), ...clients.map((id) => row(id, 1, false))] : [row(customerId, 0, false)];
  return { status: 200, body: { results, fieldMask: 'customerClient.id,customerClient.descriptiveName,customerClient.manager,customerClient.level', requestId: randomBytes(11).toString('base64url') } };
}

/**
 * Answers the request when it belongs to the connect flow (authorize page, code exchange,
 * account listing); null lets the platform's own simulation answer it.
 */
export function handleOAuth(sim: PlatformSim, req: SimRequest, state: OAuthSandboxState): PageReply | null {
  const provider = sim.provider;
  if (AUTHORIZE_PAGES[provider].path.test(req.path)) return authorize(provider, req, state);
  return exchange(provider, req, state) ?? accounts(provider, req, sim, state);
}
