import { z } from 'zod';
import { sliceWindow } from './dates.js';
import { AuthExpiredError, PermanentError, PermissionError, RateLimitedError, TransientError } from './errors.js';
import type { HttpPolicy, PlatformResponse, ProviderHttpClient, RequestContext } from './http.js';
import { apiUrl, query } from './http.js';
import { checkedRow, numeric, parseBody, parseRecord } from './parse.js';
import { openReportRun, type TokenSession } from './session.js';
import { API_VERSIONS } from './versions.js';
import type { Connector, FetchReportInput, FetchReportResult, MetricRow, ProviderCredentials, ReportKind, ReportWindow } from './types.js';

export interface TikTokConfig {
  /** Default https://business-api.tiktok.com. */
  apiBaseUrl?: string;
  appId: string;
  secret: string;
  /** Rows per page, at most 1000. Default 1000. */
  pageSize?: number;
  /** Daily reports accept at most 30 days per request. Default 30. */
  maxDaysPerRequest?: number;
  http?: Partial<HttpPolicy>;
}

const PROVIDER = 'tiktok';

/** TikTok's limiter counts per second: one second is its own retry hint. */
const RATE_LIMIT_WAIT_MS = 1000;
const AUTH_CODES = new Set([40102, 40104, 40105]);

const envelopeSchema = z.object({ code: z.number(), message: z.string().default(''), data: z.unknown().optional() });

/** TikTok answers HTTP 200 for nearly everything; the outcome is the body's code. */
export function checkTikTokResponse(res: PlatformResponse): void {
  if (res.status >= 500) throw new TransientError(PROVIDER, `HTTP ${res.status}`);
  const parsed = envelopeSchema.safeParse(res.body);
  if (!parsed.success) {
    if (res.status === 429) throw new RateLimitedError(PROVIDER, RATE_LIMIT_WAIT_MS);
    throw new PermanentError(PROVIDER, `HTTP ${res.status} without a TikTok envelope`);
  }
  const { code, message } = parsed.data;
  if (code === 0) return;
  if (code === 40100) throw new RateLimitedError(PROVIDER, RATE_LIMIT_WAIT_MS);
  if (AUTH_CODES.has(code)) throw new AuthExpiredError(PROVIDER, `code ${code}`);
  if (code === 40001) throw new PermissionError(PROVIDER, 'Reporting');
  if (code >= 50000 && code < 60000) throw new TransientError(PROVIDER, `code ${code}: ${message}`);
  throw new PermanentError(PROVIDER, `code ${code}: ${message}`);
}

const reportSchema = z.object({
  data: z.object({
    list: z.array(z.unknown()),
    page_info: z.object({ page: z.number(), total_page: z.number() }),
  }),
});
/**
 * An additive metric: TikTok sends "-" where it has no value (Airbyte source-tiktok-marketing
 * turns it into null, `TransformEmptyMetrics`); for a count or a cost that is 0.
 */
const additive = z.union([z.literal('-').transform(() => 0), numeric]).default(0);

const REPORT_METRICS = ['campaign_name', 'spend', 'impressions', 'clicks', 'conversion'];
const rowSchema = z.object({
  dimensions: z.object({ campaign_id: z.string().min(1), stat_time_day: z.string().regex(/^\d{4}-\d{2}-\d{2}/) }),
  metrics: z.object({
    campaign_name: z.string().default(''),
    spend: additive,
    impressions: additive,
    clicks: additive,
    conversion: additive,
  }),
});
const advertiserInfoSchema = z.object({
  data: z.object({ list: z.array(z.object({ advertiser_id: z.string().optional(), currency: z.string().regex(/^[A-Z]{3}$/) })).min(1) }),
});
const refreshSchema = z.object({
  data: z.object({
    access_token: z.string().min(1),
    access_token_expire_in: z.number().optional(),
    refresh_token: z.string().min(1).optional(),
  }),
});

export class TikTokConnector implements Connector {
  readonly providerId = PROVIDER;
  readonly reportKinds: readonly ReportKind[] = ['campaign-daily'];
  private readonly apiBase: string;

  constructor(
    private readonly config: TikTokConfig,
    private readonly http: ProviderHttpClient,
  ) {
    this.apiBase = apiUrl(config.apiBaseUrl, 'https://business-api.tiktok.com', `/open_api/${API_VERSIONS.tiktok.version}`);
  }

