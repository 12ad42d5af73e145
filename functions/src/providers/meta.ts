import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { halveWindow, sliceWindow, windowDays } from './dates.js';
import { AuthExpiredError, PermanentError, PermissionError, RateLimitedError, TransientError, formatWait } from './errors.js';
import { apiUrl, query } from './http.js';
import type { HttpPolicy, PlatformResponse, ProviderHttpClient, RequestContext, ResponseObserver } from './http.js';
import { checkedRow, numeric, parseBody, parseRecord } from './parse.js';
import type { RequestGate } from './requestGate.js';
import { parseMetaUsage, type UsageReading } from './limitSignals.js';
import { openReportRun, type TokenSession } from './session.js';
import { API_VERSIONS } from './versions.js';
import type { Connector, FetchReportInput, FetchReportResult, MetricRow, PendingReport, ReportKind, ReportWindow } from './types.js';

export interface MetaConfig {
  /** Default https://graph.facebook.com. */
  apiBaseUrl?: string;
  /** Rows per page, 1 to META_MAX_PAGE_SIZE. Default META_MAX_PAGE_SIZE. */
  pageSize?: number;
  /**
   * Days per synchronous request, per report kind. A longer window is cut into slices of this many days,
   * fetched in parallel (within the platform's concurrency limit). Defaults: DEFAULT_SLICE_DAYS.
   */
  sliceDays?: Partial<Record<ReportKind, number>>;
  /**
   * Windows longer than this many days run as one async report job instead of parallel slices.
   * Default: never (slices are used; a slice Meta finds too big is halved, then fetched as an async job).
   */
  asyncAfterDays?: number;
  /**
   * A slice Meta refuses as too heavy (too much data, request timed out) is halved while it is
   * longer than this many days; a slice this short that is still refused becomes an async job.
   * Default 7.
   */
  minSliceDays?: number;
  /** Between async job status polls. Default 2000 ms. */
  asyncPollIntervalMs?: number;
  /**
   * Status polls one run spends on an async report before it hands the report back as
   * `pending` for a later run of the job. Default 15 (about 30 s).
   */
  asyncInlinePolls?: number;
  /**
   * An async report not finished this long after its submission is submitted again (Meta:
   * "it can take up to an hour to complete a request including retry attempts"). Default 70 min.
   */
  asyncTimeoutMs?: number;
  /** A report Meta fails, skips or never finishes is submitted again this many times, then the sync fails. Default 2. */
  asyncResubmits?: number;
  /** Above this usage percentage every request waits for Meta's regain estimate. Default 90. */
  usageThresholdPct?: number;
  /** actions[].action_type values summed as conversions. Default: pixel purchases, leads, registrations, on-Facebook leads. */
  conversionActionTypes?: readonly string[];
  http?: Partial<HttpPolicy>;
}

const PROVIDER = 'meta';

const DEFAULT_CONVERSION_ACTIONS = [
  'offsite_conversion.fb_pixel_purchase',
  'offsite_conversion.fb_pixel_lead',
  'offsite_conversion.fb_pixel_complete_registration',
  'onsite_conversion.lead_grouped',
];

/** Meta's throttling codes: app, user, ad account and insights-specific limits. */
const RATE_LIMIT_CODES = new Set([4, 17, 32, 613]);
/** The business use case limits (800xx), the ad account's (613) and the user's (17): one connection's, not the app's. */
const isAccountLimitCode = (code: number) => code === 17 || code === 613 || (code >= 80000 && code <= 80014);
const isRateLimitCode = (code: number) => RATE_LIMIT_CODES.has(code) || isAccountLimitCode(code);

const AUTH_REASONS: Record<number, string> = {
  458: 'the app was removed',
  460: 'the password was changed',
  463: 'the token expired',
  467: 'the user logged out',
};

const BREAKDOWNS: Partial<Record<ReportKind, string>> = {
  demographics: 'age,gender',
  placement: 'publisher_platform,platform_position',
};

/**
 * The largest `limit` this connector sends. Meta does not publish a cap for /insights; 5,000 is the
 * largest page size that is widely accepted, and Meta's own data-per-call limit (code 100, subcode
 * 1487534) still guards the response size, which the connector answers with an async job.
 */
export const META_MAX_PAGE_SIZE = 5000;

/** Rows Meta returns per campaign and day: one, or one per segment (about 10-15 for these breakdowns). */
const ROWS_PER_CAMPAIGN_DAY: Readonly<Record<ReportKind, number>> = { 'campaign-daily': 1, demographics: 15, placement: 15 };
/** Slices are sized for accounts of up to this many campaigns; a bigger account's slice follows its cursor. */
const PLANNED_CAMPAIGNS = 8;

