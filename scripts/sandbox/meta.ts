import { randomBytes } from 'node:crypto';
import { accountProfile, DEMOGRAPHIC_SEGMENTS, dayTotals, eachDate, formatCents, PLACEMENT_SEGMENTS, segmentTotals } from './data.js';
import type { DayTotals } from './data.js';
import { daySpan, decodeCursor, encodeCursor, field, formBody, isIsoDate } from './platform.js';
import type { PlatformSim, SimContext, SimReply, SimRequest } from './platform.js';
import type { MetaOversizedAnswer } from './state.js';

const KNOWN_FIELDS = new Set([
  'account_currency', 'account_id', 'campaign_id', 'campaign_name', 'date_start', 'date_stop',
  'impressions', 'clicks', 'spend', 'actions', 'reach', 'cpc', 'cpm', 'ctr',
]);
const BREAKDOWNS: Record<string, 'demographics' | 'placement'> = {
  'age,gender': 'demographics',
  'publisher_platform,platform_position': 'placement',
};
const DEFAULT_LIMIT = 25;
/** The largest page the connector asks for; anything above is refused as Meta refuses a bad parameter. */
export const MAX_LIMIT = 5000;

interface InsightsQuery {
  accountId: string;
  since: string;
  until: string;
  fields: string[];
  breakdown: 'demographics' | 'placement' | null;
}

interface ReportJob {
  query: InsightsQuery;
  polls: number;
  /** Status polls answered before the job ends. */
  pollsBeforeEnd: number;
  ending: 'Job Completed' | 'Job Failed' | 'Job Skipped';
}

/**
 * The statuses an async report passes through, in order ("Ads Insights: Asynchronous
 * Jobs"; the same six names in Airbyte source-facebook-marketing `streams/async_job.py`).
 */
function jobStatus(job: ReportJob): { status: string; percent: number } {
  if (job.polls > job.pollsBeforeEnd) return { status: job.ending, percent: job.ending === 'Job Completed' ? 100 : 0 };
  if (job.polls === 1) return { status: 'Job Not Started', percent: 0 };
  if (job.polls === 2) return { status: 'Job Started', percent: 0 };
  return { status: 'Job Running', percent: Math.min(99, Math.round((100 * (job.polls - 2)) / Math.max(1, job.pollsBeforeEnd - 1))) };
}

/**
 * A failed job's error fields, default fields of GET {report_run_id} from v25.0 on (Meta
 * developer blog "Enhanced Error Messaging for Ads Insights Async API", 2026-01-08; code
 * -2 / 2490547 from "Ads Insights API Error Codes").
 */
const FAILED_JOB_ERROR = { error_code: -2, error_subcode: 2490547, error_message: 'Generating the report failed. Try again later.', error_user_title: 'Report Failed' };

class MetaRequestError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly subcode?: number,
  ) {
    super(message);
  }
}

/**
 * How Meta refuses a synchronous insights request that asks for too much (README lists the
 * sources). The first is the one public connectors report and match: HTTP 500, code 1 and
 * this message, without a subcode and without the usual type or fbtrace_id.
 */
const OVERSIZED: Record<MetaOversizedAnswer, () => SimReply> = {
  'reduce-data': () => ({ status: 500, body: { error: { message: "Please reduce the amount of data you're asking for, then retry your request", code: 1 } } }),
  'reduce-data-100': () => errorReply(400, 100, "Please reduce the amount of data you're asking for, then retry your request", { error_subcode: 1487534 }),
  'timeout-100': () =>
    errorReply(400, 100, 'Your request timed out. Try a smaller date range, fetch less data, or use async jobs.', { error_subcode: 1504018, error_user_title: 'Request Timed Out' }),
  'timeout-2': () =>
    errorReply(500, 2, 'Your request timed out. Try a smaller date range, fetch less data, or use async jobs.', { error_subcode: 1504038, error_user_title: 'Request Timed Out', is_transient: true }),
};

function errorReply(status: number, code: number, message: string, extra: Record<string, unknown> = {}): SimReply {
  return {
    status,
    body: { error: { message, type: 'OAuthException', code, fbtrace_id: randomBytes(8).toString('base64url'), ...extra } },
  };
}

