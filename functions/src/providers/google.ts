import { z } from 'zod';
import { AuthExpiredError, PermanentError, PermissionError, RateLimitedError, TransientError, providerMessages } from './errors.js';
import { apiUrl } from './http.js';
import type { HttpPolicy, PlatformResponse, ProviderHttpClient } from './http.js';
import { refreshWithOAuth2 } from './oauth.js';
import { checkedRow, numeric, parseBody, parseRecord } from './parse.js';
import { parseDuration, parseRetryAfter } from './limitSignals.js';
import { openReportRun } from './session.js';
import { API_VERSIONS } from './versions.js';
import type { Connector, FetchReportInput, FetchReportResult, MetricRow, ReportKind, ReportWindow } from './types.js';

export interface GoogleAdsConfig {
  /** Default https://googleads.googleapis.com. */
  apiBaseUrl?: string;
  /** Default https://oauth2.googleapis.com. */
  oauthBaseUrl?: string;
  developerToken: string;
  clientId: string;
  clientSecret: string;
  /**
   * The manager account access goes through, 10 digits, for connections that name none of
   * their own (FetchReportInput.loginCustomerId); omitted for direct access.
   */
  loginCustomerId?: string;
  http?: Partial<HttpPolicy>;
}

const PROVIDER = 'google';

const googleFailureSchema = z.object({
  errors: z
    .array(
      z.object({
        errorCode: z.record(z.string(), z.unknown()).optional(),
        message: z.string().optional(),
        details: z.object({ quotaErrorDetails: z.object({ retryDelay: z.string().optional() }).optional() }).optional(),
      }),
    )
    .default([]),
});
const googleErrorSchema = z.object({
  error: z.object({
    code: z.number().optional(),
    message: z.string().default(''),
    status: z.string().optional(),
    details: z.array(z.unknown()).default([]),
  }),
});
type GoogleError = z.infer<typeof googleErrorSchema>['error'];

/** searchStream may fail before the stream starts (an object) or inside it (an array element). */
function findError(body: unknown): GoogleError | null {
  const candidates = Array.isArray(body) ? body : [body];
  for (const candidate of candidates) {
    const parsed = googleErrorSchema.safeParse(candidate);
    if (parsed.success) return parsed.data.error;
  }
  return null;
}

function failures(error: GoogleError) {
  return error.details.flatMap((d) => {
    const parsed = googleFailureSchema.safeParse(d);
    return parsed.success ? parsed.data.errors : [];
  });
}

function errorCodeValue(error: GoogleError, family: string): string | null {
  for (const f of failures(error)) {
    const v = f.errorCode?.[family];
    if (typeof v === 'string') return v;
  }
  return null;
}

export function checkGoogleResponse(res: PlatformResponse): void {
  const error = findError(res.body);
  if (res.status < 400 && !error) return;
  const status = error?.status ?? '';
  const detail = error ? `${status || `HTTP ${res.status}`}: ${failures(error)[0]?.message ?? error.message}` : `HTTP ${res.status}`;
  if (res.status === 401 || status === 'UNAUTHENTICATED') {
    throw new AuthExpiredError(PROVIDER, (error && errorCodeValue(error, 'authenticationError')) ?? 'access token rejected');
  }
  if (res.status === 429 || status === 'RESOURCE_EXHAUSTED') {
    const retryDelay = error ? failures(error).map((f) => parseDuration(f.details?.quotaErrorDetails?.retryDelay)).find((v) => v !== null) : null;
    throw new RateLimitedError(PROVIDER, retryDelay ?? parseRetryAfter(res.headers.get('retry-after')) ?? 0);
  }
  if (res.status === 403 || status === 'PERMISSION_DENIED') {
    const code = error && errorCodeValue(error, 'authorizationError');
    if (code === 'USER_PERMISSION_DENIED') {
      throw new PermissionError(PROVIDER, 'login-customer-id', providerMessages.managerRequired(PROVIDER));
    }
    throw new PermissionError(
      PROVIDER,
      code === 'DEVELOPER_TOKEN_NOT_APPROVED' ? 'approved developer token' : code ? `customer access (${code})` : 'adwords',
    );
  }
  if (res.status >= 500 || ['UNAVAILABLE', 'INTERNAL', 'DEADLINE_EXCEEDED', 'ABORTED'].includes(status)) {
    throw new TransientError(PROVIDER, detail);
  }
  throw new PermanentError(PROVIDER, detail);
}