/**
 * Days per slice: a slice of an account with up to PLANNED_CAMPAIGNS campaigns fits one page of
 * META_MAX_PAGE_SIZE rows (campaign-daily 625 days, the breakdowns 41 days).
 */
export const DEFAULT_SLICE_DAYS: Readonly<Record<ReportKind, number>> = {
  'campaign-daily': sliceDaysFor('campaign-daily'),
  demographics: sliceDaysFor('demographics'),
  placement: sliceDaysFor('placement'),
};

function sliceDaysFor(kind: ReportKind): number {
  return Math.max(1, Math.floor(META_MAX_PAGE_SIZE / (PLANNED_CAMPAIGNS * ROWS_PER_CAMPAIGN_DAY[kind])));
}

/** Halving a refused slice stops here: a week Meta still finds too heavy is left to an async job. */
const DEFAULT_MIN_SLICE_DAYS = 7;
const DEFAULT_ASYNC_INLINE_POLLS = 15;
const DEFAULT_ASYNC_TIMEOUT_MS = 70 * 60_000;
const DEFAULT_ASYNC_RESUBMITS = 2;

/** What one report request works with: the account, report kind, token and request counter. */
interface ReportRun {
  accountId: string;
  kind: ReportKind;
  session: TokenSession;
  ctx: RequestContext;
}

/** Rows of the finished parts, and the parts Meta is still preparing. */
interface SliceResult {
  rows: MetricRow[];
  pending: PendingReport[];
}

type ReportOutcome = { state: 'done'; result: SliceResult } | { state: 'running' } | { state: 'ended'; reason: string };

const FIELDS = 'account_currency,campaign_id,campaign_name,date_start,date_stop,impressions,clicks,spend,actions';

/**
 * Meta refused a synchronous request as too heavy and suggests less data per call or an
 * async job: the connector halves the slice, then uses an async report.
 */
class MetaTooMuchDataError extends PermanentError {}

/**
 * Meta's ways of saying a synchronous insights request is too heavy.
 * - HTTP 500, code 1, no subcode, "Please reduce the amount of data you're asking for, then
 *   retry your request": facebook/facebook-python-business-sdk#470, singer-io/tap-facebook#65,
 *   and Airbyte source-facebook-marketing (streams/common.py), which matches it by message.
 * - 100 / 1504018 and 2 / 1504038, "Request Timed Out ... try a smaller date range, fetch
 *   less data, or use async jobs": Meta's "Ads Insights API Error Codes" page.
 * - 100 / 1487534, the same message as a parameter error (kept from earlier versions).
 */
function asksForLessData(code: number, subcode: number | undefined, message: string): boolean {
  if (code === 1) return /reduce the amount of data/i.test(message);
  if (code === 100) return subcode === 1487534 || subcode === 1504018;
  return code === 2 && subcode === 1504038;
}

/** Code 2 is usually a passing fault, but these subcodes name a request that can never work ("Ads Insights API Error Codes"). */
const PERMANENT_CODE_2_SUBCODES = new Set([1504041, 1504042]);

const metaErrorSchema = z.object({
  error: z.object({
    message: z.string().default(''),
    code: z.number(),
    error_subcode: z.number().optional(),
    is_transient: z.boolean().optional(),
  }),
});

export function checkMetaResponse(res: PlatformResponse): void {
  const parsed = metaErrorSchema.safeParse(res.body);
  if (res.status < 400 && !parsed.success) return;
  if (!parsed.success) {
    if (res.status >= 500) throw new TransientError(PROVIDER, `HTTP ${res.status}`);
    throw new PermanentError(PROVIDER, `HTTP ${res.status}`);
  }
  const { code, error_subcode: subcode, message, is_transient: isTransient } = parsed.data.error;
  if (code === 190 || code === 102) {
    throw new AuthExpiredError(PROVIDER, (subcode !== undefined && AUTH_REASONS[subcode]) || 'the token is no longer valid');
  }
  if (isRateLimitCode(code)) throw new RateLimitedError(PROVIDER, parseMetaUsage(res.headers)?.waitMs ?? 0, isAccountLimitCode(code) ? { scope: 'connection' } : {});
  if (code === 10 || (code >= 200 && code <= 299)) throw new PermissionError(PROVIDER, 'ads_read');
  if (asksForLessData(code, subcode, message)) throw new MetaTooMuchDataError(PROVIDER, message);
  if (code === 2 && subcode !== undefined && PERMANENT_CODE_2_SUBCODES.has(subcode)) throw new PermanentError(PROVIDER, `(#${code}/${subcode}) ${message}`);
  if (res.status >= 500 || code === 1 || code === 2 || isTransient) throw new TransientError(PROVIDER, `(#${code}) ${message}`);
  throw new PermanentError(PROVIDER, `(#${code}) ${message}`);
}

