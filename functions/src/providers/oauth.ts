import { z } from 'zod';
import { AuthExpiredError, PermanentError, RateLimitedError, TransientError } from './errors.js';
import type { PlatformResponse, ProviderHttpClient, RequestContext } from './http.js';
import { parseBody } from './parse.js';
import { parseRetryAfter } from './limitSignals.js';
import type { ProviderCredentials, ProviderId } from './types.js';

export const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().optional(),
  refresh_token: z.string().min(1).optional(),
});

const oauthErrorSchema = z.object({ error: z.string(), error_description: z.string().optional() });

/** The RFC 6749 refresh errors that mean the grant is gone: the user has to reconnect. */
const DEAD_GRANT_ERRORS = new Set(['invalid_grant', 'invalid_request', 'unauthorized_client']);

export function checkTokenResponse(provider: ProviderId) {
  return (res: PlatformResponse): void => {
    if (res.status >= 200 && res.status < 300) return;
    if (res.status === 429) throw new RateLimitedError(provider, parseRetryAfter(res.headers.get('retry-after')) ?? 0);
    if (res.status >= 500) throw new TransientError(provider, `token endpoint answered HTTP ${res.status}`);
    const parsed = oauthErrorSchema.safeParse(res.body);
    const error = parsed.success ? parsed.data.error : `HTTP ${res.status}`;
    if (error === 'invalid_client') throw new PermanentError(provider, 'the OAuth client id or secret was rejected');
    if (DEAD_GRANT_ERRORS.has(error) || res.status === 400 || res.status === 401) {
      throw new AuthExpiredError(provider, `refresh refused: ${error}`);
    }
    throw new PermanentError(provider, `token endpoint answered ${error}`);
  };
}

/** The standard OAuth 2.0 refresh-token grant (Google, LinkedIn): a form POST answered with JSON. */
export async function refreshWithOAuth2(
  http: ProviderHttpClient,
  tokenUrl: string,
  client: { clientId: string; clientSecret: string },
  refreshToken: string,
  ctx: RequestContext,
): Promise<ProviderCredentials> {
  const body = new URLSearchParams({
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    client_id: client.clientId,
    client_secret: client.clientSecret,
  }).toString();
  const res = await http.send(
    { method: 'POST', url: tokenUrl, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body },
    checkTokenResponse(http.provider),
    ctx,
  );
  const token = parseBody(http.provider, tokenResponseSchema, res.body, 'token refresh');
  return {
    accessToken: token.access_token,
    refreshToken: token.refresh_token ?? refreshToken,
    expiresAt: token.expires_in !== undefined ? Date.now() + token.expires_in * 1000 : null,
  };
}
