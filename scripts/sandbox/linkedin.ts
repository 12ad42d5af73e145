import { accountProfile, dayTotals, eachDate, formatCents } from './data.js';
import { bearer, decodeCursor, encodeCursor, field, formBody, isIsoDate } from './platform.js';
import type { PlatformSim, SimContext, SimReply, SimRequest } from './platform.js';

const MAX_FIELDS = 20;
const KNOWN_FIELDS = new Set(['dateRange', 'pivotValues', 'impressions', 'clicks', 'costInLocalCurrency', 'costInUsd', 'externalWebsiteConversions', 'landingPageClicks', 'likes', 'shares', 'comments', 'follows', 'videoViews', 'oneClickLeads', 'totalEngagements', 'reactions', 'sends', 'opens', 'approximateMemberReach', 'conversionValueInLocalCurrency', 'externalWebsitePostClickConversions', 'externalWebsitePostViewConversions']);
/** Rest.li characters that must arrive literally; %-encoded forms mean a URL builder escaped them. */
const ESCAPED_RESTLI = /%28|%29|%2C|%3A/i;

function error(status: number, code: string, message: string, serviceErrorCode = 100): SimReply {
  return { status, body: { status, serviceErrorCode, code, message } };
}

/** The query's parameters without decoding, as Rest.li parses them. */
function rawParams(rawQuery: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const part of rawQuery.split('&')) {
    const i = part.indexOf('=');
    if (i > 0) map.set(decodeURIComponent(part.slice(0, i)), part.slice(i + 1));
  }
  return map;
}

function restliDate(raw: string): string | null {
  const m = /^\(year:(\d{4}),month:(\d{1,2}),day:(\d{1,2})\)$/.exec(raw);
  if (!m) return null;
  const date = `${m[1]}-${(m[2] ?? '').padStart(2, '0')}-${(m[3] ?? '').padStart(2, '0')}`;
  return isIsoDate(date) ? date : null;
}

function ymd(date: string) {
  const [year, month, day] = date.split('-').map(Number);
  return { year, month, day };
}

function adAnalytics(req: SimRequest, ctx: SimContext): SimReply {
  const p = rawParams(req.rawQuery);
  for (const key of ['pivot', 'timeGranularity', 'dateRange', 'fields']) {
    if (ESCAPED_RESTLI.test(p.get(key) ?? '')) {
      return error(400, 'ILLEGAL_ARGUMENT', `Invalid value for param ${key}: Rest.li syntax must not be URL-encoded`);
    }
  }
  const accountsRaw = p.get('accounts') ?? '';
  const list = /^List\((.*)\)$/.exec(accountsRaw);
  if (!list) {
    return error(400, 'ILLEGAL_ARGUMENT', ESCAPED_RESTLI.test(accountsRaw) ? 'Invalid value for param accounts: Rest.li syntax must not be URL-encoded' : 'Param accounts must be List(urn...)');
  }
  if (p.get('q') !== 'analytics') return error(400, 'ILLEGAL_ARGUMENT', 'Param q must be analytics');
  if (p.get('pivot') !== '(value:CAMPAIGN)') return error(400, 'ILLEGAL_ARGUMENT', 'The sandbox serves pivot (value:CAMPAIGN)');
  if (p.get('timeGranularity') !== '(value:DAILY)') return error(400, 'ILLEGAL_ARGUMENT', 'The sandbox serves timeGranularity (value:DAILY)');
  const range = /^\(start:(\([^)]*\))(?:,end:(\([^)]*\)))?\)$/.exec(p.get('dateRange') ?? '');
  const start = range ? restliDate(range[1] ?? '') : null;
  const end = range?.[2] ? restliDate(range[2]) : new Date().toISOString().slice(0, 10);
  if (!start || !end || start > end) return error(400, 'ILLEGAL_ARGUMENT', 'Invalid dateRange');
  const fields = (p.get('fields') ?? '').split(',').filter(Boolean);
  if (fields.length > MAX_FIELDS) return error(400, 'ILLEGAL_ARGUMENT', `Requested ${fields.length} fields; at most ${MAX_FIELDS} are allowed`);
  const unknown = fields.find((f) => !KNOWN_FIELDS.has(f));
  if (unknown) return error(400, 'ILLEGAL_ARGUMENT', `Unknown field ${unknown}`);

  const accounts: string[] = [];
  for (const urn of (list[1] ?? '').split(',')) {
    const account = /^urn:li:sponsoredAccount:(\d+)$/.exec(decodeURIComponent(urn))?.[1];
    if (!account) return error(400, 'ILLEGAL_ARGUMENT', `Invalid account URN ${decodeURIComponent(urn)}`);
    accounts.push(account);
  }
  const profiles = accounts.map((a) => accountProfile('linkedin', a));

  const elements: Array<Record<string, unknown>> = [];
  for (const date of eachDate(start, end)) {
    for (const profile of profiles) {
      for (const c of profile.campaigns) {
        const t = dayTotals(profile, c, date);
        if (!t) continue;
        const all: Record<string, unknown> = {
          dateRange: { start: ymd(date), end: ymd(date) },
          pivotValues: [`urn:li:sponsoredCampaign:${c.id}`],
          impressions: t.impressions,
          clicks: t.clicks,
          costInLocalCurrency: formatCents(t.spendCents),
          externalWebsiteConversions: t.conversions,
        };
        const element: Record<string, unknown> = {};
        for (const f of fields.length ? fields : Object.keys(all)) if (f in all) element[f] = all[f];
        elements.push(element);
      }
    }
  }
  // adAnalytics has no pagination and answers at most 15,000 elements: the rest is cut off
  // without an error (Airbyte source-linkedin-ads PR #31396, PostHog PR #57887).
  return { status: 200, body: { paging: { start: 0, count: 10, links: [] }, elements: elements.slice(0, ctx.options.linkedinRowCap) } };
}