const insightRowSchema = z.object({
  account_currency: z.string(),
  campaign_id: z.string().min(1),
  campaign_name: z.string(),
  date_start: z.string(),
  date_stop: z.string(),
  impressions: numeric.default(0),
  clicks: numeric.default(0),
  spend: numeric.default(0),
  actions: z.array(z.object({ action_type: z.string(), value: numeric })).optional(),
  age: z.string().optional(),
  gender: z.string().optional(),
  publisher_platform: z.string().optional(),
  platform_position: z.string().optional(),
});
type InsightRow = z.infer<typeof insightRowSchema>;

const insightsPageSchema = z.object({
  data: z.array(z.unknown()),
  paging: z.object({ cursors: z.object({ after: z.string().optional() }).optional(), next: z.string().optional() }).optional(),
});
const reportRunSchema = z.object({ report_run_id: z.string().min(1) });
const reportStatusSchema = z.object({
  async_status: z.string(),
  async_percent_completion: z.number().optional(),
  // Default fields of a failed report from v25.0 on.
  error_code: z.number().optional(),
  error_subcode: z.number().optional(),
  error_message: z.string().optional(),
});
const REPORT_STATUS_FIELDS = 'async_status,async_percent_completion,error_code,error_subcode,error_message';

export class MetaConnector implements Connector {
  readonly providerId = PROVIDER;
  readonly reportKinds: readonly ReportKind[] = ['campaign-daily', 'demographics', 'placement'];
  private readonly base: string;
  private readonly conversionActions: ReadonlySet<string>;
  private readonly pageSize: number;
  private readonly minSliceDays: number;

  constructor(
    private readonly config: MetaConfig,
    private readonly http: ProviderHttpClient,
  ) {
    this.base = apiUrl(config.apiBaseUrl, 'https://graph.facebook.com', `/${API_VERSIONS.meta.version}`);
    this.conversionActions = new Set(config.conversionActionTypes ?? DEFAULT_CONVERSION_ACTIONS);
    this.pageSize = config.pageSize ?? META_MAX_PAGE_SIZE;
    this.minSliceDays = config.minSliceDays ?? DEFAULT_MIN_SLICE_DAYS;
    if (!Number.isInteger(this.minSliceDays) || this.minSliceDays < 1) {
      throw new RangeError(`Meta minSliceDays must be a positive integer, got ${this.minSliceDays}`);
    }
    if (!Number.isInteger(this.pageSize) || this.pageSize < 1 || this.pageSize > META_MAX_PAGE_SIZE) {
      throw new RangeError(`Meta pageSize must be an integer from 1 to ${META_MAX_PAGE_SIZE}, got ${this.pageSize}`);
    }
  }

  /**
   * Meta's usage headers: from `slowDownPct` on, the pace eases off (so the limit is
   * approached, not hit); above the threshold requests pause for as long as Meta estimates.
   * The app's usage paces every Meta request; an ad account's or its business's paces that
   * account only, so one busy account does not hold up the others.
   */
  static observeUsage(thresholdPct: number, slowDownPct = thresholdPct - 5): ResponseObserver {
    return (res, client, ctx) => {
      const usage = parseMetaUsage(res.headers);
      if (!usage) return;
      const readings: [UsageReading, RequestGate][] = [
        [usage.app, client.gate],
        [usage.account, ctx.accountGate ?? client.gate],
      ];
      for (const [reading, gate] of readings) {
        if (reading.maxPct >= slowDownPct) gate.slowDown();
        // A success near the limit slows down (at least one base delay); it is not a throttle, so no
        // rate-limit floor applies: "0 minutes to regain access" on a 200 means not throttled.
        if (reading.maxPct >= thresholdPct) gate.pauseFor(Math.min(Math.max(reading.waitMs, client.policy.baseDelayMs), client.policy.maxRateLimitWaitMs));
      }
    };
  }