function params(req: SimRequest): URLSearchParams {
  return req.method === 'POST' ? formBody(req) : req.query;
}

function parseInsightsQuery(accountId: string, p: URLSearchParams): InsightsQuery {
  if (p.get('level') !== 'campaign') throw new MetaRequestError(100, '(#100) level must be one of the following values: ad, adset, campaign, account; this sandbox serves campaign');
  if (p.get('time_increment') !== '1') throw new MetaRequestError(100, '(#100) time_increment must be 1 in this sandbox');
  let range: unknown;
  try {
    range = JSON.parse(p.get('time_range') ?? '');
  } catch {
    throw new MetaRequestError(100, '(#100) param time_range must be a JSON object with since and until');
  }
  const { since, until } = (typeof range === 'object' && range !== null ? range : {}) as { since?: string; until?: string };
  if (!isIsoDate(since) || !isIsoDate(until)) throw new MetaRequestError(100, '(#100) time_range since and until must be dates as YYYY-MM-DD');
  if (since > until) throw new MetaRequestError(100, '(#100) time_range since must not be after until');
  const fields = (p.get('fields') ?? '').split(',').filter(Boolean);
  const unknown = fields.find((f) => !KNOWN_FIELDS.has(f));
  if (unknown) throw new MetaRequestError(100, `(#100) ${unknown} is not valid for fields param`);
  const rawBreakdowns = p.get('breakdowns');
  const breakdown = rawBreakdowns ? BREAKDOWNS[rawBreakdowns] : null;
  if (breakdown === undefined) throw new MetaRequestError(100, `(#100) breakdowns ${rawBreakdowns} is not supported here`);
  return { accountId, since, until, fields, breakdown };
}

function actions(t: DayTotals, clicks: number): Array<{ action_type: string; value: string }> {
  const purchases = Math.ceil(t.conversions * 0.6);
  const leads = t.conversions - purchases;
  return [
    { action_type: 'link_click', value: clicks },
    { action_type: 'page_engagement', value: clicks + Math.floor(t.impressions / 50) },
    { action_type: 'offsite_conversion.fb_pixel_purchase', value: purchases },
    { action_type: 'offsite_conversion.fb_pixel_lead', value: leads },
    // An aggregate Meta also reports: counting it as well would double-count leads.
    { action_type: 'lead', value: leads },
  ]
    .filter((a) => a.value > 0)
    .map((a) => ({ action_type: a.action_type, value: String(a.value) }));
}

function insightRows(q: InsightsQuery): Array<Record<string, unknown>> {
  const profile = accountProfile('meta', q.accountId);
  const rows: Array<Record<string, unknown>> = [];
  const shape = (campaignId: string, campaignName: string, date: string, t: DayTotals, extra: Record<string, string>) => {
    const all: Record<string, unknown> = {
      account_currency: profile.currency,
      account_id: q.accountId,
      campaign_id: campaignId,
      campaign_name: campaignName,
      impressions: String(t.impressions),
      clicks: String(t.clicks),
      spend: formatCents(t.spendCents),
      actions: actions(t, t.clicks),
    };
    const row: Record<string, unknown> = {};
    for (const f of q.fields) if (f in all) row[f] = all[f];
    // Meta always echoes the day and the breakdown values.
    return { ...row, date_start: date, date_stop: date, ...extra };
  };
  for (const date of eachDate(q.since, q.until)) {
    for (const c of profile.campaigns) {
      if (q.breakdown === null) {
        const t = dayTotals(profile, c, date);
        if (t) rows.push(shape(c.id, c.name, date, t, {}));
        continue;
      }
      for (const s of segmentTotals(profile, c, date, q.breakdown)) {
        const extra: Record<string, string> =
          q.breakdown === 'demographics'
            ? { ...(DEMOGRAPHIC_SEGMENTS[s.index] as { age: string; gender: string }) }
            : {
                publisher_platform: PLACEMENT_SEGMENTS[s.index]?.publisherPlatform ?? '',
                platform_position: PLACEMENT_SEGMENTS[s.index]?.platformPosition ?? '',
              };
        rows.push(shape(c.id, c.name, date, s.totals, extra));
      }
    }
  }
  return rows;
}

