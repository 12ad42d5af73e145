import { randomBytes } from 'node:crypto';
import { accountProfile, dayTotals, eachDate, formatCents, tracksConversions } from './data.js';
import { daySpan, field, isIsoDate, jsonBody } from './platform.js';
import type { PlatformSim, SimContext, SimReply, SimRequest } from './platform.js';

const MAX_DAYS = 30;
/**
 * Metrics this sandbox serves for AUCTION_CAMPAIGN. `currency` is not among them: TikTok's
 * published metric lists do not confirm it as a report metric, so the sandbox refuses it as
 * TikTok would refuse an unknown metric (the account's currency comes from advertiser/info/).
 */
const KNOWN_METRICS = new Set(['spend', 'impressions', 'clicks', 'conversion', 'campaign_name', 'cpc', 'cpm', 'ctr']);

/** TikTok answers HTTP 200 whatever happened; the body's code says what. */
function envelope(code: number, message: string, data: unknown = {}): SimReply {
  return { status: 200, body: { code, message, request_id: randomBytes(10).toString('hex'), data } };
}

function jsonArray(raw: string | null): string[] | null {
  try {
    const v: unknown = JSON.parse(raw ?? '');
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : null;
  } catch {
    return null;
  }
}

async function report(req: SimRequest, ctx: SimContext): Promise<SimReply> {
  const q = req.query;
  const advertiserId = q.get('advertiser_id') ?? '';
  if (!/^\d+$/.test(advertiserId)) return envelope(40002, 'advertiser_id: Field must be set to a valid advertiser id.');
  if (q.get('report_type') !== 'BASIC') return envelope(40002, 'report_type: the sandbox serves BASIC.');
  if (q.get('data_level') !== 'AUCTION_CAMPAIGN') return envelope(40002, 'data_level: the sandbox serves AUCTION_CAMPAIGN.');
  const dimensions = jsonArray(q.get('dimensions'));
  if (!dimensions || dimensions.length !== 2 || !dimensions.includes('campaign_id') || !dimensions.includes('stat_time_day')) {
    return envelope(40002, 'dimensions: the sandbox serves ["campaign_id","stat_time_day"].');
  }
  const metrics = jsonArray(q.get('metrics'));
  const unknown = metrics?.find((m) => !KNOWN_METRICS.has(m));
  if (!metrics || unknown) return envelope(40002, `metrics: invalid metric ${unknown ?? ''}`.trim());
  const start = q.get('start_date');
  const end = q.get('end_date');
  if (!isIsoDate(start) || !isIsoDate(end) || start > end) return envelope(40002, 'start_date and end_date must be dates as YYYY-MM-DD, start first.');
  if (daySpan(start, end) > MAX_DAYS) return envelope(40002, `The time span between start_date and end_date cannot exceed ${MAX_DAYS} days.`);
  const page = Number(q.get('page') ?? 1);
  const pageSize = Number(q.get('page_size') ?? 10);
  if (!Number.isInteger(page) || page < 1 || !Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
    return envelope(40002, 'page must be >= 1 and page_size between 1 and 1000.');
  }
  await ctx.pageDelay(page);

  const profile = accountProfile('tiktok', advertiserId);
  const rows: unknown[] = [];
  for (const date of eachDate(start, end)) {
    for (const c of profile.campaigns) {
      const t = dayTotals(profile, c, date);
      if (!t) continue;
      const all: Record<string, string> = {
        spend: formatCents(t.spendCents),
        impressions: String(t.impressions),
        clicks: String(t.clicks),
        // TikTok sends "-" where a metric has no value (Airbyte source-tiktok-marketing maps it to null).
        conversion: tracksConversions(profile, c) ? String(t.conversions) : '-',
        campaign_name: c.name,
        cpc: t.clicks ? (t.spendCents / 100 / t.clicks).toFixed(2) : '0.00',
        cpm: ((t.spendCents / 100 / t.impressions) * 1000).toFixed(2),
        ctr: ((t.clicks / t.impressions) * 100).toFixed(2),
      };
      const values: Record<string, string> = {};
      for (const m of metrics) values[m] = all[m] ?? '';
      rows.push({ dimensions: { campaign_id: c.id, stat_time_day: `${date} 00:00:00` }, metrics: values });
    }
  }
  const totalPage = Math.ceil(rows.length / pageSize);
  return envelope(0, 'OK', {
    list: rows.slice((page - 1) * pageSize, page * pageSize),
    page_info: { page, page_size: pageSize, total_number: rows.length, total_page: totalPage },
  });
}

/** Advertiser accounts: the currency and timezone reports are kept in. */
function advertiserInfo(req: SimRequest): SimReply {
  const ids = jsonArray(req.query.get('advertiser_ids'));
  if (!ids || ids.length === 0 || ids.some((id) => !/^\d+$/.test(id))) return envelope(40002, 'advertiser_ids: Field must be a JSON array of advertiser ids.');
  const fields = req.query.has('fields') ? jsonArray(req.query.get('fields')) : null;
  if (req.query.has('fields') && !fields) return envelope(40002, 'fields: must be a JSON array of strings.');
  const list = ids.map((id) => {
    const profile = accountProfile('tiktok', id);
    const all: Record<string, string> = { advertiser_id: id, name: profile.name, currency: profile.currency, timezone: 'Etc/GMT', display_timezone: 'UTC', status: 'STATUS_ENABLE' };
    return fields ? Object.fromEntries(Object.entries(all).filter(([k]) => fields.includes(k))) : all;
  });
  return envelope(0, 'OK', { list });
}

function refresh(req: SimRequest, ctx: SimContext): SimReply {
  const body = jsonBody(req);
  if (!body?.app_id || !body.secret) return envelope(40001, 'app_id and secret are required.');
  const token = typeof body.refresh_token === 'string' ? body.refresh_token : null;
  if (body.grant_type !== 'refresh_token' || !ctx.state.refreshTokenUsable('tiktok', token)) {
    return envelope(40107, 'The refresh token is invalid or has expired.');
  }
  const issued = ctx.state.issue('tiktok', 86_400);
  return envelope(0, 'OK', { access_token: issued.accessToken, access_token_expire_in: 86_400, refresh_token: issued.refreshToken, refresh_token_expire_in: 31_536_000 });
}

export function createTikTokSim(): PlatformSim {
  return {
    provider: 'tiktok',
    isAuthEndpoint: (req) => req.path === '/open_api/v1.3/oauth2/refresh_token/',
    accessToken: (req) => {
      const header = req.headers['access-token'];
      return typeof header === 'string' ? header : null;
    },
    serverError: () => envelope(50000, 'System error, please try again later.'),
    rateLimited: () => envelope(40100, 'Requests made too frequently. Please try again later.'),
    authFailed: (_req, problem) => (problem === 'missing' ? envelope(40104, 'Access token is empty.') : envelope(40105, 'Access token is incorrect or has been revoked.')),
    invalid: () => envelope(40002, 'Invalid parameters.'),
    // Every answer carries a code, 0 for success.
    errorCode: (reply) => {
      const code = field(reply.body, 'code');
      return code === undefined || code === 0 ? null : String(code);
    },
    async handle(req, ctx) {
      if (this.isAuthEndpoint(req) && req.method === 'POST') return refresh(req, ctx);
      if (req.path === '/open_api/v1.3/report/integrated/get/' && req.method === 'GET') return report(req, ctx);
      if (req.path === '/open_api/v1.3/advertiser/info/' && req.method === 'GET') return advertiserInfo(req);
      return { status: 404, body: { code: 40400, message: `No endpoint ${req.method} ${req.path}` } };
    },
  };
}
