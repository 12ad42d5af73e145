import { z } from 'zod';
import { daysPerRequest, halveWindow, sliceWindow, windowDays } from './dates.js';
import { AuthExpiredError, PermanentError, PermissionError, RateLimitedError, TransientError } from './errors.js';
import { apiUrl } from './http.js';
import type { HttpPolicy, PlatformResponse, ProviderHttpClient } from './http.js';
import { refreshWithOAuth2 } from './oauth.js';
import { checkedRow, numeric, parseBody, parseRecord } from './parse.js';
import { nextUtcMidnight, parseRetryAfter } from './limitSignals.js';
import { openReportRun } from './session.js';
import { API_VERSIONS } from './versions.js';
import type { Connector, FetchReportInput, FetchReportResult, MetricRow, ReportKind, ReportWindow } from './types.js';

export interface LinkedInConfig {
  /** Default https://api.linkedin.com. */
  apiBaseUrl?: string;
  /** Default https://www.linkedin.com. */
  oauthBaseUrl?: string;
  clientId: string;
  clientSecret: string;
  /** adAnalytics answers unpaged and caps its rows: campaigns x days per request stays under this. Default 10000. */
  maxRowsPerRequest?: number;
  /**
   * The most elements adAnalytics returns; an answer this long may have been cut off and is
   * asked for again in halves. Default LINKEDIN_ELEMENT_CAP.
   */
  elementCap?: number;
  /** Campaigns per page of the campaign search. Default 1000. */
  campaignPageSize?: number;
  http?: Partial<HttpPolicy>;
}

const PROVIDER = 'linkedin';

/**
 * adAnalytics has no pagination and returns at most 15,000 elements, silently dropping the
 * rest (LinkedIn "Ads Reporting": no pagination; the cap: Airbyte source-linkedin-ads PR
 * #31396, PostHog PR #57887).
 */
export const LINKEDIN_ELEMENT_CAP = 15_000;

const FIELDS = ['dateRange', 'pivotValues', 'impressions', 'clicks', 'costInLocalCurrency', 'externalWebsiteConversions'];

const linkedInErrorSchema = z.object({ message: z.string().default(''), serviceErrorCode: z.number().optional() });

export function checkLinkedInResponse(res: PlatformResponse): void {
  if (res.status < 400) return;
  const parsed = linkedInErrorSchema.safeParse(res.body);
  const message = parsed.success && parsed.data.message ? parsed.data.message : `HTTP ${res.status}`;
  if (res.status === 401) throw new AuthExpiredError(PROVIDER, 'access token rejected');
  if (res.status === 403) throw new PermissionError(PROVIDER, 'r_ads_reporting');
  if (res.status === 429) {
    const hinted = parseRetryAfter(res.headers.get('retry-after'));
    if (hinted !== null) throw new RateLimitedError(PROVIDER, hinted);
    // Limits are per day and reset at midnight UTC, without a Retry-After (LinkedIn "Rate
    // Limits"); the message names the DAY limit and whose it is (PostHog PR #64614).
    if (/\bDAY limit\b/i.test(message)) throw dailyLimitReached(/\bMEMBER\b/i.test(message) ? 'connection' : 'platform');
    // "In rare cases ... a 429 response as part of infrastructure protection": the client's
    // floor, waited out in place; still refused after those waits, see unnamedLimitAsDaily.
    throw new RateLimitedError(PROVIDER, 0, { limit: UNNAMED_LIMIT });
  }
  if (res.status >= 500) throw new TransientError(PROVIDER, `HTTP ${res.status}: ${message}`);
  throw new PermanentError(PROVIDER, `HTTP ${res.status}: ${message}`);
}

const UNNAMED_LIMIT = 'rate limit reached';

function dailyLimitReached(scope: 'connection' | 'platform'): RateLimitedError {
  const now = Date.now();
  const resumeAt = nextUtcMidnight(now);
  return new RateLimitedError(PROVIDER, resumeAt - now, { scope, limit: 'daily request limit reached (it resets at midnight UTC)', resumeAt });
}

/**
 * LinkedIn's daily limits do not always say "DAY" ({"serviceErrorCode":101,"message":"Resource
 * level throttle limit for calls to this resource is reached."}, Automattic/wp-calypso#32007):
 * a 429 without Retry-After that outlasts the in-place waits is taken as this connection's
 * daily limit, so the job waits for midnight UTC instead of coming back every second.
 */
export function unnamedLimitAsDaily(error: unknown): unknown {
  return error instanceof RateLimitedError && error.scope === 'request' && error.details.limit === UNNAMED_LIMIT ? dailyLimitReached('connection') : error;
}

const accountSchema = z.object({ currency: z.string() });
const campaignPageSchema = z.object({
  elements: z.array(z.object({ id: numeric, name: z.string().default('') })),
  metadata: z.object({ nextPageToken: z.string().optional() }).optional(),
});
const analyticsSchema = z.object({ elements: z.array(z.unknown()) });
const ymd = z.object({ year: z.number().int(), month: z.number().int(), day: z.number().int() });
const elementSchema = z.object({
  pivotValues: z.array(z.string()).min(1),
  dateRange: z.object({ start: ymd }),
  impressions: numeric.default(0),
  clicks: numeric.default(0),
  costInLocalCurrency: numeric.default(0),
  externalWebsiteConversions: numeric.default(0),
});

function restliDate(date: string): string {
  const [year, month, day] = date.split('-').map(Number);
  return `(year:${year},month:${month},day:${day})`;
}

