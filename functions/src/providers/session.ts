import { AuthExpiredError } from './errors.js';
import type { RequestContext } from './http.js';
import type { ProviderCredentials, ProviderId } from './types.js';

/** Exchanges a refresh token for new credentials; throws AuthExpiredError when the platform refuses it. */
export type RefreshCredentials = (refreshToken: string, ctx: RequestContext) => Promise<ProviderCredentials>;

/** Refresh a little early: a token that expires mid-report would cost a failed request. */
const EXPIRY_MARGIN_MS = 60_000;

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
    const { accessToken, expiresAt } = this.current;
    if (expiresAt !== null && expiresAt <= this.now() + EXPIRY_MARGIN_MS && this.canRefresh()) {
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