async function campaigns(req: SimRequest, ctx: SimContext, accountId: string): Promise<SimReply> {
  if (req.query.get('q') !== 'search') return error(400, 'ILLEGAL_ARGUMENT', 'Param q must be search');
  const pageSize = Number(req.query.get('pageSize') ?? 100);
  const offset = decodeCursor(req.query.get('pageToken'));
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000 || offset === null) return error(400, 'ILLEGAL_ARGUMENT', 'Invalid pageSize or pageToken');
  await ctx.pageDelay(Math.floor(offset / pageSize) + 1);
  const profile = accountProfile('linkedin', accountId);
  const slice = profile.campaigns.slice(offset, offset + pageSize);
  const elements = slice.map((c) => ({
    id: Number(c.id),
    name: c.name,
    account: `urn:li:sponsoredAccount:${accountId}`,
    status: 'ACTIVE',
    type: 'SPONSORED_UPDATES',
    costType: 'CPM',
    dailyBudget: { amount: '100.00', currencyCode: profile.currency },
  }));
  const metadata: Record<string, string> = {};
  if (offset + slice.length < profile.campaigns.length) metadata.nextPageToken = encodeCursor(offset + slice.length);
  return { status: 200, body: { elements, metadata, paging: { start: 0, count: pageSize, links: [] } } };
}

function accessToken(req: SimRequest, ctx: SimContext): SimReply {
  const form = formBody(req);
  if (form.get('grant_type') !== 'refresh_token') return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'grant_type must be refresh_token' } };
  if (!form.get('client_id') || !form.get('client_secret')) return { status: 401, body: { error: 'invalid_client', error_description: 'Client authentication failed' } };
  const refreshToken = form.get('refresh_token');
  if (!ctx.state.refreshTokenUsable('linkedin', refreshToken)) {
    return { status: 400, body: { error: 'invalid_request', error_description: 'The provided authorization grant or refresh token is invalid, expired or revoked' } };
  }
  const issued = ctx.state.issue('linkedin', 5_184_000);
  // LinkedIn keeps the refresh token; its lifetime keeps counting down from the original grant.
  return { status: 200, body: { access_token: issued.accessToken, expires_in: 5_184_000, refresh_token: refreshToken, refresh_token_expires_in: 31_000_000 } };
}

export function createLinkedInSim(): PlatformSim {
  return {
    provider: 'linkedin',
    isAuthEndpoint: (req) => req.path === '/oauth/v2/accessToken',
    accessToken: bearer,
    serverError: () => error(503, 'SERVICE_UNAVAILABLE', 'Service Unavailable', 0),
    // Never a Retry-After: LinkedIn's limits are daily and reset at midnight UTC ("Rate Limits").
    rateLimited: (_req, _seconds, ctx) => {
      const daily = ctx.state.faults('linkedin').linkedinDailyLimit;
      if (daily === 'UNNAMED') return error(429, 'TOO_MANY_REQUESTS', 'Resource level throttle limit for calls to this resource is reached.', 101);
      return daily
        ? error(429, 'TOO_MANY_REQUESTS', `Resource level throttle ${daily} DAY limit for calls to this resource is reached.`, 101)
        : error(429, 'TOO_MANY_REQUESTS', 'Too many requests', 101);
    },
    authFailed: (_req, problem) =>
      problem === 'revoked'
        ? error(401, 'REVOKED_ACCESS_TOKEN', 'The token used in the request has been revoked by the user', 65601)
        : problem === 'expired'
          ? error(401, 'EXPIRED_ACCESS_TOKEN', 'The token used in the request has expired', 65602)
          : error(401, 'INVALID_ACCESS_TOKEN', 'Empty oauth2 access token', 65600),
    invalid: () => error(400, 'ILLEGAL_ARGUMENT', 'Invalid query parameters passed to request'),
    errorCode: (reply) => {
      const code = reply.status >= 400 ? field(reply.body, 'code') ?? field(reply.body, 'error') : undefined;
      return code === undefined ? null : String(code);
    },
    async handle(req, ctx) {
      if (req.path === '/oauth/v2/accessToken' && req.method === 'POST') return accessToken(req, ctx);
      if (req.method !== 'GET') return error(405, 'METHOD_NOT_ALLOWED', `${req.method} is not supported`);
      if (!/^\d{6}$/.test(String(req.headers['linkedin-version'] ?? ''))) {
        return error(400, 'VERSION_MISSING', 'A version must be present. Please specify a version by adding the LinkedIn-Version header.');
      }
      if (req.headers['x-restli-protocol-version'] !== '2.0.0') return error(400, 'ILLEGAL_ARGUMENT', 'X-Restli-Protocol-Version 2.0.0 is required');
      if (req.path === '/rest/adAnalytics') return adAnalytics(req, ctx);
      const camp = /^\/rest\/adAccounts\/(\d+)\/adCampaigns$/.exec(req.path);
      if (camp) return campaigns(req, ctx, camp[1] ?? '');
      const account = /^\/rest\/adAccounts\/(\d+)$/.exec(req.path);
      if (account) {
        const profile = accountProfile('linkedin', account[1] ?? '');
        return { status: 200, body: { id: Number(account[1]), name: profile.name, currency: profile.currency, status: 'ACTIVE', type: 'BUSINESS' } };
      }
      return error(404, 'NOT_FOUND', `No resource at ${req.path}`);
    },
  };
}