  async fetchReport(kind: ReportKind, input: FetchReportInput): Promise<FetchReportResult> {
    // One failed slice stops the others: their rows would be thrown away anyway.
    const stop = new AbortController();
    const signal = input.signal ? AbortSignal.any([input.signal, stop.signal]) : stop.signal;
    // Meta's long-lived tokens are not refreshed: a rejected one ends the run.
    const { ctx, session } = openReportRun(this, kind, input, null, signal);
    const accountId = normalizeMetaAccount(input.account);
    // Meta also limits per ad account and business: this account's usage slows this account only.
    ctx.accountGate = this.http.gate.account(accountId);
    const run: ReportRun = { accountId, kind, session, ctx };

    let parts: Promise<SliceResult>[];
    if (input.pending && input.pending.length > 0) {
      parts = input.pending.map((report) => this.resumeAsync(run, report));
    } else if (windowDays(input.window) > (this.config.asyncAfterDays ?? Number.POSITIVE_INFINITY)) {
      parts = [this.fetchAsync(run, input.window)];
    } else {
      parts = sliceWindow(input.window, this.sliceDays(kind)).map((slice) => this.fetchSlice(run, slice));
    }
    const results = await Promise.all(parts).catch((error: unknown) => {
      // Promise.all rejects with the first failure; the aborted siblings' rejections are ignored.
      stop.abort();
      throw error;
    });
    const pending = results.flatMap((r) => r.pending);
    return { rows: results.flatMap((r) => r.rows), apiCalls: ctx.calls, ...(pending.length > 0 ? { pending } : {}) };
  }

  private sliceDays(kind: ReportKind): number {
    const days = this.config.sliceDays?.[kind] ?? DEFAULT_SLICE_DAYS[kind];
    if (!Number.isInteger(days) || days < 1) throw new PermanentError(PROVIDER, `sliceDays for ${kind} must be a positive integer, got ${days}`);
    return days;
  }

  private convert(run: ReportRun, raw: unknown[]): SliceResult {
    return { rows: raw.map((item) => this.toRow(run.kind, run.accountId, item)), pending: [] };
  }

  /**
   * One slice as synchronous pages. When Meta finds it too heavy, its halves are fetched the
   * same way, down to minSliceDays; a short slice Meta still refuses becomes an async job.
   */
  private async fetchSlice(run: ReportRun, slice: ReportWindow): Promise<SliceResult> {
    try {
      // Each slice converts its rows as soon as it is done, while the others are still in flight.
      return this.convert(run, await this.fetchPages(`/act_${run.accountId}/insights`, this.reportParams(run.kind, slice), run));
    } catch (error) {
      if (!(error instanceof MetaTooMuchDataError)) throw error;
      if (windowDays(slice) <= this.minSliceDays) return this.fetchAsync(run, slice);
      const halves = await Promise.all(halveWindow(slice).map((half) => this.fetchSlice(run, half)));
      return { rows: halves.flatMap((h) => h.rows), pending: halves.flatMap((h) => h.pending) };
    }
  }

  private reportParams(kind: ReportKind, window: ReportWindow): Record<string, string | undefined> {
    return {
      level: 'campaign',
      time_increment: '1',
      time_range: JSON.stringify({ since: window.start, until: window.end }),
      fields: FIELDS,
      breakdowns: BREAKDOWNS[kind],
    };
  }

  private async get(path: string, params: Record<string, string | undefined>, run: ReportRun) {
    return run.session.call(async (token) => {
      const url = `${this.base}${path}?${query({ ...params, access_token: token })}`;
      return (await this.http.send({ method: 'GET', url }, checkMetaResponse, run.ctx)).body;
    });
  }

  /** Follows the after cursor until Meta stops sending paging.next. */
  private async fetchPages(path: string, params: Record<string, string | undefined>, run: ReportRun) {
    const rows: unknown[] = [];
    let after: string | undefined;
    do {
      const body = await this.get(path, { ...params, limit: String(this.pageSize), after }, run);
      const page = parseBody(PROVIDER, insightsPageSchema, body, 'insights');
      rows.push(...page.data);
      after = page.paging?.next ? page.paging.cursors?.after : undefined;
    } while (after);
    return rows;
  }

  /** Big requests: submit a report job, then wait for it as long as one run may. */
  private async fetchAsync(run: ReportRun, window: ReportWindow, submissions = 1): Promise<SliceResult> {
    const submitted = await run.session.call(async (token) => {
      const res = await this.http.send(
        {
          method: 'POST',
          url: `${this.base}/act_${run.accountId}/insights`,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: query({ ...this.reportParams(run.kind, window), access_token: token }),
        },
        checkMetaResponse,
        run.ctx,
      );
      return parseBody(PROVIDER, reportRunSchema, res.body, 'async report');
    });
    const report: PendingReport = { kind: run.kind, window, reportRunId: submitted.report_run_id, submittedAt: Date.now(), submissions };
    const outcome = await this.awaitReport(run, report);
    // In the run that submitted it, a report Meta gives up on fails the sync: the job's retry submits it afresh.
    if (outcome.state === 'ended') throw new TransientError(PROVIDER, outcome.reason);
    return outcome.state === 'done' ? outcome.result : { rows: [], pending: [report] };
  }