/**
 * Rest.li 2.0 wants ( ) : , literally in these parameters, which URLSearchParams would escape;
 * only the URN inside List(...) is percent-encoded.
 */
export function adAnalyticsQuery(accountId: string, window: ReportWindow): string {
  return [
    'q=analytics',
    'pivot=(value:CAMPAIGN)',
    'timeGranularity=(value:DAILY)',
    `dateRange=(start:${restliDate(window.start)},end:${restliDate(window.end)})`,
    `accounts=List(${encodeURIComponent(`urn:li:sponsoredAccount:${accountId}`)})`,
    `fields=${FIELDS.join(',')}`,
  ].join('&');
}

export class LinkedInConnector implements Connector {
  readonly providerId = PROVIDER;
  readonly reportKinds: readonly ReportKind[] = ['campaign-daily'];
  private readonly apiBase: string;
  private readonly tokenUrl: string;

  constructor(
    private readonly config: LinkedInConfig,
    private readonly http: ProviderHttpClient,
  ) {
    this.apiBase = apiUrl(config.apiBaseUrl, 'https://api.linkedin.com', '/rest');
    this.tokenUrl = apiUrl(config.oauthBaseUrl, 'https://www.linkedin.com', '/oauth/v2/accessToken');
  }

  async fetchReport(kind: ReportKind, input: FetchReportInput): Promise<FetchReportResult> {
    const { ctx, session } = openReportRun(this, kind, input, (refreshToken, c) => refreshWithOAuth2(this.http, this.tokenUrl, this.config, refreshToken, c));
    const accountId = normalizeLinkedInAccount(input.account);
    const get = (pathAndQuery: string) =>
      session.call(async (token) => {
        const headers = {
          authorization: `Bearer ${token}`,
          'LinkedIn-Version': API_VERSIONS.linkedin.version,
          'X-Restli-Protocol-Version': '2.0.0',
        };
        try {
          return (await this.http.send({ method: 'GET', url: `${this.apiBase}${pathAndQuery}`, headers }, checkLinkedInResponse, ctx)).body;
        } catch (error) {
          throw unnamedLimitAsDaily(error);
        }
      });

    const currency = parseBody(PROVIDER, accountSchema, await get(`/adAccounts/${accountId}`), 'ad account').currency;
    const names = await this.campaignNames(accountId, get);
    const maxDays = daysPerRequest(names.size, this.config.maxRowsPerRequest ?? 10_000);
    const cap = this.config.elementCap ?? LINKEDIN_ELEMENT_CAP;
    /** A slice whose answer reaches the cap may be missing rows: its halves are asked for instead, never a partial day stored. */
    const fetchSlice = async (slice: ReportWindow): Promise<unknown[]> => {
      const body = await get(`/adAnalytics?${adAnalyticsQuery(accountId, slice)}`);
      const { elements } = parseBody(PROVIDER, analyticsSchema, body, 'adAnalytics');
      if (elements.length < cap) return elements;
      if (windowDays(slice) === 1) {
        throw new PermanentError(PROVIDER, `adAnalytics returned ${elements.length} elements for ${slice.start}, its most per request: the day cannot be fetched completely`);
      }
      const halves = await Promise.all(halveWindow(slice).map(fetchSlice));
      return halves.flat();
    };
    // Slices run concurrently; the shared client's limit decides how many at once.
    const slices = await Promise.all(sliceWindow(input.window, maxDays).map(fetchSlice));
    const rows = slices.flat().map((item) => toRow(accountId, currency, names, item));
    return { rows, apiCalls: ctx.calls, credentials: session.renewedCredentials };
  }

  private async campaignNames(accountId: string, get: (pathAndQuery: string) => Promise<unknown>): Promise<Map<string, string>> {
    const names = new Map<string, string>();
    let pageToken: string | undefined;
    do {
      const tokenParam = pageToken ? `&pageToken=${encodeURIComponent(pageToken)}` : '';
      const body = await get(`/adAccounts/${accountId}/adCampaigns?q=search&pageSize=${this.config.campaignPageSize ?? 1000}${tokenParam}`);
      const page = parseBody(PROVIDER, campaignPageSchema, body, 'campaign search');
      for (const c of page.elements) names.set(String(c.id), c.name);
      pageToken = page.metadata?.nextPageToken;
    } while (pageToken);
    return names;
  }
}

function toRow(accountId: string, currency: string, names: Map<string, string>, item: unknown): MetricRow {
  const e = parseRecord(PROVIDER, elementSchema, item, 'adAnalytics element');
  const campaignUrn = e.pivotValues[0] ?? '';
  const campaignId = campaignUrn.replace(/^urn:li:sponsoredCampaign:/, '');
  const { year, month, day } = e.dateRange.start;
  const date = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  return checkedRow({
    kind: 'campaign-daily',
    provider: PROVIDER,
    accountId,
    campaignId,
    campaignName: names.get(campaignId) ?? '',
    date,
    impressions: e.impressions,
    clicks: e.clicks,
    spend: e.costInLocalCurrency,
    currency,
    conversions: e.externalWebsiteConversions,
  });
}

/** "urn:li:sponsoredAccount:123", "123" -> "123". */
export function normalizeLinkedInAccount(account: string): string {
  const id = account.trim().replace(/^urn:li:sponsoredAccount:/, '');
  if (!/^\d+$/.test(id)) throw new PermanentError(PROVIDER, 'ad account id must be digits or a sponsoredAccount URN', account);
  return id;
}
