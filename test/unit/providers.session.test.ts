import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthExpiredError } from '../../functions/src/providers/errors.js';
import type { RequestContext } from '../../functions/src/providers/http.js';
import { TokenSession } from '../../functions/src/providers/session.js';
import type { ProviderCredentials } from '../../functions/src/providers/types.js';

const ctx = (): RequestContext => ({ calls: 0 });
const creds = (over: Partial<ProviderCredentials> = {}): ProviderCredentials => ({ accessToken: 'old', refreshToken: 'r1', expiresAt: null, ...over });

/** A platform that accepts only the tokens in `valid`. */
function platform(valid: Set<string>) {
  const used: string[] = [];
  return {
    used,
    call: async (token: string) => {
      used.push(token);
      if (!valid.has(token)) throw new AuthExpiredError('google', 'rejected');
      return token;
    },
  };
}

describe('providers/session', () => {
  it('refreshes once on rejection, retries, and exposes the new credentials', async () => {
    let refreshes = 0;
    const session = new TokenSession('google', creds(), async () => ({ accessToken: `new${++refreshes}`, refreshToken: null, expiresAt: 1 }), ctx());
    const p = platform(new Set(['new1']));
    assert.equal(await session.call(p.call), 'new1');
    assert.deepStrictEqual(p.used, ['old', 'new1']);
    assert.equal(refreshes, 1);
    assert.deepStrictEqual(session.renewedCredentials, { accessToken: 'new1', refreshToken: 'r1', expiresAt: 1 });
  });

  it('shares one refresh among concurrent calls', async () => {
    let refreshes = 0;
    const session = new TokenSession('google', creds(), async () => {
      refreshes += 1;
      await new Promise((r) => setTimeout(r, 10));
      return { accessToken: 'new', refreshToken: 'r2', expiresAt: null };
    }, ctx());
    const p = platform(new Set(['new']));
    const results = await Promise.all([session.call(p.call), session.call(p.call), session.call(p.call)]);
    assert.deepStrictEqual(results, ['new', 'new', 'new']);
    assert.equal(refreshes, 1);
  });

  it('never refreshes twice: a rejected fresh token is final', async () => {
    let refreshes = 0;
    const session = new TokenSession('google', creds(), async () => ({ accessToken: `new${++refreshes}`, refreshToken: null, expiresAt: null }), ctx());
    const p = platform(new Set());
    await assert.rejects(session.call(p.call), AuthExpiredError);
    await assert.rejects(session.call(p.call), AuthExpiredError);
    assert.equal(refreshes, 1);
  });

  it('does not retry a refused refresh', async () => {
    let refreshes = 0;
    const session = new TokenSession('google', creds(), async () => {
      refreshes += 1;
      throw new AuthExpiredError('google', 'refresh refused: invalid_grant');
    }, ctx());
    const p = platform(new Set());
    await assert.rejects(session.call(p.call), /invalid_grant/);
    await assert.rejects(session.call(p.call), AuthExpiredError);
    assert.equal(refreshes, 1);
    assert.equal(session.renewedCredentials, undefined);
  });

  it('refreshes ahead of time when the stored token is about to expire', async () => {
    let refreshes = 0;
    const now = 1_000_000;
    const session = new TokenSession('google', creds({ expiresAt: now + 30_000 }), async () => ({ accessToken: `new${++refreshes}`, refreshToken: null, expiresAt: null }), ctx(), () => now);
    const p = platform(new Set(['new1']));
    await session.call(p.call);
    assert.deepStrictEqual(p.used, ['new1']);
  });

  it('without a refresh token a rejection is final at once', async () => {
    const session = new TokenSession('meta', creds({ refreshToken: null }), null, ctx());
    const p = platform(new Set());
    await assert.rejects(session.call(p.call), AuthExpiredError);
    assert.deepStrictEqual(p.used, ['old']);
  });
});