  /**
   * A report an earlier run handed back: wait for it again; one Meta failed, skipped or never
   * finished is submitted again, up to asyncResubmits times.
   */
  private async resumeAsync(run: ReportRun, report: PendingReport): Promise<SliceResult> {
    const timeoutMs = this.config.asyncTimeoutMs ?? DEFAULT_ASYNC_TIMEOUT_MS;
    const outcome = await this.awaitReport(run, report);
    if (outcome.state === 'done') return outcome.result;
    const overdue = Date.now() - report.submittedAt > timeoutMs;
    if (outcome.state === 'running' && !overdue) return { rows: [], pending: [report] };
    const reason = outcome.state === 'ended' ? outcome.reason : `report job ${report.reportRunId} did not finish within ${formatWait(timeoutMs)}`;
    if (report.submissions > (this.config.asyncResubmits ?? DEFAULT_ASYNC_RESUBMITS)) {
      throw new PermanentError(PROVIDER, `Meta could not prepare the report after ${report.submissions} tries: ${reason}`, `${run.kind} ${report.window.start}..${report.window.end}`);
    }
    return this.fetchAsync(run, report.window, report.submissions + 1);
  }

  /** Polls a report up to asyncInlinePolls times; once complete, pages through its result. */
  private async awaitReport(run: ReportRun, report: PendingReport): Promise<ReportOutcome> {
    const polls = this.config.asyncInlinePolls ?? DEFAULT_ASYNC_INLINE_POLLS;
    for (let poll = 1; ; poll++) {
      const body = await this.get(`/${report.reportRunId}`, { fields: REPORT_STATUS_FIELDS }, run);
      const status = parseBody(PROVIDER, reportStatusSchema, body, 'async report status');
      if (status.async_status === 'Job Completed') {
        return { state: 'done', result: this.convert(run, await this.fetchPages(`/${report.reportRunId}/insights`, {}, run)) };
      }
      if (status.async_status === 'Job Failed' || status.async_status === 'Job Skipped') {
        const reason = status.error_code !== undefined ? ` (#${status.error_code}/${status.error_subcode ?? '-'} ${status.error_message ?? ''})`.trimEnd() : '';
        return { state: 'ended', reason: `report job ${report.reportRunId} ended as "${status.async_status}"${reason}` };
      }
      if (poll >= polls) return { state: 'running' };
      await sleep(this.config.asyncPollIntervalMs ?? 2000, undefined, { signal: run.ctx.signal });
    }
  }

  private toRow(kind: ReportKind, accountId: string, item: unknown): MetricRow {
    const record = describeRecord(item);
    const r: InsightRow = parseRecord(PROVIDER, insightRowSchema, item, record);
    if (r.date_start !== r.date_stop) throw new PermanentError(PROVIDER, 'row spans more than one day', record);
    const conversions = (r.actions ?? []).reduce((sum, a) => (this.conversionActions.has(a.action_type) ? sum + a.value : sum), 0);
    const common = {
      provider: PROVIDER,
      accountId,
      campaignId: r.campaign_id,
      campaignName: r.campaign_name,
      date: r.date_start,
      impressions: r.impressions,
      clicks: r.clicks,
      spend: r.spend,
      currency: r.account_currency,
      conversions,
    } as const;
    if (kind === 'demographics') {
      return checkedRow({ ...common, kind, breakdown: { age: r.age ?? '', gender: r.gender ?? '' } });
    }
    if (kind === 'placement') {
      return checkedRow({
        ...common,
        kind,
        breakdown: { publisherPlatform: r.publisher_platform ?? '', platformPosition: r.platform_position ?? '' },
      });
    }
    return checkedRow({ ...common, kind: 'campaign-daily' });
  }
}

function describeRecord(item: unknown): string {
  const o = typeof item === 'object' && item !== null ? (item as Record<string, unknown>) : {};
  return `campaign ${String(o.campaign_id ?? '?')} on ${String(o.date_start ?? '?')}`;
}

/** "act_123", "123" -> "123". */
export function normalizeMetaAccount(account: string): string {
  const id = account.trim().replace(/^act_/, '');
  if (!/^\d+$/.test(id)) throw new PermanentError(PROVIDER, `ad account id must be digits, optionally prefixed with act_`, account);
  return id;
}
