import { z } from 'zod';
import type { OAuthConfig } from '../config/index.js';
import type { AdAccount } from '../schema/hub.js';
import { checkGoogleResponse } from './google.js';
import { ProviderHttpClient, apiUrl, query, resolvePolicy, type PlatformRequest, type RequestContext, type ResponseCheck } from './http.js';
import { checkLinkedInResponse } from './linkedin.js';
import { checkMetaResponse } from './meta.js';
import { checkTokenResponse, tokenResponseSchema } from './oauth.js';
import { parseBody } from './parse.js';
import { checkTikTokResponse } from './tiktok.js';
import type { ProviderCredentials, ProviderId } from './types.js';

/**
 * The OAuth 2.0 authorization-code flow of one platform: where to send the user, how to
 * turn the code the platform sends back into tokens, and which ad accounts those reach.
 */
export interface PlatformAuthorization {
  readonly providerId: ProviderId;
  authorizeUrl(input: { state: string; redirectUri: string }): string;
  exchangeCode(code: string, redirectUri: string): Promise<ProviderCredentials>;
  listAccounts(credentials: ProviderCredentials): Promise<AdAccount[]>;
}

const META_VERSION = 'v25.0';
const GOOGLE_VERSION = 'v23';
const LINKEDIN_VERSION = '202601';
/** A code is single-use: a retried exchange after a lost answer would be refused anyway. */
const CONNECT_POLICY = { concurrency: 4, retries: 1, baseDelayMs: 300 };
const MAX_PAGES = 20;

class AuthorizationClient {
  readonly http: ProviderHttpClient;
  constructor(readonly providerId: ProviderId) {
    this.http = new ProviderHttpClient(providerId, resolvePolicy(CONNECT_POLICY));
  }
  async call<T>(request: PlatformRequest, check: ResponseCheck, schema: z.ZodType<T>, what: string): Promise<T> {
    const ctx: RequestContext = { calls: 0 };
    const res = await this.http.send(request, check, ctx);
    return parseBody(this.providerId, schema, res.body, what);
  }
}

const expiresAt = (seconds: number | undefined): number | null => (seconds !== undefined ? Date.now() + seconds * 1000 : null);

/** The standard OAuth 2.0 code grant (Google, LinkedIn): a form POST answered with JSON tokens. */
async function exchangeWithOAuth2(
  client: AuthorizationClient,
  tokenUrl: string,
  app: { clientId: string; clientSecret: string },
  code: string,
  redirectUri: string,
): Promise<ProviderCredentials> {
  const token = await client.call(
    {
      method: 'POST',
      url: tokenUrl,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: query({ grant_type: 'authorization_code', code, client_id: app.clientId, client_secret: app.clientSecret, redirect_uri: redirectUri }),
    },
    checkTokenResponse(client.providerId),
    tokenResponseSchema,
    'code exchange',
  );
  return { accessToken: token.access_token, refreshToken: token.refresh_token ?? null, expiresAt: expiresAt(token.expires_in) };
}

function metaAuthorization(app: NonNullable<OAuthConfig['meta']>): PlatformAuthorization {
  const client = new AuthorizationClient('meta');
  const graph = apiUrl(app.apiBaseUrl, 'https://graph.facebook.com', `/${META_VERSION}`);
  const tokenSchema = z.object({ access_token: z.string().min(1), expires_in: z.number().optional() });
  const accountsSchema = z.object({
    data: z.array(z.object({ account_id: z.string(), name: z.string().default(''), currency: z.string().default('USD'), timezone_name: z.string().default('UTC') })),
    paging: z.object({ next: z.string().optional() }).optional(),
  });
  return {
    providerId: 'meta',
    authorizeUrl: ({ state, redirectUri }) =>
      `${apiUrl(app.authorizeBaseUrl, 'https://www.facebook.com', `/${META_VERSION}/dialog/oauth`)}?${query({
        client_id: app.appId,
        redirect_uri: redirectUri,
        state,
        response_type: 'code',
        scope: 'ads_read',
      })}`,
    async exchangeCode(code, redirectUri) {
      const short = await client.call(
        { method: 'GET', url: `${graph}/oauth/access_token?${query({ client_id: app.appId, client_secret: app.appSecret, redirect_uri: redirectUri, code })}` },
        checkMetaResponse,
        tokenSchema,
        'code exchange',
      );
      // A code yields a short-lived token; the long-lived one (about 60 days) is what syncs use.
      const long = await client.call(
        {
          method: 'GET',
          url: `${graph}/oauth/access_token?${query({ grant_type: 'fb_exchange_token', client_id: app.appId, client_secret: app.appSecret, fb_exchange_token: short.access_token })}`,
        },
        checkMetaResponse,
        tokenSchema,
        'long-lived token exchange',
      );
      return { accessToken: long.access_token, refreshToken: null, expiresAt: expiresAt(long.expires_in) };
    },
    async listAccounts(credentials) {
      const accounts: AdAccount[] = [];
      let url: string | undefined = `${graph}/me/adaccounts?${query({ fields: 'account_id,name,currency,timezone_name', limit: 100, access_token: credentials.accessToken })}`;
      for (let page = 0; url && page < MAX_PAGES; page++) {
        const body: z.infer<typeof accountsSchema> = await client.call({ method: 'GET', url }, checkMetaResponse, accountsSchema, 'ad accounts');
        for (const a of body.data) accounts.push({ id: a.account_id, name: a.name, currency: a.currency, timezone: a.timezone_name, managerId: null, managerName: null });
        url = body.paging?.next;
      }
      return accounts;
    },
  };
}