export function createMetaSim(): PlatformSim {
  const jobs = new Map<string, ReportJob>();
  const recent: number[] = [];

  async function page(req: SimRequest, ctx: SimContext, q: InsightsQuery): Promise<SimReply> {
    const limit = Number(req.query.get('limit') ?? DEFAULT_LIMIT);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw new MetaRequestError(100, `(#100) param limit must be a number between 1 and ${MAX_LIMIT}, got ${req.query.get('limit') ?? ''}`);
    }
    const offset = decodeCursor(req.query.get('after'));
    if (offset === null) throw new MetaRequestError(100, '(#100) invalid after cursor');
    await ctx.pageDelay(Math.floor(offset / limit) + 1);
    const rows = insightRows(q);
    const data = rows.slice(offset, offset + limit);
    const paging: Record<string, unknown> = { cursors: { before: encodeCursor(offset), after: encodeCursor(offset + data.length) } };
    if (offset + data.length < rows.length) {
      const next = new URLSearchParams(req.query);
      next.set('after', encodeCursor(offset + data.length));
      paging.next = `${req.base}${req.path}?${next.toString()}`;
    }
    return { status: 200, body: { data, paging } };
  }

  function route(req: SimRequest, ctx: SimContext): Promise<SimReply> | SimReply {
    const insights = /^\/v\d+\.\d+\/act_(\d+)\/insights$/.exec(req.path);
    if (insights) {
      const q = parseInsightsQuery(insights[1] ?? '', params(req));
      if (req.method === 'POST') {
        const id = String(6_000_000_000_000 + Math.floor(Math.random() * 1_000_000_000_000));
        const f = ctx.state.faults('meta');
        const ending = f.asyncJobsFail ? 'Job Failed' : f.asyncJobsSkip ? 'Job Skipped' : 'Job Completed';
        jobs.set(id, { query: q, polls: 0, pollsBeforeEnd: f.asyncPolls ?? 1, ending });
        return { status: 200, body: { report_run_id: id } };
      }
      const segments = q.breakdown === 'demographics' ? DEMOGRAPHIC_SEGMENTS.length : q.breakdown === 'placement' ? PLACEMENT_SEGMENTS.length : 1;
      const estimate = accountProfile('meta', q.accountId).campaigns.length * daySpan(q.since, q.until) * segments;
      if (estimate > ctx.options.metaSyncRowLimit) return OVERSIZED[ctx.state.faults('meta').metaOversizedAs ?? 'reduce-data']();
      return page(req, ctx, q);
    }
    const job = /^\/v\d+\.\d+\/(\d+)(\/insights)?$/.exec(req.path);
    const found = job ? jobs.get(job[1] ?? '') : undefined;
    if (job && found && req.method === 'GET') {
      if (!job[2]) {
        found.polls += 1;
        const { status, percent } = jobStatus(found);
        return {
          status: 200,
          body: {
            id: job[1],
            account_id: found.query.accountId,
            async_status: status,
            async_percent_completion: percent,
            date_start: found.query.since,
            date_stop: found.query.until,
            ...(status === 'Job Failed' ? FAILED_JOB_ERROR : {}),
          },
        };
      }
      if (jobStatus(found).status !== 'Job Completed') throw new MetaRequestError(100, '(#100) the report is not ready');
      return page(req, ctx, found.query);
    }
    return errorReply(400, 100, `(#100) Unsupported ${req.method} request to ${req.path}`, { error_subcode: 33 });
  }

  return {
    provider: 'meta',
    isAuthEndpoint: (req) => /^\/v\d+\.\d+\/oauth\/access_token$/.test(req.path),
    accessToken: (req) => params(req).get('access_token'),
    serverError: () => ({ status: 500, body: { error: { message: 'An unknown error occurred', type: 'OAuthException', code: 1, is_transient: true, fbtrace_id: 'sandbox' } } }),
    rateLimited: (req, seconds, ctx) => ({
      ...THROTTLES[ctx.state.faults('meta').metaThrottleCode ?? 17](),
      headers: usageHeaders(accountOf(req), 100, 100, seconds),
    }),
    authFailed: (_req, problem) =>
      problem === 'missing'
        ? errorReply(400, 104, 'An access token is required to request this resource.')
        : problem === 'expired'
          ? errorReply(400, 190, 'Error validating access token: Session has expired.', { error_subcode: 463 })
          : errorReply(400, 190, 'Error validating access token: The user has not authorized application.', { error_subcode: 458 }),
    invalid: () => errorReply(400, 100, '(#100) Invalid parameter'),
    async handle(req, ctx) {
      if (this.isAuthEndpoint(req)) return exchangeToken(req, ctx);
      try {
        return await route(req, ctx);
      } catch (error) {
        if (error instanceof MetaRequestError) return errorReply(400, error.code, error.message, error.subcode ? { error_subcode: error.subcode } : {});
        throw error;
      }
    },
    decorate(req, reply, ctx) {
      const now = Date.now();
      recent.push(now);
      while ((recent[0] ?? now) < now - 60_000) recent.shift();
      const faults = ctx.state.faults('meta');
      const pct = faults.usagePct ?? Math.min(80, recent.length);
      const account = accountOf(req);
      reply.headers = { ...usageHeaders(account, pct, faults.accountUsagePct?.[account] ?? pct, faults.usageResetSeconds ?? 0), ...reply.headers };
    },
    errorCode: (reply) => {
      const code = field(field(reply.body, 'error'), 'code');
      return code === undefined ? null : String(code);
    },
  };
}

