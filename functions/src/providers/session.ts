import { assertWindow } from './dates.js';
import { AuthExpiredError, PermanentError } from './errors.js';
import type { RequestContext } from './http.js';
import type { Connector, FetchReportInput, ProviderCredentials, ProviderId, ReportKind } from './types.js';

/** Exchanges a refresh token for new credentials; throws AuthExpiredError when the platform refuses it. */
export type RefreshCredentials = (refreshToken: string, ctx: RequestContext) => Promise<ProviderCredentials>;

/**
 * A token this close to its expiry is treated as expired: it is refreshed before a report's
 * first request, and the sync engine lets one report kind refresh it before the others
 * start. Five minutes is longer than a sync job may run (JOB_TIMEOUT_MS, 2 minutes by
 * default), so no request of a run meets a token that expired while the run went on; a
 * refresh a few minutes early costs one request the run would otherwise risk failing.
 */
export const TOKEN_EXPIRY_MARGIN_MS = 5 * 60_000;

/** Whether the access token is within TOKEN_EXPIRY_MARGIN_MS of its expiry (a null expiry never is). */
export function tokenExpiresSoon(credentials: Pick<ProviderCredentials, 'expiresAt'>, now = Date.now()): boolean {
  return credentials.expiresAt !== null && credentials.expiresAt - now < TOKEN_EXPIRY_MARGIN_MS;
}

/**
 * The opening every connector's fetchReport shares: the kind and the window are checked
 * before anything is sent, then the run gets its request context and token session.
 * `refresh` is null for a platform whose tokens are not refreshed (Meta); `signal` replaces
 * the caller's when the connector combines it with its own.
 */
export function openReportRun(
  connector: Pick<Connector, 'providerId' | 'reportKinds'>,
  kind: ReportKind,
  input: FetchReportInput,
  refresh: RefreshCredentials | null,
  signal: AbortSignal | undefined = input.signal,
): { ctx: RequestContext; session: TokenSession } {
  const provider = connector.providerId;
  if (!connector.reportKinds.includes(kind)) throw new PermanentError(provider, `report kind "${kind}" is not supported`);
  assertWindow(provider, input.window);
  const ctx: RequestContext = { calls: 0, signal, refresher: input.refresher };
  return { ctx, session: new TokenSession(provider, input.credentials, refresh, ctx) };
}

/**
 * The access token of one report run. A rejected token is refreshed at most once per run,
 * shared by concurrent requests; a second rejection, or a refused refresh, is final.
 */
export class TokenSession {
  private current: ProviderCredentials;
  private refreshed = false;
  /** Set before the refresh request: a refused refresh is never tried again in this run. */
  private refreshAttempted = false;
  private inflight: Promise<string> | null = null;

  constructor(
    private readonly provider: ProviderId,
    initial: ProviderCredentials,
    private readonly refresh: RefreshCredentials | null,
    private readonly ctx: RequestContext,
    private readonly now: () => number = Date.now,
  ) {
    this.current = initial;
  }

  /** The new credentials to store, when a refresh happened. */
  get renewedCredentials(): ProviderCredentials | undefined {
    return this.refreshed ? { ...this.current } : undefined;
  }

  async call<T>(run: (accessToken: string) => Promise<T>): Promise<T> {
    const token = await this.usableToken();
    try {
      return await run(token);
    } catch (error) {
      if (!(error instanceof AuthExpiredError)) throw error;
      return run(await this.renew(token, error));
    }
  }

  private async usableToken(): Promise<string> {
    if (this.inflight) return this.inflight;
    const { accessToken } = this.current;
    if (tokenExpiresSoon(this.current, this.now()) && this.canRefresh()) {
      return this.renew(accessToken, new AuthExpiredError(this.provider, 'access token expired'));
    }
    return accessToken;
  }

  private canRefresh(): boolean {
    return !this.refreshAttempted && this.refresh !== null && this.current.refreshToken !== null;
  }

  private async renew(staleToken: string, cause: AuthExpiredError): Promise<string> {
    if (this.inflight) return this.inflight;
    if (this.current.accessToken !== staleToken) return this.current.accessToken;
    const refreshToken = this.current.refreshToken;
    if (!this.canRefresh() || refreshToken === null || this.refresh === null) throw cause;
    const refresh = this.refresh;
    this.refreshAttempted = true;
    this.inflight = (async () => {
      const atPlatform = async () => {
        const next = await refresh(refreshToken, this.ctx);
        return { ...next, refreshToken: next.refreshToken ?? refreshToken };
      };
      // The caller's refresher may store the result at once, or hand back a refresh someone else made.
      this.current = this.ctx.refresher ? await this.ctx.refresher.refresh({ ...this.current }, atPlatform) : await atPlatform();
      this.refreshed = true;
      return this.current.accessToken;
    })().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }
}