function googleAuthorization(app: NonNullable<OAuthConfig['google']>): PlatformAuthorization {
  const client = new AuthorizationClient('google');
  const api = apiUrl(app.apiBaseUrl, 'https://googleads.googleapis.com', `/${GOOGLE_VERSION}`);
  const clientsSchema = z.object({
    results: z
      .array(
        z.object({
          customerClient: z.object({
            id: z.string(),
            descriptiveName: z.string().default(''),
            manager: z.boolean().default(false),
            level: z.coerce.number().default(0),
            currencyCode: z.string().default('USD'),
            timeZone: z.string().default('UTC'),
          }),
        }),
      )
      .default([]),
    nextPageToken: z.string().optional(),
  });
  const headers = (credentials: ProviderCredentials, loginCustomerId?: string) => ({
    authorization: `Bearer ${credentials.accessToken}`,
    'developer-token': app.developerToken,
    'content-type': 'application/json',
    ...(loginCustomerId ? { 'login-customer-id': loginCustomerId } : {}),
  });
  return {
    providerId: 'google',
    authorizeUrl: ({ state, redirectUri }) =>
      `${apiUrl(app.authorizeBaseUrl, 'https://accounts.google.com', '/o/oauth2/v2/auth')}?${query({
        client_id: app.clientId,
        redirect_uri: redirectUri,
        response_type: 'code',
        scope: 'https://www.googleapis.com/auth/adwords',
        // offline + consent: Google hands out a refresh token only then.
        access_type: 'offline',
        prompt: 'consent',
        state,
      })}`,
    exchangeCode: (code, redirectUri) =>
      exchangeWithOAuth2(client, apiUrl(app.oauthBaseUrl, 'https://oauth2.googleapis.com', '/token'), app, code, redirectUri),
    async listAccounts(credentials) {
      const accessible = await client.call(
        { method: 'GET', url: `${api}/customers:listAccessibleCustomers`, headers: headers(credentials) },
        checkGoogleResponse,
        z.object({ resourceNames: z.array(z.string()).default([]) }),
        'accessible customers',
      );
      const accounts = new Map<string, AdAccount>();
      for (const resourceName of accessible.resourceNames) {
        const customerId = resourceName.replace(/^customers\//, '');
        let pageToken: string | undefined;
        const rows: z.infer<typeof clientsSchema>['results'] = [];
        for (let page = 0; page < MAX_PAGES; page++) {
          const body = await client.call(
            {
              method: 'POST',
              url: `${api}/customers/${customerId}/googleAds:search`,
              headers: headers(credentials, customerId),
              body: JSON.stringify({
                query:
                  'SELECT customer_client.id, customer_client.descriptive_name, customer_client.manager, customer_client.level, customer_client.currency_code, customer_client.time_zone FROM customer_client WHERE customer_client.level <= 1',
                ...(pageToken ? { pageToken } : {}),
              }),
            },
            checkGoogleResponse,
            clientsSchema,
            'customer clients',
          );
          rows.push(...body.results);
          pageToken = body.nextPageToken;
          if (!pageToken) break;
        }
        const self = rows.find((r) => r.customerClient.level === 0)?.customerClient;
        if (!self) continue;
        // A manager account has no campaigns of its own: its clients are what the user picks,
        // reached with the manager's id as login-customer-id.
        const picks = self.manager ? rows.filter((r) => r.customerClient.level === 1 && !r.customerClient.manager).map((r) => r.customerClient) : [self];
        for (const c of picks) {
          const managerId = self.manager ? self.id : null;
          accounts.set(`${managerId ?? 'direct'}:${c.id}`, {
            id: c.id,
            name: c.descriptiveName,
            currency: c.currencyCode,
            timezone: c.timeZone,
            managerId,
            managerName: self.manager ? self.descriptiveName : null,
          });
        }
      }
      return [...accounts.values()];
    },
  };
}

function linkedInAuthorization(app: NonNullable<OAuthConfig['linkedin']>): PlatformAuthorization {
  const client = new AuthorizationClient('linkedin');
  const oauthBase = apiUrl(app.oauthBaseUrl, 'https://www.linkedin.com', '/oauth/v2');
  const accountsSchema = z.object({
    elements: z.array(z.object({ id: z.coerce.string(), name: z.string().default(''), currency: z.string().default('USD') })).default([]),
  });
  return {
    providerId: 'linkedin',
    authorizeUrl: ({ state, redirectUri }) =>
      `${oauthBase}/authorization?${query({ response_type: 'code', client_id: app.clientId, redirect_uri: redirectUri, state, scope: 'r_ads_reporting r_ads' })}`,
    exchangeCode: (code, redirectUri) => exchangeWithOAuth2(client, `${oauthBase}/accessToken`, app, code, redirectUri),
    async listAccounts(credentials) {
      // Rest.li syntax travels unescaped, as for adAnalytics.
      const body = await client.call(
        {
          method: 'GET',
          url: `${apiUrl(app.apiBaseUrl, 'https://api.linkedin.com', '/rest/adAccounts')}?q=search&search=(status:(values:List(ACTIVE)))`,
          headers: { authorization: `Bearer ${credentials.accessToken}`, 'LinkedIn-Version': LINKEDIN_VERSION, 'X-Restli-Protocol-Version': '2.0.0' },
        },
        checkLinkedInResponse,
        accountsSchema,
        'ad accounts',
      );
      // adAccounts has no timezone: LinkedIn reports days in UTC.
      return body.elements.map((a) => ({ id: a.id, name: a.name, currency: a.currency, timezone: 'UTC', managerId: null, managerName: null }));
    },
  };
}

function tiktokAuthorization(app: NonNullable<OAuthConfig['tiktok']>): PlatformAuthorization {
  const client = new AuthorizationClient('tiktok');
  const origin = apiUrl(app.apiBaseUrl, 'https://business-api.tiktok.com');
  const api = `${origin}/open_api/v1.3`;
  const tokenSchema = z.object({
    data: z.object({
      access_token: z.string().min(1),
      refresh_token: z.string().min(1).optional(),
      access_token_expire_in: z.number().optional(),
    }),
  });
  const advertisersSchema = z.object({ data: z.object({ list: z.array(z.object({ advertiser_id: z.coerce.string(), advertiser_name: z.string().default('') })) }) });
  const infoSchema = z.object({
    data: z.object({ list: z.array(z.object({ advertiser_id: z.coerce.string(), name: z.string().default(''), currency: z.string().default('USD'), timezone: z.string().default('UTC') })) }),
  });
  return {
    providerId: 'tiktok',
    authorizeUrl: ({ state, redirectUri }) => `${origin}/portal/auth?${query({ app_id: app.appId, state, redirect_uri: redirectUri })}`,
    async exchangeCode(code) {
      const token = await client.call(
        {
          method: 'POST',
          url: `${api}/oauth2/access_token/`,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ app_id: app.appId, secret: app.secret, auth_code: code }),
        },
        checkTikTokResponse,
        tokenSchema,
        'code exchange',
      );
      // Either long-lived until revoked (no refresh token), or 24 h with a one-year refresh token.
      return { accessToken: token.data.access_token, refreshToken: token.data.refresh_token ?? null, expiresAt: expiresAt(token.data.access_token_expire_in) };
    },
    async listAccounts(credentials) {
      const headers = { 'Access-Token': credentials.accessToken };
      const advertisers = await client.call(
        { method: 'GET', url: `${api}/oauth2/advertiser/get/?${query({ app_id: app.appId, secret: app.secret })}`, headers },
        checkTikTokResponse,
        advertisersSchema,
        'advertisers',
      );
      const ids = advertisers.data.list.map((a) => a.advertiser_id);
      if (ids.length === 0) return [];
      const info = await client.call(
        {
          method: 'GET',
          url: `${api}/advertiser/info/?${query({ advertiser_ids: JSON.stringify(ids), fields: JSON.stringify(['advertiser_id', 'name', 'currency', 'timezone']) })}`,
          headers,
        },
        checkTikTokResponse,
        infoSchema,
        'advertiser info',
      );
      return info.data.list.map((a) => ({ id: a.advertiser_id, name: a.name, currency: a.currency, timezone: a.timezone, managerId: null, managerName: null }));
    },
  };
}

/** The platforms whose OAuth app is configured. */
export function createAuthorizations(config: OAuthConfig): Map<ProviderId, PlatformAuthorization> {
  const all = new Map<ProviderId, PlatformAuthorization>();
  if (config.meta) all.set('meta', metaAuthorization(config.meta));
  if (config.google) all.set('google', googleAuthorization(config.google));
  if (config.linkedin) all.set('linkedin', linkedInAuthorization(config.linkedin));
  if (config.tiktok) all.set('tiktok', tiktokAuthorization(config.tiktok));
  return all;
}