/** The two throttle answers as Meta's "Marketing API Rate Limiting" page pairs codes, subcodes and messages. */
const THROTTLES: Record<17 | 613, () => SimReply> = {
  17: () => errorReply(400, 17, 'User request limit reached', { error_subcode: 2446079 }),
  613: () => errorReply(400, 613, 'There have been too many calls from this ad-account. Please wait a bit and try again.', { error_subcode: 1487742 }),
};

function accountOf(req: SimRequest): string {
  return /\/act_(\d+)\//.exec(req.path)?.[1] ?? '0';
}

/**
 * Usage as Marketing API calls report it: per business use case in X-Business-Use-Case-Usage,
 * the wait as estimated_time_to_regain_access in whole minutes (Graph API "Rate Limits"), so
 * a wait under a minute reads as 0. X-Ad-Account-Usage belongs to v3.3 and older and is not sent.
 */
function usageHeaders(accountId: string, appPct: number, accountPct: number, waitSeconds: number): Record<string, string> {
  return {
    'x-app-usage': JSON.stringify({ call_count: appPct, total_time: Math.floor(appPct / 2), total_cputime: Math.floor(appPct / 3) }),
    'x-business-use-case-usage': JSON.stringify({
      [accountId]: [
        {
          type: 'ads_insights',
          call_count: accountPct,
          total_cputime: Math.floor(accountPct / 3),
          total_time: Math.floor(accountPct / 2),
          estimated_time_to_regain_access: Math.floor(waitSeconds / 60),
        },
      ],
    }),
  };
}

/** Long-lived token exchange: Meta's only renewal, and it needs a still-valid token. */
function exchangeToken(req: SimRequest, ctx: SimContext): SimReply {
  const q = req.query;
  if (q.get('grant_type') !== 'fb_exchange_token' || !q.get('client_id') || !q.get('client_secret')) {
    return errorReply(400, 100, '(#100) grant_type, client_id, client_secret and fb_exchange_token are required');
  }
  const status = ctx.state.accessTokenStatus('meta', q.get('fb_exchange_token'));
  if (status !== 'ok') return errorReply(400, 190, 'Error validating access token: Session has expired.', { error_subcode: 463 });
  const issued = ctx.state.issue('meta', 5_184_000);
  return { status: 200, body: { access_token: issued.accessToken, token_type: 'bearer', expires_in: 5_184_000 } };
}