const batchSchema = z.object({ results: z.array(z.unknown()).default([]) });
const streamSchema = z.array(batchSchema);

// proto3 JSON leaves out zero values, so every metric defaults to 0.
const resultSchema = z.object({
  customer: z.object({ currencyCode: z.string() }),
  campaign: z.object({ id: z.string().min(1), name: z.string().default('') }),
  segments: z.object({ date: z.string() }),
  metrics: z
    .object({
      impressions: numeric.default(0),
      clicks: numeric.default(0),
      costMicros: numeric.default(0),
      conversions: numeric.default(0),
    })
    .default({ impressions: 0, clicks: 0, costMicros: 0, conversions: 0 }),
});

export function campaignDailyQuery(window: ReportWindow): string {
  return [
    'SELECT customer.currency_code, campaign.id, campaign.name, segments.date,',
    'metrics.impressions, metrics.clicks, metrics.cost_micros, metrics.conversions',
    `FROM campaign WHERE segments.date BETWEEN '${window.start}' AND '${window.end}'`,
    'ORDER BY segments.date ASC',
  ].join(' ');
}

export class GoogleAdsConnector implements Connector {
  readonly providerId = PROVIDER;
  readonly reportKinds: readonly ReportKind[] = ['campaign-daily'];
  private readonly apiBase: string;
  private readonly tokenUrl: string;

  constructor(
    private readonly config: GoogleAdsConfig,
    private readonly http: ProviderHttpClient,
  ) {
    this.apiBase = apiUrl(config.apiBaseUrl, 'https://googleads.googleapis.com', `/${API_VERSIONS.google.version}`);
    this.tokenUrl = apiUrl(config.oauthBaseUrl, 'https://oauth2.googleapis.com', '/token');
  }

  async fetchReport(kind: ReportKind, input: FetchReportInput): Promise<FetchReportResult> {
    const { ctx, session } = openReportRun(this, kind, input, (refreshToken, c) => refreshWithOAuth2(this.http, this.tokenUrl, this.config, refreshToken, c));
    const customerId = normalizeCustomerId(input.account);
    const manager = input.loginCustomerId ?? this.config.loginCustomerId;
    const loginCustomerId = manager ? normalizeCustomerId(manager) : null;
    // searchStream returns the whole window in one response, however many rows.
    const body = await session.call(async (token) => {
      const headers: Record<string, string> = {
        authorization: `Bearer ${token}`,
        'developer-token': this.config.developerToken,
        'content-type': 'application/json',
      };
      if (loginCustomerId) headers['login-customer-id'] = loginCustomerId;
      const res = await this.http.send(
        {
          method: 'POST',
          url: `${this.apiBase}/customers/${customerId}/googleAds:searchStream`,
          headers,
          body: JSON.stringify({ query: campaignDailyQuery(input.window) }),
        },
        checkGoogleResponse,
        ctx,
      );
      return res.body;
    });
    const batches = parseBody(PROVIDER, streamSchema, body, 'searchStream');
    const rows = batches.flatMap((b) => b.results).map((item) => toRow(customerId, item));
    return { rows, apiCalls: ctx.calls, credentials: session.renewedCredentials };
  }
}

function toRow(customerId: string, item: unknown): MetricRow {
  const o = typeof item === 'object' && item !== null ? (item as Record<string, Record<string, unknown> | undefined>) : {};
  const record = `campaign ${String(o.campaign?.id ?? '?')} on ${String(o.segments?.date ?? '?')}`;
  const r = parseRecord(PROVIDER, resultSchema, item, record);
  return checkedRow({
    kind: 'campaign-daily',
    provider: PROVIDER,
    accountId: customerId,
    campaignId: r.campaign.id,
    campaignName: r.campaign.name,
    date: r.segments.date,
    impressions: r.metrics.impressions,
    clicks: r.metrics.clicks,
    spend: r.metrics.costMicros / 1_000_000,
    currency: r.customer.currencyCode,
    conversions: r.metrics.conversions,
  });
}

/** "123-456-7890" -> "1234567890". */
export function normalizeCustomerId(account: string): string {
  const id = account.trim().replace(/-/g, '');
  if (!/^\d{10}$/.test(id)) throw new PermanentError(PROVIDER, 'customer id must be 10 digits', account);
  return id;
}
