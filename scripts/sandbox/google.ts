import { randomBytes } from 'node:crypto';
import { accountProfile, dayTotals, eachDate } from './data.js';
import { bearer, field, formBody, isIsoDate, jsonBody } from './platform.js';
import type { PlatformSim, SimContext, SimReply, SimRequest } from './platform.js';

const FAILURE_TYPE = 'type.googleapis.com/google.ads.googleads.v23.errors.GoogleAdsFailure';

/** GAQL field -> JSON path of the result (camelCase, as the REST interface answers). */
const FIELDS: Record<string, [string, string]> = {
  'customer.id': ['customer', 'id'],
  'customer.currency_code': ['customer', 'currencyCode'],
  'campaign.id': ['campaign', 'id'],
  'campaign.name': ['campaign', 'name'],
  'campaign.resource_name': ['campaign', 'resourceName'],
  'segments.date': ['segments', 'date'],
  'metrics.impressions': ['metrics', 'impressions'],
  'metrics.clicks': ['metrics', 'clicks'],
  'metrics.cost_micros': ['metrics', 'costMicros'],
  'metrics.conversions': ['metrics', 'conversions'],
};

class QueryError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function failure(httpStatus: number, status: string, message: string, errors: Array<Record<string, unknown>>): SimReply {
  const requestId = randomBytes(11).toString('base64url');
  // searchStream reports errors inside the stream's JSON array.
  return { status: httpStatus, body: [{ error: { code: httpStatus, message, status, details: [{ '@type': FAILURE_TYPE, errors, requestId }] } }] };
}

interface ParsedQuery {
  fields: string[];
  start: string;
  end: string;
}