  async fetchReport(kind: ReportKind, input: FetchReportInput): Promise<FetchReportResult> {
    const { ctx, session } = openReportRun(this, kind, input, (token, c) => this.refresh(token, c));
    const advertiserId = input.account.trim();
    if (!/^\d+$/.test(advertiserId)) throw new PermanentError(PROVIDER, 'advertiser id must be digits', input.account);
    const slices = sliceWindow(input.window, this.config.maxDaysPerRequest ?? 30);
    // The report carries no currency: the advertiser's comes from advertiser/info/, once per
    // connection, and first, so that a token problem shows there before the slices fan out.
    const currency = input.currency ?? (await this.advertiserCurrency(advertiserId, session, ctx));
    const lists = await Promise.all(slices.map((slice) => this.fetchSlice(advertiserId, slice, session, ctx)));
    const rows = lists.flat().map((item) => toRow(advertiserId, currency, item));
    return { rows, apiCalls: ctx.calls, credentials: session.renewedCredentials, ...(input.currency ? {} : { accountCurrency: currency }) };
  }

  private async advertiserCurrency(advertiserId: string, session: TokenSession, ctx: RequestContext): Promise<string> {
    const params = query({ advertiser_ids: JSON.stringify([advertiserId]), fields: JSON.stringify(['advertiser_id', 'currency']) });
    const body = await session.call(
      async (token) => (await this.http.send({ method: 'GET', url: `${this.apiBase}/advertiser/info/?${params}`, headers: { 'Access-Token': token } }, checkTikTokResponse, ctx)).body,
    );
    return parseBody(PROVIDER, advertiserInfoSchema, body, 'advertiser info').data.list[0]!.currency;
  }

  private async fetchSlice(advertiserId: string, slice: ReportWindow, session: TokenSession, ctx: RequestContext): Promise<unknown[]> {
    const rows: unknown[] = [];
    for (let page = 1; ; page++) {
      const params = query({
        advertiser_id: advertiserId,
        report_type: 'BASIC',
        data_level: 'AUCTION_CAMPAIGN',
        dimensions: JSON.stringify(['campaign_id', 'stat_time_day']),
        metrics: JSON.stringify(REPORT_METRICS),
        start_date: slice.start,
        end_date: slice.end,
        page,
        page_size: this.config.pageSize ?? 1000,
      });
      const body = await session.call(
        async (token) =>
          (
            await this.http.send(
              { method: 'GET', url: `${this.apiBase}/report/integrated/get/?${params}`, headers: { 'Access-Token': token } },
              checkTikTokResponse,
              ctx,
            )
          ).body,
      );
      const report = parseBody(PROVIDER, reportSchema, body, 'integrated report');
      rows.push(...report.data.list);
      if (report.data.page_info.page >= report.data.page_info.total_page) return rows;
    }
  }

  private async refresh(refreshToken: string, ctx: RequestContext): Promise<ProviderCredentials> {
    const res = await this.http.send(
      {
        method: 'POST',
        url: `${this.apiBase}/oauth2/refresh_token/`,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ app_id: this.config.appId, secret: this.config.secret, refresh_token: refreshToken, grant_type: 'refresh_token' }),
      },
      (r) => {
        try {
          checkTikTokResponse(r);
        } catch (error) {
          // Any refusal of the refresh itself means the grant is gone.
          if (error instanceof PermanentError || error instanceof PermissionError) throw new AuthExpiredError(PROVIDER, 'refresh refused');
          throw error;
        }
      },
      ctx,
    );
    const data = parseBody(PROVIDER, refreshSchema, res.body, 'token refresh').data;
    return {
      accessToken: data.access_token,
      refreshToken: data.refresh_token ?? refreshToken,
      expiresAt: data.access_token_expire_in !== undefined ? Date.now() + data.access_token_expire_in * 1000 : null,
    };
  }
}

function toRow(advertiserId: string, currency: string, item: unknown): MetricRow {
  const o = typeof item === 'object' && item !== null ? (item as Record<string, Record<string, unknown> | undefined>) : {};
  const record = `campaign ${String(o.dimensions?.campaign_id ?? '?')} on ${String(o.dimensions?.stat_time_day ?? '?')}`;
  const r = parseRecord(PROVIDER, rowSchema, item, record);
  return checkedRow({
    kind: 'campaign-daily',
    provider: PROVIDER,
    accountId: advertiserId,
    campaignId: r.dimensions.campaign_id,
    campaignName: r.metrics.campaign_name,
    date: r.dimensions.stat_time_day.slice(0, 10),
    impressions: r.metrics.impressions,
    clicks: r.metrics.clicks,
    spend: r.metrics.spend,
    currency,
    conversions: r.metrics.conversion,
  });
}