/** Enough GAQL for campaign reports: SELECT list, FROM campaign, a date range in WHERE. */
export function parseGaql(query: string): ParsedQuery {
  const m = /^\s*SELECT\s+([\s\S]+?)\s+FROM\s+(\w+)(?:\s+WHERE\s+([\s\S]+?))?(?:\s+ORDER\s+BY\s+([\s\S]+?))?(?:\s+LIMIT\s+\d+)?\s*$/i.exec(query);
  if (!m) throw new QueryError('UNEXPECTED_END_OF_QUERY', `Error in query: unexpected input ${query.slice(0, 40)}`);
  const fields = (m[1] ?? '').split(',').map((f) => f.trim());
  const unknown = fields.find((f) => !(f in FIELDS));
  if (unknown !== undefined) throw new QueryError('UNRECOGNIZED_FIELD', `Unrecognized field in the query: '${unknown}'.`);
  if (m[2] !== 'campaign') throw new QueryError('INVALID_RESOURCE_NAME_IN_FROM_CLAUSE', `The sandbox serves FROM campaign, got '${m[2]}'.`);
  const where = m[3] ?? '';
  const between = /segments\.date\s+BETWEEN\s+'([^']*)'\s+AND\s+'([^']*)'/i.exec(where);
  const bounds = between ?? /segments\.date\s*>=\s*'([^']*)'\s+AND\s+segments\.date\s*<=\s*'([^']*)'/i.exec(where);
  if (!bounds) throw new QueryError('EXPECTED_FILTERS_ON_DATE_RANGE', 'A finite date range on segments.date is required.');
  const [, start = '', end = ''] = bounds;
  if (!isIsoDate(start) || !isIsoDate(end)) throw new QueryError('BAD_DATE_FORMAT', `Invalid date in segments.date filter: '${start}', '${end}'.`);
  if (start > end) throw new QueryError('INVALID_VALUE_WITH_BETWEEN_OPERATOR', 'The first date of BETWEEN must not be after the second.');
  return { fields, start, end };
}

function searchStream(req: SimRequest, ctx: SimContext, customerId: string): SimReply {
  if (!req.headers['developer-token']) {
    return failure(401, 'UNAUTHENTICATED', 'The developer token is missing.', [{ errorCode: { authenticationError: 'DEVELOPER_TOKEN_PARAMETER_MISSING' }, message: 'developer-token header is missing.' }]);
  }
  const login = req.headers['login-customer-id'];
  if (login !== undefined && !/^\d{10}$/.test(String(login))) {
    return failure(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.', [{ errorCode: { requestError: 'INVALID_CUSTOMER_ID' }, message: 'login-customer-id must be 10 digits.' }]);
  }
  // A client account the user reaches through a manager needs that manager in login-customer-id
  // (Google Ads API AuthorizationError.USER_PERMISSION_DENIED; the message as googleads/google-ads-mcp#1 quotes it).
  const manager = ctx.state.googleManagers.get(customerId);
  if (manager !== undefined && login !== manager) {
    return failure(403, 'PERMISSION_DENIED', "The caller does not have permission", [
      {
        errorCode: { authorizationError: 'USER_PERMISSION_DENIED' },
        message: "User doesn't have permission to access customer. Note: If you're accessing a client customer, the manager's customer id must be set in the 'login-customer-id' header. See https://developers.google.com/google-ads/api/docs/concepts/call-structure#cid",
      },
    ]);
  }
  const body = jsonBody(req);
  let q: ParsedQuery;
  try {
    q = parseGaql(typeof body?.query === 'string' ? body.query : '');
  } catch (error) {
    if (!(error instanceof QueryError)) throw error;
    return failure(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.', [{ errorCode: { queryError: error.code }, message: error.message }]);
  }
  const profile = accountProfile('google', customerId);
  const results: Array<Record<string, Record<string, unknown>>> = [];
  for (const date of eachDate(q.start, q.end)) {
    for (const c of profile.campaigns) {
      const t = dayTotals(profile, c, date);
      if (!t) continue;
      const values: Record<string, unknown> = {
        'customer.id': customerId,
        'customer.currency_code': profile.currency,
        'campaign.id': c.id,
        'campaign.name': c.name,
        'campaign.resource_name': `customers/${customerId}/campaigns/${c.id}`,
        'segments.date': date,
        // int64 travels as a string; proto3 JSON omits zero values.
        'metrics.impressions': t.impressions ? String(t.impressions) : undefined,
        'metrics.clicks': t.clicks ? String(t.clicks) : undefined,
        'metrics.cost_micros': t.spendCents ? String(t.spendCents * 10_000) : undefined,
        'metrics.conversions': t.conversions || undefined,
      };
      const row: Record<string, Record<string, unknown>> = {};
      for (const f of q.fields) {
        const [resource, key] = FIELDS[f] as [string, string];
        const target = (row[resource] ??= {});
        if (resource === 'campaign') target.resourceName = `customers/${customerId}/campaigns/${c.id}`;
        if (resource === 'customer') target.resourceName = `customers/${customerId}`;
        if (values[f] !== undefined) target[key] = values[f];
      }
      results.push(row);
    }
  }
  const fieldMask = q.fields.map((f) => (FIELDS[f] as [string, string]).join('.')).join(',');
  const requestId = randomBytes(11).toString('base64url');
  const size = ctx.options.googleBatchSize;
  const batches: unknown[] = [];
  for (let i = 0; i < results.length; i += size) batches.push({ results: results.slice(i, i + size), fieldMask, requestId });
  if (batches.length === 0) batches.push({ fieldMask, requestId });
  return { status: 200, body: batches };
}

function token(req: SimRequest, ctx: SimContext): SimReply {
  const form = formBody(req);
  if (form.get('grant_type') !== 'refresh_token') return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'Invalid grant_type.' } };
  if (!form.get('client_id') || !form.get('client_secret')) return { status: 401, body: { error: 'invalid_client', error_description: 'The OAuth client was not found.' } };
  if (!ctx.state.refreshTokenUsable('google', form.get('refresh_token'))) {
    return { status: 400, body: { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' } };
  }
  const issued = ctx.state.issue('google', 3599);
  return { status: 200, body: { access_token: issued.accessToken, expires_in: 3599, scope: 'https://www.googleapis.com/auth/adwords', token_type: 'Bearer' } };
}

export function createGoogleSim(): PlatformSim {
  return {
    provider: 'google',
    isAuthEndpoint: (req) => req.path === '/token',
    accessToken: bearer,
    serverError: () => failure(503, 'UNAVAILABLE', 'The service is currently unavailable.', [{ errorCode: { internalError: 'TRANSIENT_ERROR' }, message: 'Try again.' }]),
    rateLimited: (_req, seconds) =>
      failure(429, 'RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).', [
        {
          errorCode: { quotaError: 'RESOURCE_TEMPORARILY_EXHAUSTED' },
          message: 'Too many requests. Retry in the time the retryDelay says.',
          details: { quotaErrorDetails: { rateScope: 'DEVELOPER', rateName: 'Number of operations for basic access', retryDelay: `${seconds}s` } },
        },
      ]),
    authFailed: (_req, problem) =>
      failure(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.', [
        { errorCode: { authenticationError: problem === 'revoked' ? 'OAUTH_TOKEN_REVOKED' : problem === 'expired' ? 'OAUTH_TOKEN_EXPIRED' : 'OAUTH_TOKEN_INVALID' }, message: 'Authentication failed.' },
      ]),
    invalid: () => failure(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.', [{ errorCode: { queryError: 'PROHIBITED_FIELD_IN_SELECT_CLAUSE' }, message: 'The query was refused.' }]),
    // searchStream errors come as the stream's first element, the others as an object.
    errorCode: (reply) => {
      const body: unknown = Array.isArray(reply.body) ? reply.body[0] : reply.body;
      const error = field(body, 'error');
      const code = field(error, 'status') ?? (typeof error === 'string' ? error : undefined);
      return code === undefined ? null : String(code);
    },
    async handle(req, ctx) {
      if (req.path === '/token' && req.method === 'POST') return token(req, ctx);
      const m = /^\/v\d+\/customers\/([^/]+)\/googleAds:searchStream$/.exec(req.path);
      if (m && req.method === 'POST') {
        const cid = m[1] ?? '';
        if (!/^\d{10}$/.test(cid)) {
          return failure(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.', [{ errorCode: { requestError: 'INVALID_CUSTOMER_ID' }, message: `Invalid customer ID '${cid}'.` }]);
        }
        return searchStream(req, ctx, cid);
      }
      return { status: 404, body: { error: { code: 404, message: `Method not found: ${req.method} ${req.path}`, status: 'NOT_FOUND' } } };
    },
  };
}
